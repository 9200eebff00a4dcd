// `inferscope run [options] script.py [args…]` / `inferscope run [options] -m module [args…]`:
// start the script under the tracer, sample the process from here, then build the trace, write
// it and the reports into the run directory. The exit code is the script's.
import { defineCommand } from "citty";
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { extname, join, resolve } from "node:path";
import { assembleTrace } from "../collect/assemble.ts";
import { runChild } from "../collect/child.ts";
import { childEnv, childEnvPlain, tracerOptions } from "../collect/child-env.ts";
import { extractRuntime } from "../collect/extract.ts";
import { collectGpu, planGpu, type GpuPlan } from "../collect/gpu.ts";
import { Native } from "../collect/native.ts";
import { readProcesses } from "../collect/processes.ts";
import { awaitDescendants } from "../collect/proc-tree.ts";
import { pciNumaNode, Sampler } from "../collect/sampler.ts";
import { CaptureSignals } from "../collect/capture-signals.ts";
import { createSession, type Session } from "../collect/session.ts";
import { signalExitCode, SignalRelay, type RelayedSignal } from "../collect/signals.ts";
import type { Config } from "../config/keys.ts";
import { resolveConfig } from "../config/resolve.ts";
import { fail } from "../errors.ts";
import { levelFromFlags, log, setLogLevel } from "../log.ts";
import { type MergeResult, mergeTrace } from "../merge/index.ts";
import type { Trace } from "../trace/model.ts";
import { REPORT_EXTENSIONS, REPORT_FORMATS, orList, type ReportFormat } from "../report/formats.ts";
import { writeTrace } from "../trace/writer.ts";
import { VERSION } from "../version.ts";
import type { RulesConfig } from "../rules/file.ts";
import { loadRulesOption } from "./analyze-command.ts";
import { configArgs, flagsFromArgs } from "./config-flags.ts";

/** How long the script's traced children may outlive it before their trace files are read. */
const DESCENDANTS_WAIT_MS = 2000;

function checkReportPath(path: string, force: boolean): ReportFormat {
  const fmt = REPORT_EXTENSIONS[extname(path).toLowerCase()];
  if (!fmt) fail(`--report ${path}: unknown report format "${extname(path) || "(no extension)"}"; use a ${orList(REPORT_FORMATS.map((f) => `.${f}`))} path`);
  if (existsSync(path) && !force) fail(`--report ${path} already exists; pass --force to overwrite it, or choose another path`);
  return fmt;
}

async function writeReports(
  trace: Trace,
  merge: MergeResult,
  session: Session,
  config: Config,
  extra: { path: string; format: ReportFormat } | null,
  tracePath: string | null,
  rules: RulesConfig | null,
): Promise<{ written: string[]; summary: string }> {
  // Loaded once the script has ended: the analysis and the templates are not needed before.
  const [{ analysisContext, buildReport }, { renderReport }, { terminalSummary }] = await Promise.all([
    import("../analyze/index.ts"),
    import("../report/render.ts"),
    import("../report/terminal.ts"),
  ]);
  const analysis = analysisContext(trace, config.top, merge, config.window);
  const report = buildReport(analysis, tracePath ?? session.dir, rules);
  const targets = config.formats.map((f) => ({ path: join(session.dir, `report.${f}`), format: f }));
  if (extra) targets.push(extra);
  const written: string[] = [];
  for (const t of targets) {
    writeFileSync(t.path, renderReport(report, t.format, analysis));
    written.push(t.path);
  }
  return { written, summary: terminalSummary(report) };
}

/** A signal while the reports are written: remove what is half-written, say what is kept. */
function abortReports(session: Session, sig: RelayedSignal): void {
  rmSync(session.rawDir, { recursive: true, force: true });
  let kept: string[] = [];
  try {
    for (const f of readdirSync(session.dir)) if (/\.tmp-\d+$/.test(f)) rmSync(join(session.dir, f), { force: true });
    kept = readdirSync(session.dir);
  } catch {
    // the directory is gone: nothing to keep
  }
  process.stderr.write(`inferscope: ${sig} while writing the reports: stopped; ${kept.length ? `kept ${kept.join(", ")} in ${session.dir}` : "nothing was written"}\n`);
}

