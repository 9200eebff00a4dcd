// Cost and verdict on the CPU examples (examples/cpu/): each script under plain python,
// `inferscope run` with its defaults, torch.profiler (CPU activity) and py-spy, interleaved
// round by round; medians of the per-round ratios to the plain run of the same round.
// Not a test: prints a Markdown table for docs/benchmarks.md.
//
//   bun bench/cpu-overhead.ts [--rounds 3] [--python /work/venv-torch/bin/python] [--only cnn_resize,...]
//                             [--inferscope dist/inferscope] [--baseline OLD_BINARY] [--extra "--no-trace"]
//                             [--skip torch.profiler,py-spy] [--variant "--op-shapes"]
//
// --baseline adds another InferScope binary (an older build) as a column of its own, run in the
// same rounds; --variant adds the same binary with those options instead (e.g. the cost of
// --op-shapes next to the defaults). Wall ratios on a loaded machine are noisy; the CPU column (user + system time of
// the whole process tree, InferScope's included) is steadier. Trace size is given per 10 s of
// the plain run's CPU time (on an idle machine a CPU-bound script's wall time).
//
// Needs torch in that Python and py-spy next to it (pip install torch py-spy); a tool that is
// missing is left out of the table, saying so.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";

const ROOT = join(import.meta.dir, "..");
const argv = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : dflt;
};
const ROUNDS = Number(opt("rounds", "3"));
const PYTHON = opt("python", process.env.VIRTUAL_ENV ? join(process.env.VIRTUAL_ENV, "bin/python") : "python3");
const INFERSCOPE = opt("inferscope", join(ROOT, "dist/inferscope"));
const BASELINE = opt("baseline", "");
const EXTRA = opt("extra", "").split(" ").filter(Boolean);
const VARIANT = opt("variant", "").split(" ").filter(Boolean);
/** The second InferScope column: an older binary (--baseline) or this one with --variant's options. */
const SECOND = BASELINE !== "" || VARIANT.length > 0;
const SECOND_LABEL = BASELINE ? "before" : `with ${VARIANT.join(" ")}`;
const SCRIPTS = ["tokenize_generate", "cnn_resize", "dataloader_workers", "threadpool_server", "asyncio_batching"].filter(
  (s) => !opt("only", "") || opt("only", "").split(",").includes(s),
);
const PYSPY = join(dirname(PYTHON), "py-spy");

const env: Record<string, string> = {};
for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("INFERSCOPE_")) env[k] = v;
env.NO_COLOR = "1";
env.PATH = `${dirname(PYTHON)}:${env.PATH ?? ""}`;

interface Run {
  wallMs: number;
  cpuMs: number;
  workMs: number;
  workCpuMs: number;
  bytes: number;
  verdict?: string;
}

function dirSize(p: string): number {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.size;
  let n = 0;
  for (const f of readdirSync(p)) n += dirSize(join(p, f));
  return n;
}

/** `produced`: a file whose existence makes a non-zero exit acceptable (py-spy here exits 1 with
 * "No child process" after writing its profile: it reaps its child through a path that races). */
function spawn(cmd: string[], cwd: string, produced?: string): Omit<Run, "bytes"> & { stderr: string } {
  const t0 = Bun.nanoseconds();
  const r = Bun.spawnSync(cmd, { env, cwd, stdout: "ignore", stderr: "pipe" });
  const wallMs = (Bun.nanoseconds() - t0) / 1e6;
  const stderr = r.stderr.toString();
  if (r.exitCode !== 0 && !(produced && existsSync(produced))) throw new Error(`${cmd.join(" ")} failed (${r.exitCode}):\n${stderr.slice(-2000)}`);
  const m = /work_ms=([\d.]+) work_cpu_ms=([\d.]+)/.exec(stderr);
  if (!m) throw new Error(`${cmd.join(" ")}: no work_ms line\n${stderr.slice(-2000)}`);
  const ru = r.resourceUsage;
  const cpuMs = ru ? Number(ru.cpuTime.user + ru.cpuTime.system) / 1e3 : NaN;
  return { wallMs, cpuMs, workMs: Number(m[1]), workCpuMs: Number(m[2]), stderr };
}

type Tool = "plain" | "inferscope" | "before" | "torch.profiler" | "py-spy";

