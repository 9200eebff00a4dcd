// analyze(trace) → Report: the metrics, the rules' findings and the classification
// (docs/analysis.md defines every number; docs/report-json.md the JSON contract).
// `inferscope analyze` calls it on a trace read from a file; `inferscope run` on the trace it just
// merged in memory, handing over the merge it made.
import type { Trace } from "../trace/model.ts";
import { type MergeResult, mergeTrace } from "../merge/index.ts";
import { type Finding, type HotFunctionStat, type IdleAttribution, type KernelClassStat, REPORT_SCHEMA, type Report } from "./report-types.ts";
import { classify } from "./classify.ts";
import { cpuMetrics, threadStat } from "./cpu.ts";
import { gpuTime } from "./gpu.ts";
import { hotFunctions } from "./hot-functions.ts";
import { attributeHostWait } from "./idle.ts";
import { kernelMetrics } from "./kernels.ts";
import { RULES } from "./rules/index.ts";
import type { AnalysisContext, RuleFinding } from "./rules/common.ts";
import { type GpuWork, gpuWork } from "./gpu-work.ts";
import { CLASS_LABELS } from "./kernel-classes.ts";
import { priceFindings, priceUserFindings, sortBySaving, stepScope } from "./savings.ts";
import { requestMetrics } from "./requests.ts";
import { scopeMetrics } from "./scopes.ts";
import { syncMetrics } from "./syncs.ts";
import { copyStat, transferMetrics } from "./transfers.ts";
import type { RulesConfig } from "../rules/file.ts";
import { resolveParams } from "./params.ts";
import { buildCallTree, type CallTree } from "./call-tree.ts";
import { moduleMetrics } from "./modules.ts";
import { modulesReport } from "./modules-report.ts";

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
}

/** ns → ms, exactly (the report carries milliseconds as floats). */
const nsToMs = (ns: number): number => ns / 1e6;

/** Every metric of the trace (no findings yet): what the rules read and the report shows. */
export function analysisContext(trace: Trace, top = DEFAULT_TOP, merge: MergeResult = mergeTrace(trace)): AnalysisContext {
  const gpu = gpuTime(trace, merge.opCall);
  const kernels = gpu ? kernelMetrics(trace, merge, gpu.busyNs, top) : null;
  const transfers = gpu ? transferMetrics(trace, merge.opCall) : null;
  const syncs = syncMetrics(trace, merge, gpu?.gaps ?? null);
  const work = gpu ? gpuWork(trace, gpu, syncs) : null;
  const scopes = scopeMetrics(trace, gpu);
  const requests = requestMetrics(trace, gpu, top);
  const cpu = cpuMetrics(trace, merge.byThread, syncs.blockedByThread);
  const idle = gpu ? attributeHostWait(gpu.gaps, merge.byThread) : [];
  const hot = hotFunctions(merge.byThread);
  let tree: CallTree | null = null;
  const callTree = (): CallTree => (tree ??= buildCallTree(trace, merge, syncs.occasions));
  // the tree is built here only when there are layers to show; the flame graphs build it on demand
  const modules = trace.spans.some((s) => s.cat === "module") ? moduleMetrics(callTree(), gpu && gpu.windowNs > 0 ? gpu.busyNs / gpu.windowNs : null) : null;
  return { trace, merge, gpu, kernels, transfers, work, syncs, scopes, requests, cpu, idle, hot, modules, callTree, top };
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

/** The window savings are shares of: the GPU window, or without GPU ops the span of the CPU events. */
export function savingWindow(ctx: AnalysisContext): [number, number] {
  if (ctx.gpu) return [ctx.gpu.windowStart, ctx.gpu.windowEnd];
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of ctx.trace.spans) {
    if (s.start < lo) lo = s.start;
    if (s.end > hi) hi = s.end;
  }
  return lo <= hi ? [lo, hi] : [0, 0];
}

export function analyze(trace: Trace, opts: AnalyzeOptions): Report {
  const top = Math.max(1, Math.floor(opts.top ?? DEFAULT_TOP));
  return buildReport(analysisContext(trace, top, opts.merge), opts.path, opts.rules);
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
    for (const th of cpu.threads) busyNs += th.busyNs;
    topFunctions = ctx.hot.functions.slice(0, top).map((f) => {
      const h: HotFunctionStat = {
        function: f.function,
        kind: f.kind,
        calls: f.calls,
        self_ms: nsToMs(f.selfNs),
        total_ms: nsToMs(f.totalNs),
        pct_of_busy: busyNs > 0 ? (f.selfNs / busyNs) * 100 : 0,
      };
      if (f.file !== undefined) h.file = f.file;
      if (f.line !== undefined) h.line = f.line;
      return h;
    });
  }

  const meta = trace.meta;
  const collection: Record<string, unknown> = {};
  for (const key of ["producer", "gpuCollection", "buffer", "command", "exitCode", "pythonVersion", "torchVersion", "cudaVersion", "cuptiVersion", "cuptiLibrary", "sampleIntervalMs", "capture", "captureWindows"]) {
    if (meta[key] !== undefined) collection[key] = meta[key];
  }
  const eventCount =
    typeof meta.eventCount === "number"
      ? meta.eventCount
      : trace.spans.length + trace.api.length + trace.gpu.length + trace.syncs.length + trace.instants.length + trace.counters.length;

  const report: Report = {
    schema: REPORT_SCHEMA,
    source: { path, format: trace.format, events: eventCount },
    bottleneck,
    gpu,
    cpu: {
      threads: cpu.threads.map(threadStat),
      top_functions: topFunctions,
      memory: { peak_rss_mb: cpu.peakRssMb, min_available_mb: cpu.minAvailableMb, swap_used_mb: cpu.swapUsedMb },
      numa: { gpu_node: cpu.numa.gpuNode, pages_mb_by_node: cpu.numa.pagesMbByNode, remote_pct: cpu.numa.remotePct },
    },
    scopes: ctx.scopes.stats,
    ...(ctx.requests ? { requests: ctx.requests } : {}),
    modules: ctx.modules ? modulesReport(ctx.modules, top, g !== null) : null,
    findings,
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