/** What only a run knows, for the trace's metadata block: how the Python tracer and the sampler did. */
function runMetadata(trace: Trace): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (trace.meta.pythonTracer) out.pythonTracer = trace.meta.pythonTracer;
  if (trace.meta.sampler) out.sampler = trace.meta.sampler;
  if (trace.meta.capture) out.capture = trace.meta.capture;
  if (trace.meta.captureWindows) out.captureWindows = trace.meta.captureWindows;
  return out;
}

export const runCommand = defineCommand({
  meta: { name: "run", description: "Profile a Python script: inferscope run [options] script.py [args…] | -m module [args…]" },
  args: {
    ...configArgs(),
    report: { type: "string", description: "Also write the report to PATH (format from the extension: .md, .html, .json)" },
    force: { type: "boolean", description: "Overwrite an existing --report file" },
    rules: { type: "string", description: "Rules file (default: $INFERSCOPE_RULES, else .inferscope_rules.yaml in cwd or the git root)" },
    gzip: { type: "boolean", description: "Write the trace as trace.json.gz" },
    "keep-raw": { type: "boolean", description: "Keep the collectors' raw files (raw/) in the run directory" },
    module: { type: "boolean", alias: "m", description: "Run a module: inferscope run -m package.module [args…]" },
    quiet: { type: "boolean", description: "Only errors on stderr" },
    verbose: { type: "boolean", description: "Debug logs; stack traces on internal errors" },
  },
  async run({ args }) {
    const a = args as Record<string, unknown> & { _: string[] };
    const { config } = resolveConfig({ flags: flagsFromArgs(a) });
    setLogLevel(levelFromFlags({ quiet: a.quiet === true, verbose: a.verbose === true }, config.logLevel));
    const positional = a._ ?? [];
    const target = positional[0];
    const module = a.module === true || a.m === true;
    if (!target) fail(module ? "-m needs a module name: inferscope run -m package.module [args…]" : "run needs a script: inferscope run script.py [args…] (or -m module)");
    const scriptArgs = positional.slice(1);
    const pyArgv = [config.python, ...(module ? ["-m"] : []), target, ...scriptArgs];
    const command = ["python", ...(module ? ["-m"] : []), target, ...scriptArgs];

    if (!module) {
      if (!existsSync(target)) fail(`${target}: no such file; pass the path of a Python script (or -m module)`);
      if (statSync(target).isDirectory() && !existsSync(join(target, "__main__.py"))) fail(`${target} is a directory without __main__.py; pass a script`);
    }
    // Listens from here to the end: see collect/signals.ts for why not only around the child.
    const relay = new SignalRelay();
    try {
      if (!config.enable) {
        log.info("profiling disabled (enable: false): running the script plainly");
        const r = await runChild({ argv: pyArgv, env: childEnvPlain(), cwd: process.cwd() }, relay);
        return r.exitCode;
      }
      return await profile(a, config, { target, module, pyArgv, command }, relay);
    } finally {
      relay.dispose();
    }
  },
});

interface Target {
  target: string;
  module: boolean;
  pyArgv: string[];
  command: string[];
}

