// `inferscope run [options] script.py [args…]` / `inferscope run [options] -m module [args…]`:
// start the script under the tracer, sample the process from here, then build the trace, write
// it and the reports into the run directory. The exit code is the script's.
import { defineCommand } from "citty";
import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { assembleTrace, shortCommand } from "../collect/assemble.ts";
import { runChild, type ChildResult } from "../collect/child.ts";
import { childEnv, childEnvPlain, tracerOptions } from "../collect/child-env.ts";
import { extractRuntime } from "../collect/extract.ts";
import { collectGpu, planGpu, type GpuPlan, type ProcessNote } from "../collect/gpu.ts";
import { Native } from "../collect/native.ts";
import { readProcesses, recordingBytes, type TracedProcess } from "../collect/processes.ts";
import { awaitDescendants, type SeenProcess } from "../collect/proc-tree.ts";
import { pciNumaNode, Sampler, type SamplerSummary } from "../collect/sampler.ts";
import { CaptureSignals } from "../collect/capture-signals.ts";
import { createSession, type Session } from "../collect/session.ts";
import { signalExitCode, SignalRelay, type RelayedSignal } from "../collect/signals.ts";
import type { Config } from "../config/keys.ts";
import { resolveConfig } from "../config/resolve.ts";
import { checkPython, type PythonInfo } from "../collect/python-check.ts";
import { fail, ioProblem } from "../errors.ts";
import { levelFromFlags, log, setLogLevel } from "../log.ts";
import { type MergeResult, mergeTrace } from "../merge/index.ts";
import type { ReportFormat } from "../report/formats.ts";
import type { PythonLauncher, Trace } from "../trace/model.ts";
import { FORMAT_FILES } from "../report/formats.ts";
import { cutTo, eventCount, windowWarning } from "../trace/window.ts";
import { writeTrace } from "../trace/writer.ts";
import { VERSION } from "../version.ts";
import type { RulesConfig } from "../rules/file.ts";
import { loadRulesOption } from "./analyze-command.ts";
import { configArgs, flagsFromArgs } from "./config-flags.ts";
import { decodedLossily, pathArg, showPath } from "../core/raw-path.ts";
import { checkOutputFile, type OutputFile, writeStdout } from "./output.ts";
import { writeWhole } from "./output-file.ts";
import { recordingProgress } from "./recording-progress.ts";

/** How long the script's traced children may outlive it before their trace files are read. */
const DESCENDANTS_WAIT_MS = 2000;

async function writeReports(
  trace: Trace,
  merge: MergeResult,
  session: Session,
  config: Config,
  extra: OutputFile | null,
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
  const targets: { path: string; format: string; special?: boolean }[] = config.formats.map((f) => ({ path: join(session.dir, FORMAT_FILES[f]), format: f }));
  if (extra) targets.push(extra);
  const written: string[] = [];
  for (const t of targets) {
    writeWhole(t.path, renderReport(report, t.format as ReportFormat, analysis), { special: t.special === true });
    written.push(t.path);
  }
  return { written, summary: terminalSummary(report) };
}

/**
 * Bounded memory: the Python reader kept the earliest events within 90 % of maxEvents; GPU records
 * and samples on top may still exceed it: cut the whole trace to it. One warning says what is left.
 */
function keepWithinBudget(trace: Trace, maxEvents: number, processes: TracedProcess[]): void {
  const total = eventCount(trace);
  let removed = 0;
  let cutoff = Infinity;
  if (total > maxEvents) ({ cutoff, removed } = cutTo(trace, maxEvents));
  let skipped = removed;
  let readNs = Infinity; // the shortest window a process's reader kept
  for (const p of processes) {
    skipped += p.recording.window?.skipped ?? 0;
    readNs = Math.min(readNs, p.recording.window?.ns ?? Infinity);
  }
  if (skipped === 0) return;
  let first = Infinity;
  for (const s of trace.spans) if (s.start < first) first = s.start;
  for (const g of trace.gpu) if (g.start < first) first = g.start;
  const windowNs = Math.min(Number.isFinite(cutoff) ? cutoff - first : Infinity, readNs);
  trace.warnings.push(windowWarning("the recording", maxEvents, eventCount(trace), skipped, windowNs));
}

/** What only a run knows, for the trace's metadata block: how the Python tracer and the sampler did. */
function runMetadata(trace: Trace): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (trace.meta.pythonTracer) out.pythonTracer = trace.meta.pythonTracer;
  if (trace.meta.pythonLauncher) out.pythonLauncher = trace.meta.pythonLauncher;
  if (trace.meta.sampler) out.sampler = trace.meta.sampler;
  if (trace.meta.capture) out.capture = trace.meta.capture;
  if (trace.meta.captureWindows) out.captureWindows = trace.meta.captureWindows;
  return out;
}

