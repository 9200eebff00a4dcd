// analyze(trace) → Report: the metrics, the rules' findings and the classification
// (docs/analysis.md defines every number; docs/report-json.md the JSON contract).
// `inferscope analyze` calls it on a trace read from a file; `inferscope run` on the trace it just
// merged in memory, handing over the merge it made.
import type { Trace } from "../trace/model.ts";
import { type MergeResult, mergeTrace } from "../merge/index.ts";
import { type Finding, type HotFunctionStat, type IdleAttribution, type KernelClassStat, REPORT_SCHEMA, type Report } from "./report-types.ts";
import { classify } from "./classify.ts";
import { cpuMetrics, threadStat } from "./cpu.ts";
import { unionOf } from "../core/intervals.ts";
import { gpuTime } from "./gpu.ts";
import { hotFunctions } from "./hot-functions.ts";
import { attributeHostWait } from "./idle.ts";
import { kernelMetrics } from "./kernels.ts";
import { RULES } from "./rules/index.ts";
import type { AnalysisContext, RuleFinding } from "./rules/common.ts";
import { type GpuWork, gpuWork } from "./gpu-work.ts";
import { CLASS_LABELS } from "./kernel-classes.ts";
import { priceFindings, priceUserFindings, sortBySaving, stepScope } from "./savings.ts";
import { REQUEST_BEGIN, REQUEST_SCOPE, requestMetrics } from "./requests.ts";
import { scopeMetrics } from "./scopes.ts";
import { syncMetrics } from "./syncs.ts";
import { copyStat, transferMetrics } from "./transfers.ts";
import type { RulesConfig } from "../rules/file.ts";
import { resolveParams } from "./params.ts";
import { buildCallTree, type CallTree } from "./call-tree.ts";
import { moduleMetrics } from "./modules.ts";
import { firstCalls } from "./layer-stacks.ts";
import { modulesReport } from "./modules-report.ts";
import { waitMetrics } from "./waits.ts";
import { otherProcessesRunning } from "./running.ts";
import { type AnalysisWindow, chooseWindow, mainPid, STARTUP_TOP_IMPORTERS, startupPhase, spanExtent, windowTrace } from "./window.ts";
import { fail } from "../errors.ts";
import type { ProcessInfo } from "../trace/model.ts";
import type { ProcessStat, WaitStat } from "./report-types.ts";

/** Input shapes listed per op row (--op-shapes), most self time first. */
const TOP_SHAPES = 5;

export const DEFAULT_TOP = 10;

export interface AnalyzeOptions {
  /** Path shown in the report ("-" / "<stdin>" for stdin). */
  path: string;
  /** Length of the top-N lists (kernels, idle attribution, sync callers, hot functions). */
  top?: number;
  /** The trace's merge, when the caller has merged it already; else analyze merges it. */
  merge?: MergeResult;
  /** A checked rules file: threshold overrides, disabled built-in rules, user rules. */
  rules?: RulesConfig | null;
  /** The span analysed: auto (the steady state), all, mark:NAME, scope:NAME[,skip=N]. */
  window?: string;
}

function hasRequests(trace: Trace): boolean {
  return trace.instants.some((i) => i.name === REQUEST_BEGIN) || trace.spans.some((s) => s.cat === "scope" && s.name === REQUEST_SCOPE);
}

/** ns → ms, exactly (the report carries milliseconds as floats). */
const nsToMs = (ns: number): number => ns / 1e6;

/**
 * Every metric of the trace (no findings yet): what the rules read and the report shows, over
 * the window `window` asks for ("auto": the steady state, what the commands use by default; the
 * trace is clipped to it, the start-up phase is measured on the whole trace; "all" here, for
 * callers that hand in a trace to analyse as it is). `merge`: the whole trace's, when made already.
 */
export function analysisContext(trace: Trace, top = DEFAULT_TOP, merge?: MergeResult, window = "all"): AnalysisContext {
  let w: AnalysisWindow;
  try {
    w = chooseWindow(trace, window);
  } catch (e) {
    fail((e as Error).message);
  }
  const whole = w.start <= w.runStart && w.end >= w.runEnd;
  const part = whole ? trace : windowTrace(trace, w);
  const ctx = metrics(part, top, whole ? (merge ?? mergeTrace(trace)) : mergeTrace(part));
  // Requests are the script's own measurements, begin to end: every one recorded counts, not only
  // those inside the steady-state window (one straddling its edge would be lost).
  if (!whole && hasRequests(trace)) {
    const m = merge ?? mergeTrace(trace);
    ctx.requests = requestMetrics(trace, gpuTime(trace, m.opCall), top);
  }
  // a torch.profiler trace is analysed whole unless --window names a part of it
  ctx.window = trace.format === "kineto" && w.mode === "all" ? null : w;
  ctx.startup = startupPhase(trace, w);
  ctx.eventCount =
    typeof trace.meta.eventCount === "number"
      ? trace.meta.eventCount
      : trace.spans.length + trace.api.length + trace.gpu.length + trace.syncs.length + trace.instants.length + trace.counters.length;
  return ctx;
}