function run(tool: Tool, script: string): Run {
  const path = join(ROOT, "examples/cpu", `${script}.py`);
  const cwd = join(ROOT, "examples/cpu");
  const out = mkdtempSync(join(tmpdir(), "inferscope-cpu-bench-"));
  try {
    if (tool === "plain") return { ...spawn([PYTHON, path], cwd), bytes: 0 };
    if (tool === "torch.profiler") {
      const r = spawn([PYTHON, join(ROOT, "bench/torch_profile.py"), "--cpu", join(out, "trace.json"), path], cwd);
      return { ...r, bytes: dirSize(out) };
    }
    if (tool === "py-spy") {
      const profile = join(out, "profile.json");
      const r = spawn([PYSPY, "record", "--subprocesses", "-f", "speedscope", "-o", profile, "--", PYTHON, path], cwd, profile);
      return { ...r, bytes: dirSize(out) };
    }
    const r = spawn([tool === "before" ? BASELINE || INFERSCOPE : INFERSCOPE, "run", "--output-dir", out, "--python", PYTHON, ...EXTRA, ...(tool === "before" ? VARIANT : []), path], cwd);
    const dir = join(out, readdirSync(out)[0]!);
    let bytes = 0;
    for (const f of readdirSync(dir)) if (f.startsWith("trace.")) bytes += statSync(join(dir, f)).size;
    let verdict = "";
    if (existsSync(join(dir, "report.json"))) {
      const rep = JSON.parse(readFileSync(join(dir, "report.json"), "utf8"));
      const top = rep.cpu?.top_functions?.[0]?.function ?? "–";
      verdict = `${rep.bottleneck.classification} ${rep.bottleneck.confidence}; top: ${top}; findings: ${rep.findings.map((f: { rule: string }) => f.rule).join(", ") || "none"}`;
    }
    return { ...r, bytes, verdict };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const SKIP = opt("skip", "").split(",").filter(Boolean);
const tools: Tool[] = (["plain", "inferscope", ...(SECOND ? (["before"] as Tool[]) : []), "torch.profiler", "py-spy"] as Tool[]).filter((t) => !SKIP.includes(t));
const notes: string[] = SKIP.length ? [`${SKIP.join(", ")} skipped (--skip)`] : [];
if (tools.includes("py-spy") && !existsSync(PYSPY)) {
  tools.splice(tools.indexOf("py-spy"), 1);
  notes.push(`py-spy not found next to ${PYTHON}: left out`);
}
if (Bun.spawnSync([PYTHON, "-c", "import torch"], { env }).exitCode !== 0) {
  console.error(`${PYTHON} cannot import torch: pip install torch (and py-spy) into it, or pass --python`);
  process.exit(2);
}
const version = Bun.spawnSync([PYTHON, "-c", "import sys, torch; print('%d.%d.%d' % sys.version_info[:3], torch.__version__)"], { env, stdout: "pipe" }).stdout.toString().trim();

const rows: string[] = [];
const verdicts: string[] = [];
const direct: string[] = []; // the second InferScope column against the first, per script
for (const script of SCRIPTS) {
  const res = new Map<Tool, Run[]>(tools.map((t) => [t, []]));
  run("plain", script); // warm the page cache
  for (let round = 0; round < ROUNDS; round++) {
    for (const t of tools) {
      const r = run(t, script);
      res.get(t)!.push(r);
      console.error(`${script} round ${round + 1} ${t}: wall ${r.wallMs.toFixed(0)} ms, cpu ${r.cpuMs.toFixed(0)} ms, work ${r.workMs} ms, ${(r.bytes / 1e6).toFixed(1)} MB ${r.verdict ?? ""}`);
    }
  }
  const plain = res.get("plain")!;
  const ratio = (t: Tool, key: "wallMs" | "workMs" | "cpuMs") => median(res.get(t)!.map((r, i) => r[key] / plain[i]![key]));
  const mbPer10s = (t: Tool) => median(res.get(t)!.map((r, i) => r.bytes / 1e6 / (plain[i]!.cpuMs / 1e4)));
  const cell = (t: Tool, key: "wallMs" | "workMs" | "cpuMs") => (res.has(t) ? `${ratio(t, key).toFixed(2)}×` : "–");
  const size = (t: Tool) => (res.has(t) ? mbPer10s(t).toFixed(1) : "–");
  const mb = (t: Tool) => (res.has(t) ? (median(res.get(t)!.map((r) => r.bytes)) / 1e6).toFixed(1) : "–");
  const before = SECOND ? ` ${cell("before", "wallMs")} | ${cell("before", "workMs")} | ${cell("before", "cpuMs")} | ${mb("before")} |` : "";
  rows.push(
    `| ${script} | ${(median(plain.map((r) => r.wallMs)) / 1e3).toFixed(2)} | ${(median(plain.map((r) => r.cpuMs)) / 1e3).toFixed(2)} | ${(median(plain.map((r) => r.workMs)) / 1e3).toFixed(2)} | ${cell("inferscope", "wallMs")} | ${cell("inferscope", "workMs")} | ${cell("inferscope", "cpuMs")} | ${mb("inferscope")} | ${size("inferscope")} |${before} ${cell("torch.profiler", "wallMs")} | ${cell("torch.profiler", "workMs")} | ${cell("torch.profiler", "cpuMs")} | ${cell("py-spy", "wallMs")} | ${cell("py-spy", "workMs")} | ${cell("py-spy", "cpuMs")} |`,
  );
  if (SECOND) {
    const vs = (key: "wallMs" | "workMs" | "cpuMs") => median(res.get("before")!.map((r, i) => r[key] / res.get("inferscope")![i]![key])).toFixed(2);
    direct.push(`- \`${script}\`: ${SECOND_LABEL} / defaults, same round: wall ${vs("wallMs")}×, work ${vs("workMs")}×, CPU ${vs("cpuMs")}×`);
  }
  verdicts.push(`- \`${script}\`: ${res.get("inferscope")!.at(-1)?.verdict ?? ""}${SECOND ? `; ${SECOND_LABEL}: ${res.get("before")!.at(-1)?.verdict ?? ""}` : ""}`);
}
console.log(`Python ${version}; ${ROUNDS} rounds, interleaved; ratios are medians of same-round ratios to plain.${notes.length ? ` ${notes.join("; ")}.` : ""}${EXTRA.length ? ` inferscope run ${EXTRA.join(" ")}.` : ""}\n`);
const beforeHead = SECOND ? ` ${SECOND_LABEL}: wall | work | CPU | trace MB |` : "";
const beforeSep = SECOND ? "---:|---:|---:|---:|" : "";
console.log(`| script | plain wall s | plain CPU s | plain work s | inferscope wall | work | CPU | trace MB | MB per 10 s of CPU |${beforeHead} torch.profiler wall | work | CPU | py-spy wall | work | CPU |`);
console.log(`|---|---:|---:|---:|---:|---:|---:|---:|---:|${beforeSep}---:|---:|---:|---:|---:|---:|`);
for (const r of rows) console.log(r);
if (direct.length) console.log(`\n${direct.join("\n")}`);
console.log("\nVerdicts (last round):\n");
for (const v of verdicts) console.log(v);
void basename;