/** After a failure or a signal: remove raw/ and half-written files; the names of what is kept. */
function salvage(session: Session): string[] {
  rmSync(session.rawDir, { recursive: true, force: true });
  try {
    for (const f of readdirSync(session.dir)) if (/\.tmp-\d+$/.test(f)) rmSync(join(session.dir, f), { force: true });
    const kept = readdirSync(session.dir);
    if (kept.length === 0) rmSync(session.dir, { recursive: true, force: true });
    return kept;
  } catch {
    return []; // the directory is gone: nothing to keep
  }
}

/** A signal while the reports are written: remove what is half-written, say what is kept. */
function abortReports(session: Session, sig: RelayedSignal): void {
  const kept = salvage(session);
  process.stderr.write(`inferscope: ${sig} while writing the reports: stopped; ${kept.length ? `kept ${kept.join(", ")} in ${session.dir}` : "nothing was written"}\n`);
}

/** The results could not be written (a full disk, a removed directory): one line, exit 2. */
function resultsFailed(session: Session, e: unknown, exitCode: number): never {
  if ((e as Error).name !== "UserError" && typeof (e as NodeJS.ErrnoException).code !== "string") throw e;
  const kept = salvage(session);
  const why = (e as Error).name === "UserError" ? (e as Error).message : `cannot write to ${session.dir}: ${ioProblem(e)}`;
  fail(`${why}; ${kept.length ? `kept ${kept.join(", ")} in ${session.dir}` : "no report was written"}; the script exited with code ${exitCode}`);
}