function metrics(trace: Trace, top: number, merge: MergeResult): AnalysisContext {
  const gpu = gpuTime(trace, merge.opCall);
  const kernels = gpu ? kernelMetrics(trace, merge, gpu.busyNs, top) : null;
  const transfers = gpu ? transferMetrics(trace, merge.opCall) : null;
  const syncs = syncMetrics(trace, merge, gpu?.gaps ?? null);
  const work = gpu ? gpuWork(trace, gpu, syncs) : null;
  const scopes = scopeMetrics(trace, gpu);
  const requests = requestMetrics(trace, gpu, top);
  const waits = waitMetrics(merge.byThread, () => otherProcessesRunning(trace.spans, mainPid(trace)));
  // The tracer says whether it watched blocking calls (a run with none still measured that).
  if ((trace.meta.pythonTracer as { waits?: boolean } | undefined)?.waits === true) waits.recorded = true;
  const cpu = cpuMetrics(trace, merge.byThread, syncs.blockedByThread, waits.byThread);
  const idle = gpu ? attributeHostWait(gpu.gaps, merge.byThread) : [];
  const hot = hotFunctions(merge.byThread, trace.summaries);
  let tree: CallTree | null = null;
  const callTree = (): CallTree => (tree ??= buildCallTree(trace, merge, syncs.occasions));
  // the tree is built here only when there are layers to show; the flame graphs build it on demand
  const modules = trace.spans.some((s) => s.cat === "module") ? moduleMetrics(callTree(), gpu && gpu.windowNs > 0 ? gpu.busyNs / gpu.windowNs : null, firstCalls(trace)) : null;
  return { trace, merge, gpu, kernels, transfers, work, syncs, scopes, requests, cpu, idle, hot, modules, callTree, top, waits, window: null, startup: null, eventCount: 0 };
}

/** Run every built-in rule not disabled by the rules file; price the findings (savings.ts) and rank them by estimated saving. */
export function evaluateRules(ctx: AnalysisContext, rules?: RulesConfig | null): Finding[] {
  const made: { rule: string; finding: RuleFinding }[] = [];
  for (const rule of RULES) {
    if (rules?.disabled.has(rule.id)) continue;
    const f = rule.evaluate(ctx, resolveParams(rule.params, rule.id, rules?.thresholds));
    if (f) made.push({ rule: rule.id, finding: f });
  }
  const [start, end] = savingWindow(ctx);
  return priceFindings(made, start, end, stepScope(ctx.scopes.instances));
}

/** The window savings are shares of: the GPU window, or without GPU ops the analysis window (else the span of the CPU events). */
export function savingWindow(ctx: AnalysisContext): [number, number] {
  if (ctx.gpu) return [ctx.gpu.windowStart, ctx.gpu.windowEnd];
  if (ctx.window) return [ctx.window.start, ctx.window.end];
  const e = spanExtent(ctx.trace.spans);
  return e && e.start <= e.end ? [e.start, e.end] : [0, 0];
}

function windowStat(ctx: AnalysisContext): Report["window"] {
  const w = ctx.window;
  if (!w) return null;
  const out: NonNullable<Report["window"]> = { mode: w.mode, how: w.how, start_ms: nsToMs(w.start - w.runStart), end_ms: nsToMs(w.end - w.runStart), duration_ms: nsToMs(w.end - w.start), run_ms: nsToMs(w.runEnd - w.runStart) };
  // Imports inside the window (lazy ones: torch's record_function imports a module at the first
  // batch): one-time work, kept out of the hot functions and named here.
  if (ctx.hot.importNs > 0) {
    out.imports_ms = nsToMs(ctx.hot.importNs);
    out.imports = ctx.hot.imports.slice(0, STARTUP_TOP_IMPORTERS).map((m) => ({ module: m.module, ms: nsToMs(m.ns) }));
  }
  return out;
}

