// Everything the collectors wrote (Python events, /proc samples, CUPTI records) → one Trace.
import type { Config } from "../config/keys.ts";
import { emptyTrace, type Trace } from "../trace/model.ts";
import type { ChildResult } from "./child.ts";
import { otherCuptiClientWarning, type GpuPlan, type GpuResult } from "./gpu.ts";
import type { PythonCapture, PythonRecording } from "./python-events.ts";
import type { TracedProcess } from "./processes.ts";
import { looksPython, type SeenProcess } from "./proc-tree.ts";
import type { ProcessInfo } from "../trace/model.ts";
import { type SamplerSummary, samplerWarning } from "./sampler.ts";
import { VERSION } from "../version.ts";

/** Everything the collectors wrote → one Trace on CLOCK_MONOTONIC ns. */
export function assembleTrace(opts: {
  config: Config;
  command: string[];
  child: ChildResult;
  /** Every traced process, the script's first (empty: the tracer did not start). */
  processes: TracedProcess[];
  counters: Trace["counters"];
  /** What the /proc sampler did; null when it did not run. */
  sampler: SamplerSummary | null;
  gpuPlan: GpuPlan | null;
  gpu: GpuResult | null;
  sampleIntervalMs: number;
  /** Descendants the sampler saw (traced or not). */
  seen?: SeenProcess[];
}): Trace {
  const { config, child, gpu } = opts;
  const trace = emptyTrace("inferscope");
  const main = opts.processes[0];
  const python = main?.recording ?? null;
  const pid = python?.meta?.pid ?? child.pid;
  const m = trace.meta;
  m.producer = `inferscope ${VERSION}`;
  m.clock = "CLOCK_MONOTONIC";
  m.command = opts.command;
  m.exitCode = child.exitCode;
  m.buffer = { policy: config.buffer, sizeMb: config.traceSizeMb };
  m.sampleIntervalMs = opts.sampleIntervalMs;
  m.devices = gpu?.devices ?? opts.gpuPlan?.devices ?? [];
  trace.processNames.set(pid, opts.command.join(" "));
  if (python) {
    trace.spans = python.spans;
    trace.instants = python.instants;
    trace.threadNames = python.threadNames;
    trace.summaries = python.summaries;
    const shapes = [...python.codeShapes];
    let events = python.events;
    let ops = python.ops;
    let filtered = python.filtered;
    let windowCut = python.windowCut;
    for (const p of opts.processes.slice(1)) {
      const r = p.recording;
      for (const s of r.spans) trace.spans.push(s);
      for (const i of r.instants) trace.instants.push(i);
      for (const s of r.summaries) trace.summaries.push(s);
      for (const c of r.codeShapes) shapes.push(c);
      for (const [tid, name] of r.threadNames) trace.threadNames.set(tid, name);
      trace.processNames.set(p.pid, p.info.label);
      events += r.events;
      ops += r.ops;
      filtered += r.filtered;
      windowCut += r.windowCut;
      for (const w of [...(r.meta?.warnings ?? []), ...r.warnings]) trace.warnings.push(`${p.info.label} (pid ${p.pid}): ${w}`);
      if (r.meta?.dropped) m.dropped.python = (m.dropped.python ?? 0) + r.meta.dropped;
      if (r.meta?.droppedWaits) m.dropped.python_waits = (m.dropped.python_waits ?? 0) + r.meta.droppedWaits;
    }
    m.processes = opts.processes.map((p) => p.info);
    if (shapes.length) m.codeShapes = shapes;
    // Absent = not measured: only a tracer that reached its final flush knows its drop count.
    if (python.meta) m.dropped.python = (m.dropped.python ?? 0) + python.meta.dropped;
    if (python.meta?.droppedWaits) m.dropped.python_waits = (m.dropped.python_waits ?? 0) + python.meta.droppedWaits;
    if (python.meta?.python) m.pythonVersion = python.meta.python;
    if (python.meta?.torch) m.torchVersion = python.meta.torch;
    if (python.meta?.cuda) m.cudaVersion = python.meta.cuda;
    m.pythonTracer = {
      backend: python.meta?.backend ?? "unknown",
      calls: python.meta?.calls ?? config.pythonCalls,
      events,
      torchOps: ops,
      waits: python.meta?.waits ?? false,
      spilledChunks: python.meta?.spilledChunks ?? null,
      filteredShort: filtered,
      minDurationUs: config.minDurationUs,
      // ends whose start was not recorded (calls already running when tracing began), spans still
      // open at the end (closed at the last timestamp), bytes of a record cut off by a kill
      unmatchedEnds: python.unmatched,
      unfinished: python.unfinished,
      truncatedBytes: python.truncatedBytes,
      followChildren: config.followChildren,
    };
    if (windowCut) (m.pythonTracer as Record<string, unknown>).windowCut = windowCut; // spans cut where a capture window closed (every process)
    if (python.meta?.forwards) (m.pythonTracer as Record<string, unknown>).forwards = python.meta.forwards; // the main process's forward passes, and those with autograd on
    if (python.meta?.torchThreads !== undefined) m.torchThreads = python.meta.torchThreads;
    if (python.meta?.process?.cpus !== undefined) m.cpus = python.meta.process.cpus;
    trace.warnings.push(...(python.meta?.warnings ?? []), ...python.warnings);
  } else if (child.signalsReceived.length) {
    // Interrupted during interpreter start-up: nothing is wrong with the set-up.
    trace.warnings.push(`no Python events: ${child.signalsReceived[0]} arrived before the script's Python started`);
  } else {
    trace.warnings.push("no Python events: the tracer did not start in the profiled process (was it started with -I or -E, or through a wrapper that resets PYTHONPATH?)");
  }
  const capture = python?.meta?.capture;
  trace.counters = capture ? insideWindows(opts.counters, capture.windows) : opts.counters;
  if (capture) {
    m.capture = { mode: capture.mode, delay_s: capture.delay, duration_s: capture.duration, signals: capture.signals ? "SIGUSR1 start, SIGUSR2 stop" : "not taken" };
    m.captureWindows = captureWindows(capture, python!.meta!.tStart);
    if (capture.windows.length === 0) trace.warnings.push(noWindow(capture, (python!.meta!.tEnd - python!.meta!.tStart) / 1e9));
  }
  if (opts.sampler) {
    m.sampler = opts.sampler;
    const behind = samplerWarning(opts.sampler);
    if (behind) trace.warnings.push(behind);
  }
  if (gpu) {
    m.gpuCollection = gpu.status;
    if (gpu.warning) trace.warnings.push(gpu.warning);
    if (gpu.records) {
      trace.gpu = gpu.records.gpu;
      trace.api = gpu.records.api;
      trace.syncs = gpu.records.syncs;
      trace.counters.push(...gpu.records.memory);
      m.dropped.cupti = gpu.records.dropped;
      if (gpu.records.incomplete > 0) m.dropped.cupti_unfinished = gpu.records.incomplete;
      // "cupti <the libcupti really loaded> api <CUPTI_API_VERSION>" (ffi/cupti.c)
      const lib = gpu.records.info.map((i) => /^cupti (.+) api (\d+)$/.exec(i)).find((x) => x);
      if (lib) {
        m.cuptiLibrary = lib[1];
        m.cuptiVersion = Number(lib[2]);
      }
      for (const a of trace.api) if (a.pid < 0) a.pid = pid;
      for (const s of trace.syncs) if (s.pid < 0) s.pid = pid;
      // A process with GPU lanes and no Python lane (a CUDA program the script started) still gets its name.
      for (const op of trace.gpu) if (op.pid !== undefined && !trace.processNames.has(op.pid)) trace.processNames.set(op.pid, `pid ${op.pid}`);
    }
    if (gpu.processes && gpu.processes.length > 1) m.gpuProcesses = gpu.processes.map((p) => ({ pid: p.pid, collection: p.status, correlationBase: p.correlationBase }));
  }
  untracedChildren(trace, opts.processes, opts.seen ?? [], config.followChildren, opts.command);
  gpuOnlyProcesses(trace);
  const cuptiClash = gpu?.status === "cupti" ? otherCuptiClientWarning(trace.spans) : null;
  if (cuptiClash) trace.warnings.push(cuptiClash);
  if (child.signal) trace.warnings.push(`the script was stopped by ${child.signal}: the trace holds what was recorded until then`);
  else if (child.signalsReceived.length) trace.warnings.push(`${child.signalsReceived.join(", ")} received during the run; the script ended with exit code ${child.exitCode}`);
  // said with InferScope's own lines, after the script's output (its traceback may be far above)
  else if (child.exitCode !== 0) trace.warnings.push(`the script exited with code ${child.exitCode} (an error, or sys.exit): the trace and the reports cover what ran until then`);
  return trace;
}



