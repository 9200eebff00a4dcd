// Merge: order the events, attribute every GPU op to the code that launched it, and check the
// clocks for causality.
//
// Launcher attribution: GPU op → the CUDA runtime/driver call with the same correlation id (a
// CUDA graph's kernels all carry their cudaGraphLaunch's id) → on that call's thread, at the
// instant the call started: the innermost Python frame (InferScope traces, or Kineto traces
// recorded with_stack), else the outermost torch cpu_op (the op the Python code called, e.g.
// aten::linear rather than the aten::addmm under it), and the innermost user scope /
// record_function annotation (`step#3` → scope `step`).
//
// Causality: a GPU op cannot start before the call that launched it started, and a device
// synchronization cannot return before the work launched before it ended. The largest violation
// seen is the bound on the error between the CPU and GPU clocks (meta.clockErrorBoundNs).
import type { ApiCall, CpuSpan, Launcher, SyncWait, Trace } from "../trace/model.ts";
import { lowerBound } from "../analyze/intervals.ts";
import { resolveStacks, scopeName, sortSpans, spansByThread, type StackContext, type StackQuery } from "./stacks.ts";

export interface MergeResult {
  /** correlation id → API call */
  calls: Map<number, ApiCall>;
  /** the launch call of each GPU op, aligned with trace.gpu (sorted by start) */
  opCall: (ApiCall | undefined)[];
  /** spans per thread, sorted parents first */
  byThread: Map<number, CpuSpan[]>;
  /** GPU ops whose launch call was found */
  matched: number;
  /** ops that started before their launch call (count, largest amount in ns) */
  violations: number;
  violationMaxNs: number;
  /** sync returns before the work it waited for ended (count, largest amount in ns) */
  syncViolations: number;
  syncViolationMaxNs: number;
  /** whether any causality check could be made */
  checked: boolean;
}

const MERGED = Symbol.for("inferscope.merged");

function sortByStart<T extends { start: number; end: number }>(a: T[]): void {
  for (let i = 1; i < a.length; i++) {
    const p = a[i - 1]!;
    const c = a[i]!;
    if (p.start > c.start || (p.start === c.start && p.end > c.end)) {
      a.sort((x, y) => x.start - y.start || x.end - y.end);
      return;
    }
  }
}

/** The Launcher for a call given the stack context at its start. */
export function launcherOf(call: ApiCall, ctx: StackContext): Launcher {
  const l: Launcher = { tid: call.tid, api: call.name };
  const code = ctx.python ?? ctx.op;
  if (code) {
    l.function = code.name;
    if (code.file !== undefined) l.file = code.file;
    if (code.line !== undefined) l.line = code.line;
  }
  if (ctx.scope) l.scope = scopeName(ctx.scope.name);
  return l;
}

/**
 * Order the trace's arrays, fill `launcher` on GPU ops that lack one, give CUPTI sync records
 * the thread of their API call, and set meta.clockErrorBoundNs. Idempotent: a second call only
 * recomputes the lookup tables.
 */