function waitStats(ctx: AnalysisContext, top: number): WaitStat[] {
  const W = ctx.window ? ctx.window.end - ctx.window.start : 0;
  return ctx.waits.entries.slice(0, top).map((e) => {
    const r: WaitStat = { pid: e.pid, tid: e.tid, thread: ctx.trace.threadNames.get(e.tid) ?? `thread ${e.tid}`, call: e.call, on: e.on, count: e.count, ms: nsToMs(e.ns), pct_of_window: W > 0 ? (e.ns / W) * 100 : 0 };
    if (e.function !== undefined) r.function = e.function;
    if (e.file !== undefined) r.file = e.file;
    if (e.line !== undefined) r.line = e.line;
    if (e.caller !== undefined) r.caller = e.caller;
    if (e.callerFile !== undefined) r.caller_file = e.callerFile;
    if (e.callerLine !== undefined) r.caller_line = e.callerLine;
    return r;
  });
}

/** One row per process of the run (the script first); [] for a single-process trace. */
function processStats(ctx: AnalysisContext): ProcessStat[] {
  const ps = (ctx.trace.meta.processes as ProcessInfo[] | undefined) ?? [];
  if (ps.length < 2) return [];
  const gpu = gpuByProcess(ctx);
  return ps.map((p) => {
    const threads = ctx.cpu.threads.filter((t) => t.pid === p.pid);
    let running = 0;
    let waiting = 0;
    let cpuNs: number | null = null;
    for (const t of threads) {
      running += t.runningNs;
      waiting += t.waitNs;
      if (t.kernelCpuNs !== null) cpuNs = (cpuNs ?? 0) + t.kernelCpuNs;
    }
    const byThread = new Map([...ctx.merge.byThread].filter(([tid]) => threads.some((t) => t.tid === tid)));
    const hot = hotFunctions(byThread, ctx.trace.summaries.filter((x) => x.pid === p.pid));
    return { pid: p.pid, role: p.role, label: p.label, traced: p.traced, running_ms: nsToMs(running), waiting_ms: nsToMs(waiting), cpu_ms: cpuNs === null ? null : nsToMs(cpuNs), top_function: hot.functions[0]?.function ?? null, ...gpu(p.pid) };
  });
}

/** Each process's GPU busy time and kernels in the analysis window (ops carry the pid that ran them). */
function gpuByProcess(ctx: AnalysisContext): (pid: number) => { gpu_busy_ms: number | null; kernels: number | null } {
  const ops = ctx.gpu?.ops;
  if (!ops) return () => ({ gpu_busy_ms: null, kernels: null });
  const by = new Map<number, { starts: number[]; ends: number[]; kernels: number }>();
  for (const op of ops) {
    if (op.pid === undefined) continue;
    let b = by.get(op.pid);
    if (!b) by.set(op.pid, (b = { starts: [], ends: [], kernels: 0 }));
    b.starts.push(op.start);
    b.ends.push(op.end);
    if (op.kind === "kernel") b.kernels++;
  }
  return (pid) => {
    const b = by.get(pid);
    return b ? { gpu_busy_ms: nsToMs(unionOf(b.starts, b.ends).measure), kernels: b.kernels } : { gpu_busy_ms: 0, kernels: 0 };
  };
}

function markStats(ctx: AnalysisContext, top: number): NonNullable<Report["marks"]> {
  const t0 = ctx.window?.runStart ?? ctx.trace.instants[0]?.ts ?? 0;
  return ctx.trace.instants.slice(0, top * 5).map((i) => {
    const m: NonNullable<Report["marks"]>[number] = { name: i.name, at_ms: nsToMs(i.ts - t0), pid: i.pid, tid: i.tid, thread: ctx.trace.threadNames.get(i.tid) ?? `thread ${i.tid}` };
    if (i.args && Object.keys(i.args).length) m.args = i.args;
    return m;
  });
}

export function analyze(trace: Trace, opts: AnalyzeOptions): Report {
  const top = Math.max(1, Math.floor(opts.top ?? DEFAULT_TOP));
  return buildReport(analysisContext(trace, top, opts.merge, opts.window), opts.path, opts.rules);
}