/**
 * Children the sampler saw that wrote no trace: one warning naming the Python ones (a fork of
 * the script, a multiprocessing worker, a Python subprocess: their time is missing from the
 * diagnosis), and every untraced child listed in meta.processes.
 */
function untracedChildren(trace: Trace, traced: TracedProcess[], seen: SeenProcess[], follow: boolean, command: string[]): void {
  const tracedPids = new Set(traced.map((p) => p.pid));
  const mainCmd = traced[0]?.recording.meta?.executable ?? "";
  const rootCmd = command.join(" ");
  const missing = seen.filter((p) => !tracedPids.has(p.pid));
  if (!missing.length) return;
  const list = (trace.meta.processes as ProcessInfo[] | undefined) ?? [];
  for (const p of missing) list.push({ pid: p.pid, ppid: p.ppid, role: "untraced", label: p.cmdline.slice(0, 80) || `pid ${p.pid}`, traced: false, argv: p.cmdline.split(" ") });
  trace.meta.processes = list;
  const python = missing.filter((p) => looksPython(p.cmdline, rootCmd) || (mainCmd !== "" && p.cmdline.startsWith(mainCmd)));
  if (!python.length) return;
  const names = python.slice(0, 5).map((p) => `${p.pid} (${shortCommand(p.cmdline)})`).join(", ");
  const more = python.length > 5 ? ` and ${python.length - 5} more` : "";
  trace.warnings.push(
    follow
      ? `${python.length} Python child ${python.length === 1 ? "process was" : "processes were"} not traced: ${names}${more}; their time is not in the diagnosis (started with -I/-E, a cleared environment or PYTHONPATH, killed before it could write, or a Python InferScope cannot trace)`
      : `${python.length} child ${python.length === 1 ? "process was" : "processes were"} not traced (--no-follow-children): ${names}${more}`,
  );
}

