// Start-up time of the compiled binary: `dist/inferscope --version`, 20 runs after 3 warm-ups,
// median and spread. Run: `npx bun bench/startup.ts` (after `npx bun run build`).
import { join } from "node:path";

const bin = join(import.meta.dir, "../dist/inferscope");
const runs = Number(process.argv[2] ?? 20);
function once(args: string[]): number {
  const t0 = performance.now();
  const r = Bun.spawnSync([bin, ...args], { cwd: "/", stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${bin} ${args.join(" ")} failed: ${r.stderr}`);
  return performance.now() - t0;
}
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)] as number, min: s[0] as number, max: s[s.length - 1] as number };
};
const cases = [["--version"], ["config", "show"], ["doctor", "--json"]];
const times = new Map(cases.map((c) => [c.join(" "), [] as number[]]));
for (let i = 0; i < 3; i++) for (const c of cases) once(c);
// Interleaved: one run of each case per round.
for (let i = 0; i < runs; i++) for (const c of cases) times.get(c.join(" "))?.push(once(c));
console.log(`| command | median ms | min | max | runs |\n|---|---|---|---|---|`);
for (const [name, xs] of times) {
  const s = stats(xs);
  console.log(`| \`inferscope ${name}\` | ${s.median.toFixed(1)} | ${s.min.toFixed(1)} | ${s.max.toFixed(1)} | ${xs.length} |`);
}
