// What the single binary's size is made of, and what the ways to shrink it would cost: the same
// src/main.ts compiled with and without --bytecode and --minify (sizes, gzip -9 of each), and
// the start-up of the with/without-bytecode pair measured side by side (interleaved, medians).
// Run: `npx bun bench/binary-size.ts [rounds]` (after `npx bun run build`; ~1 min).
import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileBinary } from "../tools/compile.ts";
import { hostTarget } from "../tools/targets.ts";

const root = join(import.meta.dir, "..");
const rounds = Number(process.argv[2] ?? 15);
const runtime = statSync(process.execPath).size; // the Bun runtime every binary starts from
const dir = mkdtempSync(join(tmpdir(), "inferscope-size-"));
const shim = join(root, "build/libinferscope.so");

const variants = [
  { name: "--bytecode --minify (shipped)", bytecode: true, minify: true },
  { name: "--minify", bytecode: false, minify: true },
  { name: "--bytecode", bytecode: true, minify: false },
];
const bins: Record<string, string> = {};
console.log(`Bun runtime (${process.execPath}): ${(runtime / 1e6).toFixed(1)} MB\n`);
console.log("| build | binary MB | InferScope's part MB | gzip -9 MB |\n|---|---|---|---|");
for (const v of variants) {
  const out = join(dir, v.name.replace(/\W+/g, "_"));
  await compileBinary(root, hostTarget(), shim, out, { bytecode: v.bytecode, minify: v.minify });
  bins[v.name] = out;
  const size = statSync(out).size;
  const gz = Bun.gzipSync(await Bun.file(out).bytes(), { level: 9 }).length;
  console.log(`| \`${v.name}\` | ${(size / 1e6).toFixed(1)} | ${((size - runtime) / 1e6).toFixed(2)} | ${(gz / 1e6).toFixed(1)} |`);
}

const once = (bin: string, args: string[]) => {
  const t0 = performance.now();
  const r = Bun.spawnSync([bin, ...args], { cwd: "/", stdout: "ignore", stderr: "ignore" });
  if (r.exitCode !== 0) throw new Error(`${bin} ${args.join(" ")} failed`);
  return performance.now() - t0;
};
const pair = [variants[0]!.name, variants[1]!.name];
const cases = [["--version"], ["config", "show"]];
const times = new Map<string, number[]>();
for (let i = 0; i < rounds + 3; i++) {
  for (const c of cases) {
    for (const name of pair) {
      const ms = once(bins[name]!, c);
      if (i >= 3) times.set(`${c.join(" ")}|${name}`, [...(times.get(`${c.join(" ")}|${name}`) ?? []), ms]);
    }
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
console.log(`\n| command | ${pair.map((p) => `\`${p}\` ms`).join(" | ")} | ratio |\n|---|---|---|---|`);
for (const c of cases) {
  const [a, b] = pair.map((p) => median(times.get(`${c.join(" ")}|${p}`)!));
  console.log(`| \`inferscope ${c.join(" ")}\` | ${a!.toFixed(1)} | ${b!.toFixed(1)} | ${(b! / a!).toFixed(2)} |`);
}
