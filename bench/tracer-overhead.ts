// Overhead of the Python tracer: the same workload under plain `python` and under
// `inferscope run` (calls: all and user), interleaved round by round; per configuration the
// median over rounds of (traced work time / plain work time, same round), and the cost per
// recorded call. Not a test: prints a Markdown table for docs/benchmarks.md.
//
// The "outside a window" rows run with `--capture manual` and never open a capture window: what
// recording costs while it is switched off (target, issue 18: ≤ 2 % over plain).
//
// --clock cpu compares the work's thread CPU time instead of its wall time: on a machine shared
// with other work (load far above the core count) wall time mostly measures the neighbours.
//
//   bun bench/tracer-overhead.ts [--rounds 7] [--python python3,python3.12,...] [--modes all,outside] [--clock wall|cpu]
import { readFileSync, readdirSync, rmSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { benchEnv, median, option as opt } from "./lib.ts";

const ROOT = join(import.meta.dir, "..");
const SCRIPT = join(ROOT, "bench/tracer-overhead.py");
const ROUNDS = Number(opt("rounds", "7"));
const CLOCK = opt("clock", "wall") === "cpu" ? "cpu_ns" : "work_ns";
// Tracer variants: the C hot path (default) and the pure-Python fallback.
const ALL_MODES = [
  { label: "all", calls: "all", pure: false, flags: [] as string[] },
  { label: "user", calls: "user", pure: false, flags: [] as string[] },
  { label: "all, pure Python", calls: "all", pure: true, flags: [] as string[] },
  { label: "all, outside a window", calls: "all", pure: false, flags: ["--capture", "manual"] },
  { label: "all, pure Python, outside a window", calls: "all", pure: true, flags: ["--capture", "manual"] },
];
// --modes picks rows by label prefix: "outside" → the two outside-a-window rows.
const pick = opt("modes", "");
const MODES = pick ? ALL_MODES.filter((m) => pick.split(",").some((p) => (p === "outside" ? m.label.endsWith("outside a window") : m.label === p))) : ALL_MODES;

function works(python: string, version: string): boolean {
  const r = Bun.spawnSync([python, "-c", `import sys; assert sys.version_info[:2] == (${version.replace(".", ",")})`], { stdout: "ignore", stderr: "ignore" });
  return r.exitCode === 0;
}

function findPythons(): string[] {
  const given = opt("python", "");
  if (given) return given.split(",");
  const out = ["python3"];
  for (const v of ["3.12", "3.13"]) {
    const r = Bun.spawnSync(["sh", "-c", `command -v python${v}; ls -d /root/.pyenv/versions/${v}.*/bin/python3 2>/dev/null`], { stdout: "pipe" });
    const found = r.stdout.toString().trim().split("\n").filter(Boolean).find((p) => works(p, v));
    if (found) out.push(found);
  }
  return out;
}

const env = benchEnv();

interface Sample {
  workNs: number;
  calls?: number;
  backend?: string;
}

function plain(python: string, workload: string): Sample {
  const r = Bun.spawnSync([python, SCRIPT, workload], { env, stdout: "pipe", stderr: "inherit" });
  if (r.exitCode !== 0) throw new Error(`${python} ${workload} failed`);
  return { workNs: JSON.parse(r.stdout.toString())[CLOCK] };
}

function traced(python: string, workload: string, calls: string, pure: boolean, flags: string[]): Sample {
  const out = mkdtempSync(join(tmpdir(), "inferscope-bench-"));
  try {
    const r = Bun.spawnSync(
      [process.execPath, join(ROOT, "src/main.ts"), "run", "--quiet", "--output-dir", out, "--formats", "json", "--python", python, "--python-calls", calls, ...flags, SCRIPT, workload],
      { env: pure ? { ...env, _INFERSCOPE_PURE_PYTHON: "1" } : env, stdout: "pipe", stderr: "inherit" },
    );
    if (r.exitCode !== 0) throw new Error(`inferscope run ${python} ${workload} failed`);
    const dir = join(out, readdirSync(out)[0]!);
    const trace = JSON.parse(readFileSync(join(dir, "trace.json"), "utf8"));
    return { workNs: JSON.parse(r.stdout.toString())[CLOCK], calls: trace.inferscope.pythonTracer.events, backend: trace.inferscope.pythonTracer.backend };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}


const rows: string[] = [];
for (const python of findPythons()) {
  const version = Bun.spawnSync([python, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"], { stdout: "pipe" }).stdout.toString().trim();
  for (const workload of ["heavy", "light"]) {
    const base: number[] = [];
    const res = MODES.map(() => ({ ratio: [] as number[], extra: [] as number[], calls: 0, backend: "" }));
    plain(python, workload); // warm the page cache
    for (let round = 0; round < ROUNDS; round++) {
      // Interleaved: every configuration once per round, so drift hits them all alike; the order
      // rotates from round to round, so none always runs first (or right after a report write).
      const order = [-1, ...MODES.map((_, i) => i)];
      const rot = round % order.length;
      const samples = new Map<number, Sample>();
      for (const i of [...order.slice(rot), ...order.slice(0, rot)]) {
        samples.set(i, i < 0 ? plain(python, workload) : traced(python, workload, MODES[i]!.calls, MODES[i]!.pure, MODES[i]!.flags));
      }
      const p = samples.get(-1)!;
      base.push(p.workNs);
      MODES.forEach((_, i) => {
        const t = samples.get(i)!;
        res[i]!.ratio.push(t.workNs / p.workNs);
        res[i]!.extra.push(t.workNs - p.workNs);
        res[i]!.calls = t.calls ?? 0;
        res[i]!.backend = t.backend ?? "";
      });
    }
    MODES.forEach((m, i) => {
      const r = res[i]!;
      const perCall = r.calls ? median(r.extra) / r.calls : NaN;
      const show = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : "–");
      rows.push(
        `| ${version} | ${r.backend} | ${workload} | ${m.label} | ${(median(base) / 1e6).toFixed(1)} | ${median(r.ratio).toFixed(2)}× | ${r.calls.toLocaleString("en-US")} | ${workload === "heavy" ? show(perCall) : "–"} | ${workload === "heavy" ? show(perCall / 2) : "–"} |`,
      );
      console.error(rows[rows.length - 1]);
    });
  }
}
console.log(`Rounds: ${ROUNDS}, interleaved; figures are medians; ${CLOCK === "cpu_ns" ? "thread CPU time" : "wall time"} of the work.\n`);
console.log("| Python | tracer | workload | calls | plain work ms | traced / plain | calls recorded | ns per call | ns per event |");
console.log("|---|---|---|---|---:|---:|---:|---:|---:|");
for (const r of rows) console.log(r);