/** The report (docs/report-json.md) of an analysis context: findings, classification, metrics. */
export function buildReport(ctx: AnalysisContext, path: string, rules?: RulesConfig | null): Report {
  const { trace, top, gpu: g, kernels: k, transfers: t, syncs: s, cpu } = ctx;
  const findings = evaluateRules(ctx, rules);
  const bottleneck = classify(ctx, findings);

  let gpu: Report["gpu"] = null;
  if (g && k && t) {
    const idleTop: IdleAttribution[] = ctx.idle.slice(0, top).map((e) => {
      const a: IdleAttribution = {
        function: e.function,
        idle_ms: nsToMs(e.idleNs),
        pct_of_idle: g.idleNs > 0 ? (e.idleNs / g.idleNs) * 100 : 0,
        kind: e.kind,
        self_ms: nsToMs(e.selfNs),
        pct_of_host_wait: g.hostWaitNs > 0 ? (e.idleNs / g.hostWaitNs) * 100 : 0,
      };
      if (e.file !== undefined) a.file = e.file;
      if (e.line !== undefined) a.line = e.line;
      if (e.scope !== undefined) a.scope = e.scope;
      return a;
    });
    const devices = new Map<number, string>();
    for (const d of trace.meta.devices) devices.set(d.index, d.name);
    for (const op of g.ops) if (!devices.has(op.device)) devices.set(op.device, `GPU ${op.device}`);
    gpu = {
      window_ms: nsToMs(g.windowNs),
      busy_ms: nsToMs(g.busyNs),
      utilization_pct: g.windowNs > 0 ? (g.busyNs / g.windowNs) * 100 : 0,
      compute_ms: nsToMs(g.computeNs),
      transfer_only_ms: nsToMs(g.transferOnlyNs),
      idle: {
        total_ms: nsToMs(g.idleNs),
        host_wait_ms: nsToMs(g.hostWaitNs),
        kernel_wait_ms: nsToMs(g.kernelWaitNs),
        sync_other_ms: nsToMs(g.otherNs),
        gaps: g.gaps.length,
        launches_known: g.launchesKnown,
        after_sync_ms: nsToMs(s.drainIdleNs),
        top: idleTop,
      },
      kernels: {
        count: k.count,
        total_ms: nsToMs(k.totalNs),
        short_count: k.shortCount,
        short_pct: k.count > 0 ? (k.shortCount / k.count) * 100 : 0,
        launch_api_ms: k.launchApiNs === null ? null : nsToMs(k.launchApiNs),
        launch_calls: k.launchCalls,
        graph_launched_count: k.graphCount,
        mean_us: k.count > 0 ? k.totalNs / k.count / 1e3 : 0,
        queue_depth: k.queueDepth,
        top: k.top,
        ...(ctx.work && { by_class: classRows(ctx.work, g.busyNs), gemm: gemmReport(ctx.work) }),
      },
      memcpy: { h2d: copyStat(t.h2d), d2h: copyStat(t.d2h), d2d: copyStat(t.d2d), other: copyStat(t.other) },
      memset: { count: t.memset.count, bytes: t.memset.bytes, ms: nsToMs(t.memset.ns) },
      syncs: {
        count: s.count,
        blocked_ms: nsToMs(s.blockedNs),
        top: s.callers.slice(0, top).map((c) => {
          const r: { function: string; file?: string; line?: number; scope?: string; count: number; blocked_ms: number } = {
            function: c.function,
            count: c.count,
            blocked_ms: nsToMs(c.blockedNs),
          };
          if (c.file !== undefined) r.file = c.file;
          if (c.line !== undefined) r.line = c.line;
          if (c.scope !== undefined) r.scope = c.scope;
          return r;
        }),
      },
      devices: [...devices].sort((a, b) => a[0] - b[0]).map(([index, name]) => ({ index, name })),
    };
  }

  // Hot functions: null ("not measured") when the trace has no Python calls or torch ops at all.
  let topFunctions: HotFunctionStat[] | null = null;
  if (ctx.hot.functions.length > 0) {
    let busyNs = 0;
    for (const th of cpu.threads) busyNs += th.runningNs;
    topFunctions = ctx.hot.functions.slice(0, top).map((f) => {
      const h: HotFunctionStat = {
        function: f.function,
        kind: f.kind,
        calls: f.calls,
        self_ms: nsToMs(f.selfNs),
        total_ms: nsToMs(f.totalNs),
        pct_of_busy: busyNs > 0 ? (f.selfNs / busyNs) * 100 : 0,
      };
      if (f.waitNs > 0) h.wait_ms = nsToMs(f.waitNs);
      if (f.file !== undefined) h.file = f.file;
      if (f.line !== undefined) h.line = f.line;
      if (f.shapes) {
        h.shapes = f.shapes.slice(0, TOP_SHAPES).map((x) => ({ input_dims: JSON.parse(x.inputDims), calls: x.calls, self_ms: nsToMs(x.selfNs) }));
        h.shape_count = f.shapes.length;
      }
      return h;
    });
  }

  const meta = trace.meta;
  const collection: Record<string, unknown> = {};
  for (const key of ["producer", "gpuCollection", "buffer", "command", "exitCode", "pythonVersion", "torchVersion", "cudaVersion", "cuptiVersion", "cuptiLibrary", "sampleIntervalMs", "capture", "captureWindows"]) {
    if (meta[key] !== undefined) collection[key] = meta[key];
  }
  const eventCount = ctx.eventCount;

  const report: Report = {
    schema: REPORT_SCHEMA,
    source: { path, format: trace.format, events: eventCount },
    bottleneck,
    gpu,
    cpu: {
      threads: cpu.threads.map(threadStat),
      top_functions: topFunctions,
      waits: ctx.waits.recorded ? waitStats(ctx, top) : null,
      memory: { peak_rss_mb: cpu.peakRssMb, min_available_mb: cpu.minAvailableMb, swap_used_mb: cpu.swapUsedMb },
      numa: { gpu_node: cpu.numa.gpuNode, pages_mb_by_node: cpu.numa.pagesMbByNode, remote_pct: cpu.numa.remotePct },
    },
    scopes: ctx.scopes.stats,
    ...(ctx.requests ? { requests: ctx.requests } : {}),
    modules: ctx.modules ? modulesReport(ctx.modules, top, g !== null) : null,
    findings,
    window: windowStat(ctx),
    startup: ctx.startup
      ? {
          total_ms: nsToMs(ctx.startup.totalNs),
          interpreter_ms: ctx.startup.interpreterNs === null ? null : nsToMs(ctx.startup.interpreterNs),
          imports_ms: nsToMs(ctx.startup.importsNs),
          other_ms: nsToMs(ctx.startup.otherNs),
          pct_of_run: ctx.startup.share * 100,
          top_importers: ctx.startup.topImporters.map((m) => ({ module: m.module, ms: nsToMs(m.ns) })),
          ...(ctx.startup.launcher ? { launcher: ctx.startup.launcher } : {}),
        }
      : null,
    processes: processStats(ctx),
    marks: markStats(ctx, top),
    clock: {
      source: meta.clock ?? "unknown",
      error_bound_us: meta.clockErrorBoundNs !== undefined ? meta.clockErrorBoundNs / 1000 : null,
    },
    dropped: { ...meta.dropped },
    collection,
    warnings: [...trace.warnings],
  };
  // User rules read the finished report (built-in findings included), then rank with them: their
  // savings get at most what the built-in ones left of the window, and the verdict names the
  // largest saving of all.
  if (rules && rules.rules.length > 0) {
    const user = rules.evaluate(report);
    const [start, end] = savingWindow(ctx);
    priceUserFindings(user.findings, findings, end - start);
    report.findings = sortBySaving([...findings, ...user.findings]);
    report.bottleneck = classify(ctx, report.findings);
    report.warnings.push(...user.warnings);
  }
  return report;
}