async function profile(a: Record<string, unknown>, config: Config, t: Target, relay: SignalRelay): Promise<number> {
  const { target, module, pyArgv, command } = t;
  // A bad rules file stops before the script runs, not after.
  const rules = await loadRulesOption(a.rules);
  const reportExtra = typeof a.report === "string" && a.report !== "" ? { path: resolve(a.report), format: checkReportPath(resolve(a.report), a.force === true) } : null;

  const rt = await extractRuntime();
  const native = new Native(rt.shimPath);
  const session = createSession(config.outputDir, target, module);
  log.debug(`run directory ${session.dir}`);
  let gpuPlan: GpuPlan | null = null;
  try {
    gpuPlan = planGpu(native, config, rt.shimPath, session.rawDir, process.env);
  } catch (e) {
    rmSync(session.dir, { recursive: true, force: true });
    throw e;
  }
  for (const d of gpuPlan.devices) if (d.numaNode === undefined && d.pciBusId) d.numaNode = pciNumaNode(native, d.pciBusId);

  const env = childEnv(process.env, rt.pythonPath, { ...gpuPlan.env, _INFERSCOPE_RUN: JSON.stringify(tracerOptions(config, session.rawDir, rt.shimPath)) });
  if (relay.first) {
    // Stopped before anything ran: leave nothing behind.
    rmSync(session.dir, { recursive: true, force: true });
    log.warn(`${relay.first} received before the script started: nothing was run`);
    return signalExitCode(relay.first);
  }
  let sampler: Sampler | null = null;
  const capture = new CaptureSignals(session.rawDir);
  const spawnNs = native.monotonicNs();
  const child = await runChild({ argv: pyArgv, env, cwd: process.cwd() }, relay, (pid) => {
    sampler = new Sampler(native, { pid, children: true, intervalMs: config.sampleIntervalMs, numaMapsIntervalMs: config.numaMapsIntervalMs });
    sampler.start();
  }).finally(() => capture.dispose());
  relay.childExited((sig) => abortReports(session, sig));
  const endNs = native.monotonicNs();
  const counters = (sampler as Sampler | null)?.stop() ?? [];
  const samplerSummary = (sampler as Sampler | null)?.summary() ?? null;
  const tree = (sampler as Sampler | null)?.tree ?? null;
  if (tree && config.followChildren) {
    const left = await awaitDescendants(tree, DESCENDANTS_WAIT_MS);
    if (left.length) log.debug(`${left.length} child process(es) still running ${DESCENDANTS_WAIT_MS} ms after the script ended: ${left.join(", ")}`);
  }
  if (child.signalsReceived.length) log.info(`${child.signalsReceived.join(", ")} received: building the report from what was recorded`);

  // With GPU collection on every call and op is kept: kernels are attributed to the innermost
  // Python function and op that launched them, however short.
  const processes = readProcesses(session.rawDir, { childPid: child.pid, minDurationNs: gpuPlan.off ? config.minDurationUs * 1000 : 0, summarizeOps: !!gpuPlan.off });
  const python = processes[0]?.recording ?? null;
  const gpu = collectGpu(gpuPlan, python?.meta?.pid ?? child.pid, endNs);
  const trace = assembleTrace({ config, command, child, processes, counters, sampler: samplerSummary, gpuPlan, gpu, sampleIntervalMs: config.sampleIntervalMs, seen: tree ? [...tree.seen.values()] : [] });
  trace.meta.processStartNs = spawnNs;
  if (python?.meta?.tStart) trace.meta.tracerStartNs = python.meta.tStart;
  const merge = mergeTrace(trace);

  let tracePath: string | null = null;
  if (config.trace) {
    tracePath = join(session.dir, a.gzip ? "trace.json.gz" : "trace.json");
    await writeTrace(trace, tracePath, { version: VERSION, pid: python?.meta?.pid ?? child.pid, extra: runMetadata(trace) });
  }
  const { written: reports, summary } = await writeReports(trace, merge, session, config, reportExtra, tracePath, rules);
  if (!a["keep-raw"]) rmSync(session.rawDir, { recursive: true, force: true });

  const dropped = trace.meta.dropped.python;
  // Drops of other causes (a write the tracer could not finish) come with their own warning.
  if (dropped && config.buffer === "wrap") log.warn(`the trace buffer (${config.traceSizeMb} MB, wrap) dropped the ${dropped} oldest Python events; raise --trace-size-mb or use --buffer spill`);
  for (const w of trace.warnings) log.warn(w);
  const lines = [summary, "", `run directory: ${session.dir}`];
  if (tracePath) lines.push(`trace:  ${tracePath}  (open in https://ui.perfetto.dev)`);
  for (const r of reports) lines.push(`report: ${r}`);
  if (log.level >= 3) process.stderr.write(`${lines.join("\n")}\n`); // info level: --quiet hides it
  return child.exitCode;
}
