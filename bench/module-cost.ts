// What seeing every nn.Module call costs, on CPU torch workloads (bench/module_cost.py: a
// ResNet-50-like CNN, a decode loop of 16 tokens with a KV cache, 200 tiny Linear+ReLU pairs):
//   - InferScope's module recording: under `inferscope run` (Python calls recorded, as by
//     default), steps alternate between torch's own nn.Module.__call__ and InferScope's wrapper;
//   - torch's global forward hooks (a pre-hook and a hook that do nothing), the other way to see
//     every module call: plain python, steps alternating without / with them.
// Steps alternate inside one process (a loaded, shared box varies more between processes than
// within one); per process the median b step over the median a step; over rounds the median of
// those ratios: the cost as a share of the step. On a busy box that share moves by more than the
// cost of a few hundred module calls, so each process also times a module that does nothing,
// alternating loops without and with (the fastest loop of each: a busy machine only adds): the ns
// a module call costs, and that × the calls per step over the fastest step, the cost it implies.
// Not a test: prints a Markdown table for docs/benchmarks.md.
//
//   bun bench/module-cost.ts [--rounds 5] [--steps 10] [--workloads resnet50,decode,small] [--python /work/venv-torch/bin/python]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { benchEnv, median, option as opt } from "./lib.ts";

const ROOT = join(import.meta.dir, "..");
const SCRIPT = join(ROOT, "bench/module_cost.py");
const ROUNDS = Number(opt("rounds", "5"));
const STEPS = opt("steps", "10");
const PYTHON = opt("python", "/work/venv-torch/bin/python");
const WORKLOADS = opt("workloads", "resnet50,decode,small").split(",");

const env = benchEnv();

interface Result {
  a_ns: number[];
  b_ns: number[];
  module_calls: number;
  call_a_ns: number;
  call_b_ns: number;
}

function once(compare: "hooks" | "modules", workload: string): Result {
  const args = [SCRIPT, workload, STEPS, "--compare", compare];
  if (compare === "hooks") {
    const r = Bun.spawnSync([PYTHON, ...args], { env, stdout: "pipe", stderr: "inherit" });
    if (r.exitCode !== 0) throw new Error(`${PYTHON} ${args.join(" ")} failed`);
    return JSON.parse(r.stdout.toString());
  }
  const out = mkdtempSync(join(tmpdir(), "inferscope-bench-"));
  try {
    const r = Bun.spawnSync(
      [process.execPath, join(ROOT, "src/main.ts"), "run", "--quiet", "--no-trace", "--output-dir", out, "--formats", "json", "--python", PYTHON, ...args],
      { env, stdout: "pipe", stderr: "inherit" },
    );
    if (r.exitCode !== 0) throw new Error(`inferscope run ${args.join(" ")} failed`);
    return JSON.parse(r.stdout.toString());
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const rows: string[] = [];
for (const w of WORKLOADS) {
  const ratio = { hooks: [] as number[], modules: [] as number[] };
  const callNs = { hooks: [] as number[], modules: [] as number[] };
  const implied = { hooks: [] as number[], modules: [] as number[] };
  const base = { hooks: [] as number[], modules: [] as number[] };
  let calls = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const line: string[] = [];
    for (const c of ["hooks", "modules"] as const) {
      const res = once(c, w);
      calls = res.module_calls;
      const a = median(res.a_ns);
      const b = median(res.b_ns);
      const perCall = res.call_b_ns - res.call_a_ns;
      ratio[c].push(b / a);
      callNs[c].push(perCall);
      implied[c].push((perCall * calls) / Math.min(...res.a_ns));
      base[c].push(a);
      line.push(`${c}: ${(a / 1e6).toFixed(2)} → ${(b / 1e6).toFixed(2)} ms, ${res.call_a_ns.toFixed(0)} → ${res.call_b_ns.toFixed(0)} ns per call`);
    }
    process.stderr.write(`${w} round ${round + 1}: ${line.join("; ")}\n`);
  }
  const ms = (xs: number[]) => (median(xs) / 1e6).toFixed(2);
  const share = (xs: number[]) => `${((median(xs) - 1) * 100).toFixed(1)} %`;
  const pctOf = (xs: number[]) => `${(median(xs) * 100).toFixed(2)} %`;
  const ns = (xs: number[]) => median(xs).toFixed(0);
  rows.push(
    `| ${w} | ${calls} | ${ms(base.hooks)} | ${share(ratio.hooks)} | ${ns(callNs.hooks)} | ${pctOf(implied.hooks)} | ${ms(base.modules)} | ${share(ratio.modules)} | ${ns(callNs.modules)} | ${pctOf(implied.modules)} |`,
  );
}
console.log(`Rounds: ${ROUNDS}, ${STEPS} steps of each kind per process, alternating; python ${PYTHON}.\n`);
console.log(
  "| workload | module calls per step | plain step ms | global hooks: step cost (medians) | ns per call | implied step cost | traced step ms (--no-modules) | modules: step cost (medians) | ns per call | implied step cost |",
);
console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const r of rows) console.log(r);