/** Processes that ran GPU work but are not listed yet (a CUDA program the script started, gone before the sampler saw it). */
function gpuOnlyProcesses(trace: Trace): void {
  const list = trace.meta.processes as ProcessInfo[] | undefined;
  if (!list) return;
  const known = new Set(list.map((p) => p.pid));
  for (const op of trace.gpu) {
    if (op.pid === undefined || known.has(op.pid)) continue;
    known.add(op.pid);
    list.push({ pid: op.pid, role: "untraced", label: `pid ${op.pid}`, traced: false });
  }
}

/** "/usr/bin/python3 -c import x; …" → "python3 -c import x; …", at most 80 characters. */
export function shortCommand(cmdline: string): string {
  if (!cmdline) return "?";
  const [argv0, ...rest] = cmdline.split(" ");
  const s = [argv0!.split("/").pop(), ...rest].join(" ");
  return s.length > 80 ? `${s.slice(0, 79)}…` : s;
}

/** /proc samples taken inside a capture window (the sampler runs throughout, in this process). */
function insideWindows(counters: Trace["counters"], windows: PythonCapture["windows"]): Trace["counters"] {
  return counters.filter((c) => windows.some(([from, to]) => c.ts >= from && (to === null || c.ts <= to)));
}

/** Why a run recorded nothing: its capture window never opened (the report would only say "no Python calls were traced"). */
export function noWindow(c: PythonCapture, ranS: number): string {
  const ran = `the script ran ${ranS < 10 ? ranS.toFixed(2) : Math.round(ranS)} s`;
  if (c.mode === "manual") return `nothing was recorded: no capture window opened (--capture manual) — ${ran} without calling inferscope.start()${c.signals ? " and no SIGUSR1 arrived" : ""}; call inferscope.start() where recording should begin, or drop --capture manual`;
  return `nothing was recorded: ${ran} and ended before --delay ${c.delay} s opened the capture window; lower --delay (or drop it)`;
}

/** The capture windows for the report: seconds from the tracer's start (before the script's first line), how each opened and closed. */
export function captureWindows(c: PythonCapture, tStart: number): Record<string, unknown>[] {
  const s = (ns: number) => Math.round((ns - tStart) / 1e6) / 1e3;
  return c.windows.map(([from, to, by, until]) => ({ from_s: s(from), to_s: to === null ? null : s(to), opened_by: by, closed_by: until ?? "end" }));
}
