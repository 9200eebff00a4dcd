// Peak memory of InferScope whatever the input's size: `analyze` on replicated real traces
// (bench/trace-gen.ts, gzipped: 30 M events are ~6.6 GB of JSON) and `run` on a script making N
// Python calls (--trace-size-mb 1 --buffer spill: every call reaches InferScope). The figure is
// InferScope's own peak RSS (VmHWM, which it logs with --verbose), from the compiled binary.
//
//   npx bun run build && npx bun bench/memory.ts [--analyze 1000000,10000000,30000000] [--run 1000000,10000000] [--dir /tmp/inferscope-bench]
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generate } from "./trace-gen.ts";

const ROOT = join(import.meta.dir, "..");
const BIN = join(ROOT, "dist/inferscope");

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : dflt;
}
const sizes = (s: string) => (s ? s.split(",").map(Number) : []);

interface Measured {
  seconds: number;
  peakMb: number;
  kept: string;
}

/** `report`: the JSON report analyze wrote (its warnings say what was kept); run says it on stderr. */
function measure(cmd: string[], cwd: string, report?: string): Measured {
  const t = performance.now();
  const r = Bun.spawnSync(cmd, { cwd, stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
  const seconds = (performance.now() - t) / 1000;
  const err = r.stderr.toString();
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed (${r.exitCode}): ${err.slice(-500)}`);
  const peak = /peak memory of this process: (\d+) MB/.exec(err);
  const said = report ? (JSON.parse(readFileSync(report, "utf8")) as { warnings: string[] }).warnings.join("\n") : err;
  const window = /covers its first ([\d.]+ s) \(([\d,]+) events\)/.exec(said);
  return { seconds, peakMb: peak ? Number(peak[1]) : NaN, kept: window ? `first ${window[1]}: ${window[2]}` : "all" };
}

const dir = arg("dir", "/tmp/inferscope-bench");
mkdirSync(dir, { recursive: true });
const rows: string[] = [];
for (const n of sizes(arg("analyze", "1000000,10000000,30000000"))) {
  const path = join(dir, `llama-x${n}.json.gz`);
  if (!existsSync(path)) await generate(n, path);
  const report = join(dir, "report.json");
  rmSync(report, { force: true });
  const m = measure([BIN, "analyze", path, "-o", report, "--verbose"], dir, report);
  rows.push(`| analyze (.json.gz) | ${n.toLocaleString("en-US")} events | ${m.kept} | ${m.peakMb} | ${m.seconds.toFixed(0)} |`);
  console.error(rows[rows.length - 1]);
}
for (const n of sizes(arg("run", "1000000,10000000"))) {
  const work = join(dir, `run-${n}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, "calls.py"), `def f(x):\n    return x + 1\n\ns = 0\nfor i in range(${n}):\n    s = f(s)\n`);
  const m = measure([BIN, "run", "--verbose", "--trace-size-mb", "1", "--buffer", "spill", "calls.py"], work);
  rows.push(`| run (md, html, json, trace.json) | ${n.toLocaleString("en-US")} calls | ${m.kept} | ${m.peakMb} | ${m.seconds.toFixed(0)} |`);
  console.error(rows[rows.length - 1]);
  rmSync(work, { recursive: true, force: true });
}
console.log("| command | input | analyzed | peak RSS MB | wall s |");
console.log("|---|---|---|---:|---:|");
for (const r of rows) console.log(r);