export const runCommand = defineCommand({
  meta: { name: "run", description: "Profile a Python script: inferscope run [options] script.py [args…] | -m module [args…]" },
  args: {
    ...configArgs(),
    report: { type: "string", description: "Also write the report to PATH (format from the extension: .md, .html, .json, .folded, .speedscope.json)" },
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
    const { config, origins } = resolveConfig({ flags: flagsFromArgs(a) });
    setLogLevel(levelFromFlags({ quiet: a.quiet === true, verbose: a.verbose === true }, config.logLevel));
    // Checked before anything starts: a bad path must not cost a whole run.
    // Bun decodes flags and variables as UTF-8: bytes that are not would name another path
    for (const key of ["outputDir", "python"] as const) {
      const from = origins[key];
      if ((from.source === "flag" || from.source === "env") && decodedLossily(config[key])) {
        fail(`${from.where} ${showPath(pathArg(config[key]))}: a path that is not valid UTF-8 cannot be used here; choose another name`);
      }
    }
    const reportExtra =
      typeof a.report === "string" ? checkOutputFile("--report", a.report, { force: a.force === true, requireExtension: true }) : null;
    const positional = a._ ?? [];
    const target = positional[0];
    const module = a.module === true || a.m === true;
    if (!target) fail(module ? "-m needs a module name: inferscope run -m package.module [args…]" : "run needs a script: inferscope run script.py [args…] (or -m module)");
    const scriptArgs = positional.slice(1);
    const pyArgv = [config.python, ...(module ? ["-m"] : []), target, ...scriptArgs];
    const command = ["python", ...(module ? ["-m"] : []), target, ...scriptArgs];

    if (!module) {
      const bytes = pathArg(target);
      if (typeof bytes !== "string") fail(`${showPath(bytes)}: a script name that is not valid UTF-8 cannot be passed on to Python; rename it`);
      if (!existsSync(target)) fail(`${target}: no such file; pass the path of a Python script (or -m module)`);
      if (statSync(target).isDirectory() && !existsSync(join(target, "__main__.py"))) fail(`${target} is a directory without __main__.py; pass a script`);
    }
    // Listens from here to the end: see collect/signals.ts for why not only around the child.
    const relay = new SignalRelay();
    // One interpreter start, concurrent with the rest of the start-up; awaited before the spawn.
    const python = checkPython(config.python);
    python.catch(() => {}); // observed where it is awaited
    try {
      if (!config.enable) {
        await python;
        log.info("profiling disabled (enable: false): running the script plainly");
        const r = await runChild({ argv: pyArgv, env: childEnvPlain(), cwd: process.cwd() }, relay);
        return r.exitCode;
      }
      return await profile(a, config, { target, module, pyArgv, command, reportExtra, python }, relay);
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
  reportExtra: OutputFile | null;
  python: Promise<PythonInfo>;
}

async function profile(a: Record<string, unknown>, config: Config, t: Target, relay: SignalRelay): Promise<number> {
  const { target, module, pyArgv, command, reportExtra } = t;
  // A bad rules file stops before the script runs, not after.
  const rules = await loadRulesOption(a.rules);
  const [rt, py] = await Promise.all([extractRuntime(), t.python]);
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

  if (!existsSync(session.dir)) {
    fail(`the run directory ${session.dir} was removed while the script ran: what it recorded is lost, no report was written; the script exited with code ${child.exitCode}`);
  }
  const seen = tree ? [...tree.seen.values()] : [];
  try {
    return await finish(a, config, session, child, { counters, sampler: samplerSummary, endNs, spawnNs, seen }, gpuPlan, { reportExtra, rules, launcher: py.launcher }, command);
  } catch (e) {
    resultsFailed(session, e, child.exitCode);
  }
}

/** A process other than the script, for the GPU loss warnings: its traced label, else its command line as the sampler saw it. */
function processNote(pid: number, processes: TracedProcess[], seen: SeenProcess[]): ProcessNote {
  const traced = processes.find((p) => p.pid === pid)?.info.label;
  const s = seen.find((p) => p.pid === pid);
  const label = traced && traced !== `pid ${pid}` ? traced : s?.cmdline ? shortCommand(s.cmdline) : undefined;
  return { ...(label ? { label } : {}), ...(s ? { lastSeenNs: s.lastNs } : {}) };
}

/** After the script: the trace, the reports, the summary on stderr. Returns the script's exit code. */
async function finish(
  a: Record<string, unknown>,
  config: Config,
  session: Session,
  child: ChildResult,
  ended: { counters: Trace["counters"]; sampler: SamplerSummary | null; endNs: number; spawnNs: number; seen: Parameters<typeof assembleTrace>[0]["seen"] },
  gpuPlan: GpuPlan,
  out: { reportExtra: OutputFile | null; rules: RulesConfig | null; launcher: PythonLauncher | null },
  command: string[],
): Promise<number> {
  // With GPU collection on every call and op is kept: kernels are attributed to the innermost
  // Python function and op that launched them, however short.
  const processes = readProcesses(session.rawDir, {
    childPid: child.pid,
    minDurationNs: gpuPlan.off ? config.minDurationUs * 1000 : 0,
    summarizeOps: !!gpuPlan.off,
    maxEvents: Math.floor(config.maxEvents * 0.9), // room for GPU records and samples
    onProgress: recordingProgress(recordingBytes(session.rawDir)),
  });
  const python = processes[0]?.recording ?? null;
  const gpu = collectGpu(gpuPlan, python?.meta?.pid ?? child.pid, ended.endNs, (pid) => processNote(pid, processes, ended.seen ?? []));
  const trace = assembleTrace({ config, command, child, processes, counters: ended.counters, sampler: ended.sampler, gpuPlan, gpu, sampleIntervalMs: config.sampleIntervalMs, seen: ended.seen });
  trace.meta.processStartNs = ended.spawnNs;
  if (python?.meta?.tStart) trace.meta.tracerStartNs = python.meta.tStart;
  if (out.launcher) trace.meta.pythonLauncher = out.launcher;
  keepWithinBudget(trace, config.maxEvents, processes);
  const merge = mergeTrace(trace);

  let tracePath: string | null = null;
  if (config.trace) {
    tracePath = join(session.dir, a.gzip ? "trace.json.gz" : "trace.json");
    await writeTrace(trace, tracePath, { version: VERSION, pid: python?.meta?.pid ?? child.pid, extra: runMetadata(trace) });
  }
  const { written: reports, summary } = await writeReports(trace, merge, session, config, out.reportExtra, tracePath, out.rules);
  if (!a["keep-raw"]) rmSync(session.rawDir, { recursive: true, force: true });

  const dropped = trace.meta.dropped.python;
  // Drops of other causes (a write the tracer could not finish) come with their own warning.
  const waits = trace.meta.dropped.python_waits ? ` (${trace.meta.dropped.python_waits} of them waits)` : "";
  if (dropped && config.buffer === "wrap") log.warn(`the trace buffer (${config.traceSizeMb} MB, wrap) dropped the ${dropped} oldest Python events${waits}; raise --trace-size-mb or use --buffer spill`);
  for (const w of trace.warnings) log.warn(w);
  const lines = [summary, "", `run directory: ${session.dir}`];
  if (tracePath) lines.push(`trace:  ${tracePath}  (open in https://ui.perfetto.dev)`);
  for (const r of reports) lines.push(`report: ${r}`);
  if (log.level >= 3) process.stderr.write(`${lines.join("\n")}\n`); // info level: --quiet hides it
  return child.exitCode;
}