/** `gpu.kernels.by_class`: time, count and share of busy per kernel class, by time. */
function classRows(w: GpuWork, busyNs: number): KernelClassStat[] {
  return w.byClass.map((c) => ({
    class: c.cls,
    label: CLASS_LABELS[c.cls],
    count: c.count,
    total_ms: nsToMs(c.ns),
    pct_of_busy: busyNs > 0 ? (c.ns / busyNs) * 100 : 0,
    top_kernel: c.topName,
    top_kernel_ms: nsToMs(c.topNs),
  }));
}

/** `gpu.kernels.gemm`: GEMMs by precision, with achieved TFLOP/s against the device peak where shapes are known. */
function gemmReport(w: GpuWork): NonNullable<Report["gpu"]>["kernels"]["gemm"] {
  if (!w.gemm) return null;
  return {
    device: w.device?.peaks?.name ?? null,
    peak_source: w.device?.peaks?.source ?? null,
    by_precision: w.gemm.byPrecision.map((r) => ({
      precision: r.precision,
      tensor_cores: r.tensorCores,
      count: r.count,
      total_ms: nsToMs(r.ns),
      measured_ms: nsToMs(r.measuredNs),
      tflop: r.measuredNs > 0 ? r.flops / 1e12 : null,
      achieved_tflops: r.achievedTflops,
      peak_tflops: r.peakTflops,
      pct_of_peak: r.achievedTflops !== null && r.peakTflops ? (r.achievedTflops / r.peakTflops) * 100 : null,
    })),
    not_measured: w.gemm.notMeasured,
  };
}