export function mergeTrace(trace: Trace): MergeResult {
  const already = (trace as unknown as Record<symbol, MergeResult | undefined>)[MERGED];
  if (already) return already;
  sortSpans(trace.spans);
  sortByStart(trace.api);
  sortByStart(trace.gpu);
  sortByStart(trace.syncs);
  trace.instants.sort((a, b) => a.ts - b.ts);
  trace.counters.sort((a, b) => a.ts - b.ts);

  const calls = new Map<number, ApiCall>();
  for (const c of trace.api) if (c.correlation >= 0) calls.set(c.correlation, c);
  const byThread = spansByThread(trace.spans);

  // Launchers: one stack query per distinct launching call. Equal launchers are one shared
  // object (interned), so later stages can group GPU ops by launcher identity.
  const need = new Set<ApiCall>();
  const opCall: (ApiCall | undefined)[] = new Array(trace.gpu.length);
  const callMaxEnd = new Map<ApiCall, number>();
  let matched = 0;
  let violations = 0;
  let violationMaxNs = 0;
  const interned = new Map<string, Launcher>();
  const intern = (l: Launcher): Launcher => {
    const key = `${l.tid}\u0000${l.api ?? ""}\u0000${l.function ?? ""}\u0000${l.file ?? ""}\u0000${l.line ?? ""}\u0000${l.scope ?? ""}`;
    const hit = interned.get(key);
    if (hit) return hit;
    interned.set(key, l);
    return l;
  };
  for (let i = 0; i < trace.gpu.length; i++) {
    const op = trace.gpu[i]!;
    if (op.launcher) op.launcher = intern(op.launcher);
    if (op.correlation === undefined) continue;
    const call = calls.get(op.correlation);
    if (!call) continue;
    opCall[i] = call;
    matched++;
    const d = call.start - op.start;
    if (d > 0) {
      violations++;
      if (d > violationMaxNs) violationMaxNs = d;
    }
    const m = callMaxEnd.get(call);
    if (m === undefined || op.end > m) callMaxEnd.set(call, op.end);
    if (!op.launcher) need.add(call);
  }
  if (need.size > 0) {
    const needCalls: ApiCall[] = [];
    for (const c of trace.api) if (need.has(c)) needCalls.push(c); // in start order
    const queries: StackQuery[] = needCalls.map((c) => ({ tid: c.tid, t: c.start }));
    const ctx = resolveStacks(byThread, queries);
    const launchers = new Map<ApiCall, Launcher>();
    for (let i = 0; i < needCalls.length; i++) launchers.set(needCalls[i]!, intern(launcherOf(needCalls[i]!, ctx[i]!)));
    for (let i = 0; i < trace.gpu.length; i++) {
      const op = trace.gpu[i]!;
      const call = opCall[i];
      if (!op.launcher && call) op.launcher = launchers.get(call)!;
    }
  }

  // CUPTI synchronization records may sit on a GPU lane: give them their API call's thread.
  for (const w of trace.syncs) {
    if (w.correlation === undefined) continue;
    const call = calls.get(w.correlation);
    if (call && (w.tid !== call.tid || w.pid !== call.pid)) {
      w.tid = call.tid;
      w.pid = call.pid;
    }
  }

  const sync = checkSyncs(trace, callMaxEnd);
  const checked = matched > 0 || sync.checked;
  const result: MergeResult = {
    calls,
    opCall,
    byThread,
    matched,
    violations,
    violationMaxNs,
    syncViolations: sync.count,
    syncViolationMaxNs: sync.maxNs,
    checked,
  };
  if (checked) {
    const bound = Math.max(violationMaxNs, sync.maxNs);
    trace.meta.clockErrorBoundNs = Math.max(trace.meta.clockErrorBoundNs ?? 0, bound);
  }
  if (violations > 0) {
    trace.warnings.push(
      `${violations} GPU ops start before the call that launched them (by up to ${(violationMaxNs / 1000).toFixed(1)} µs): the CPU and GPU clocks disagree by at least that much`,
    );
  }
  if (sync.count > 0) {
    trace.warnings.push(
      `${sync.count} device synchronizations return before the GPU work they waited for ended (by up to ${(sync.maxNs / 1000).toFixed(1)} µs)`,
    );
  }
  Object.defineProperty(trace, MERGED, { value: result, enumerable: false, configurable: true });
  return result;
}

/** Is this a wait for the whole device (every stream)? */
function isDeviceWait(x: ApiCall | SyncWait): boolean {
  if ("kind" in x) return x.kind === "sync" && /^cu(da)?(DeviceSynchronize|CtxSynchronize)/.test(x.name);
  return x.type === "device" || x.type === "context";
}

/**
 * Device-wide syncs must return after every GPU op launched before the sync started has ended.
 * Checked only on single-device traces (the sync's device is not recorded).
 */
function checkSyncs(trace: Trace, callMaxEnd: Map<ApiCall, number>): { count: number; maxNs: number; checked: boolean } {
  const devices = new Set<number>();
  for (const op of trace.gpu) devices.add(op.device);
  if (devices.size !== 1 || callMaxEnd.size === 0) return { count: 0, maxNs: 0, checked: false };
  // launch calls in start order (trace.api is sorted) with the running max of their ops' ends
  const launches = new Float64Array(callMaxEnd.size);
  const maxEnd = new Float64Array(callMaxEnd.size);
  let n = 0;
  let m = -Infinity;
  for (const c of trace.api) {
    const e = callMaxEnd.get(c);
    if (e === undefined) continue;
    m = Math.max(m, e);
    launches[n] = c.start;
    maxEnd[n++] = m;
  }
  let count = 0;
  let maxNs = 0;
  let checked = false;
  const check = (w: ApiCall | SyncWait) => {
    if (!isDeviceWait(w)) return;
    const k = lowerBound(launches, w.start) - 1; // launched strictly before the wait started
    if (k < 0) return;
    checked = true;
    const d = maxEnd[k]! - w.end;
    if (d > 0) {
      count++;
      if (d > maxNs) maxNs = d;
    }
  };
  for (const c of trace.api) if (c.kind === "sync") check(c);
  for (const w of trace.syncs) check(w);
  return { count, maxNs, checked };
}
