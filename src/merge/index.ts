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
import { FunctionIds } from "../core/function-ids.ts";
import { lowerBound } from "../core/intervals.ts";
import { resolveStacks, scopeName, sortSpans, spansByThread, type StackContext } from "./stacks.ts";
import { mapF64 } from "../core/typed-arrays.ts";

export interface MergeResult {
  /** correlation id → API call */
  callOf(correlation: number): ApiCall | undefined;
  /** the launch call of each GPU op, aligned with trace.gpu (sorted by start) */
  opCall: (ApiCall | undefined)[];
  /** the index in trace.api of each GPU op's launch call, or -1 */
  opCallIdx: Int32Array;
  /** interned launchers, by launcherId() */
  launchers: Launcher[];
  /** the stack context at the start of each sync, copy and memset call (by index in trace.api) */
  callCtx: (StackContext | undefined)[];
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

const LAUNCHER_ID = Symbol.for("inferscope.launcherId");

/**
 * A small integer naming an interned launcher (equal launchers share one), for grouping by
 * launcher with arrays instead of object-keyed Maps; -1 for a launcher the merger did not intern.
 */
export function launcherId(l: Launcher | undefined): number {
  if (!l) return -1;
  const id = (l as unknown as Record<symbol, number | undefined>)[LAUNCHER_ID];
  return id === undefined ? -1 : id;
}

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
 * the thread of their API call, and set meta.clockErrorBoundNs. Once per trace (it appends
 * warnings): hand the result on (analyze's `merge` option) rather than merging again.
 */
export function mergeTrace(trace: Trace): MergeResult {
  sortTrace(trace);
  const callIndex = correlationIndex(trace.api);
  const callOf = (correlation: number): ApiCall | undefined => {
    const k = callIndex(correlation);
    return k < 0 ? undefined : trace.api[k];
  };
  const byThread = spansByThread(trace.spans);
  const launchers = new LauncherTable();
  const links = linkOpsToCalls(trace, callIndex, launchers);
  const callCtx = callContexts(trace, byThread, links.needLauncher);
  attributeLaunchers(trace, links, callCtx, launchers);
  giveSyncsTheirThread(trace, callOf);
  const sync = checkSyncs(trace, links.callMaxEnd);
  const result: MergeResult = {
    callOf,
    opCall: links.opCall,
    opCallIdx: links.opCallIdx,
    launchers: launchers.list,
    callCtx,
    byThread,
    matched: links.matched,
    violations: links.violations,
    violationMaxNs: links.violationMaxNs,
    syncViolations: sync.count,
    syncViolationMaxNs: sync.maxNs,
    checked: links.matched > 0 || sync.checked,
  };
  reportCausality(trace, result);
  return result;
}

/** Every array of the trace in time order (spans: parents before children). */
function sortTrace(trace: Trace): void {
  sortSpans(trace.spans);
  sortByStart(trace.api);
  sortByStart(trace.gpu);
  sortByStart(trace.syncs);
  trace.instants.sort((a, b) => a.ts - b.ts);
  trace.counters.sort((a, b) => a.ts - b.ts);
}

/**
 * Launchers, interned: equal launchers are one shared object, so later stages can group GPU ops
 * by launcher identity (launcherId).
 */
class LauncherTable {
  readonly list: Launcher[] = [];
  private readonly byKey = new Map<string, Launcher>();
  private readonly codeIds = new FunctionIds();
  // code (by function id) → scope span name → thread → API → launcher: nested Maps keyed by the
  // (interned) strings themselves, no key string built per call
  private readonly byCode: Map<string, Map<number, Map<string, Launcher>>>[] = [];

  /** The shared launcher equal to l (l itself the first time). */
  intern(l: Launcher): Launcher {
    const key = `${l.tid}\u0000${l.api ?? ""}\u0000${l.function ?? ""}\u0000${l.file ?? ""}\u0000${l.line ?? ""}\u0000${l.scope ?? ""}`;
    const hit = this.byKey.get(key);
    if (hit) return hit;
    this.byKey.set(key, l);
    // writable: a trace merged a second time gives its launchers the new table's ids
    Object.defineProperty(l, LAUNCHER_ID, { value: this.list.length, enumerable: false, writable: true, configurable: true });
    this.list.push(l);
    return l;
  }

  /** The launcher of `call` made under the stack context `ctx`. */
  forCall(call: ApiCall, ctx: StackContext): Launcher {
    const code = ctx.python ?? ctx.op;
    const id = this.codeIds.id(code?.name ?? "", code?.file, code?.line);
    let byScope = this.byCode[id];
    if (!byScope) this.byCode[id] = byScope = new Map();
    const scope = ctx.scope?.name ?? "";
    let byTid = byScope.get(scope);
    if (!byTid) byScope.set(scope, (byTid = new Map()));
    let byApi = byTid.get(call.tid);
    if (!byApi) byTid.set(call.tid, (byApi = new Map()));
    let l = byApi.get(call.name);
    if (!l) byApi.set(call.name, (l = this.intern(launcherOf(call, ctx))));
    return l;
  }
}

/** Each GPU op joined to its launch call by correlation id, and the causality of each pair. */
interface OpLinks {
  opCall: (ApiCall | undefined)[];
  opCallIdx: Int32Array;
  /** per call (index in trace.api): the latest end of the ops it launched, -Infinity if none */
  callMaxEnd: Float64Array;
  /** per call: 1 when one of its ops has no launcher yet */
  needLauncher: Uint8Array;
  needed: number;
  matched: number;
  violations: number;
  violationMaxNs: number;
}

function linkOpsToCalls(trace: Trace, callIndex: (correlation: number) => number, launchers: LauncherTable): OpLinks {
  // Per-call state lives in arrays indexed like trace.api (object-keyed Maps are slow at this size).
  const nApi = trace.api.length;
  const links: OpLinks = {
    opCall: new Array(trace.gpu.length),
    opCallIdx: new Int32Array(trace.gpu.length).fill(-1),
    callMaxEnd: new Float64Array(nApi).fill(-Infinity),
    needLauncher: new Uint8Array(nApi),
    needed: 0,
    matched: 0,
    violations: 0,
    violationMaxNs: 0,
  };
  for (let i = 0; i < trace.gpu.length; i++) {
    const op = trace.gpu[i]!;
    if (op.launcher) op.launcher = launchers.intern(op.launcher);
    if (op.correlation === undefined) continue;
    const k = callIndex(op.correlation);
    if (k < 0) continue;
    const call = trace.api[k]!;
    links.opCall[i] = call;
    links.opCallIdx[i] = k;
    links.matched++;
    const d = call.start - op.start;
    if (d > 0) {
      links.violations++;
      if (d > links.violationMaxNs) links.violationMaxNs = d;
    }
    if (op.end > links.callMaxEnd[k]!) links.callMaxEnd[k] = op.end;
    if (!op.launcher && links.needLauncher[k] === 0) {
      links.needLauncher[k] = 1;
      links.needed++;
    }
  }
  return links;
}

/**
 * Stack contexts in one sweep: launch calls whose ops need a launcher, and every sync / copy /
 * memset call (the sync analysis names who called them). Indexed like trace.api.
 */
function callContexts(trace: Trace, byThread: Map<number, CpuSpan[]>, needLauncher: Uint8Array): (StackContext | undefined)[] {
  const nApi = trace.api.length;
  const callCtx: (StackContext | undefined)[] = new Array(nApi);
  const queryIdx: number[] = [];
  for (let k = 0; k < nApi; k++) {
    const kind = trace.api[k]!.kind;
    if (needLauncher[k] === 1 || kind === "sync" || kind === "memcpy" || kind === "memset") queryIdx.push(k); // in start order
  }
  if (queryIdx.length > 0) {
    const ctxAll = resolveStacks(
      byThread,
      mapF64(queryIdx, (k) => trace.api[k]!.tid),
      mapF64(queryIdx, (k) => trace.api[k]!.start),
    );
    for (let i = 0; i < queryIdx.length; i++) callCtx[queryIdx[i]!] = ctxAll[i];
  }
  return callCtx;
}

/** Fill `launcher` on the GPU ops that lack one, from their launch call's stack context. */
function attributeLaunchers(trace: Trace, links: OpLinks, callCtx: (StackContext | undefined)[], launchers: LauncherTable): void {
  if (links.needed === 0) return;
  const nApi = trace.api.length;
  const launcherOfCall: (Launcher | undefined)[] = new Array(nApi);
  // Consecutive calls under the same stack share one context object: one lookup per run of them;
  // equal launchers from different runs are interned by their content.
  let prevCtx: StackContext | null = null;
  let prevTid = -1;
  let prevApi = "";
  let prev: Launcher | undefined;
  for (let k = 0; k < nApi; k++) {
    if (links.needLauncher[k] !== 1) continue;
    const call = trace.api[k]!;
    const c = callCtx[k]!;
    if (c !== prevCtx || call.tid !== prevTid || call.name !== prevApi || !prev) {
      prev = launchers.forCall(call, c);
      prevCtx = c;
      prevTid = call.tid;
      prevApi = call.name;
    }
    launcherOfCall[k] = prev;
  }
  for (let i = 0; i < trace.gpu.length; i++) {
    const op = trace.gpu[i]!;
    const k = links.opCallIdx[i]!;
    if (!op.launcher && k >= 0) op.launcher = launcherOfCall[k]!;
  }
}

/** CUPTI synchronization records may sit on a GPU lane: give them their API call's thread. */
function giveSyncsTheirThread(trace: Trace, callOf: (correlation: number) => ApiCall | undefined): void {
  for (const w of trace.syncs) {
    if (w.correlation === undefined) continue;
    const call = callOf(w.correlation);
    if (call && (w.tid !== call.tid || w.pid !== call.pid)) {
      w.tid = call.tid;
      w.pid = call.pid;
    }
  }
}

/** The clock error bound (meta.clockErrorBoundNs) and a warning per kind of causality violation. */
function reportCausality(trace: Trace, m: MergeResult): void {
  if (m.checked) {
    const bound = Math.max(m.violationMaxNs, m.syncViolationMaxNs);
    trace.meta.clockErrorBoundNs = Math.max(trace.meta.clockErrorBoundNs ?? 0, bound);
  }
  if (m.violations > 0) {
    trace.warnings.push(
      `${m.violations} GPU ops start before the call that launched them (by up to ${(m.violationMaxNs / 1000).toFixed(1)} µs): the CPU and GPU clocks disagree by at least that much`,
    );
  }
  if (m.syncViolations > 0) {
    trace.warnings.push(
      `${m.syncViolations} device synchronizations return before the GPU work they waited for ended (by up to ${(m.syncViolationMaxNs / 1000).toFixed(1)} µs)`,
    );
  }
}

/**
 * correlation id → index in `api` (-1: none). CUPTI numbers every API call, recorded or not, so a
 * trace's ids rise but are sparse (a real torch.profiler trace: 5,381 calls, ids 12 to 58,933): a
 * table over the ids' range takes them when it has at most 32 slots a call (4 bytes each, less than
 * the call itself; a Map cost 54 ms at 150,000 calls); ids spread wider fall back to a Map.
 */
function correlationIndex(api: ApiCall[]): (correlation: number) => number {
  let min = Infinity;
  let max = -1;
  for (const c of api) {
    const id = c.correlation;
    if (id < 0) continue;
    if (id > max) max = id;
    if (id < min) min = id;
  }
  if (max >= 0 && max - min <= 32 * api.length + 1_000_000 && Number.isInteger(min) && Number.isInteger(max)) {
    const table = new Int32Array(max - min + 1).fill(-1);
    for (let k = 0; k < api.length; k++) {
      const c = api[k]!.correlation;
      if (c >= 0 && Number.isInteger(c)) table[c - min] = k;
    }
    return (corr) => (corr >= min && corr <= max ? (table[corr - min] ?? -1) : -1);
  }
  const m = new Map<number, number>();
  for (let k = 0; k < api.length; k++) if (api[k]!.correlation >= 0) m.set(api[k]!.correlation, k);
  return (corr) => m.get(corr) ?? -1;
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
function checkSyncs(trace: Trace, callMaxEnd: Float64Array): { count: number; maxNs: number; checked: boolean } {
  const devices = new Set<number>();
  for (const op of trace.gpu) devices.add(op.device);
  if (devices.size !== 1) return { count: 0, maxNs: 0, checked: false };
  // launch calls in start order (trace.api is sorted) with the running max of their ops' ends
  const launches: number[] = [];
  const maxEndArr: number[] = [];
  let m = -Infinity;
  for (let k = 0; k < trace.api.length; k++) {
    const e = callMaxEnd[k]!;
    if (e === -Infinity) continue;
    m = Math.max(m, e);
    launches.push(trace.api[k]!.start);
    maxEndArr.push(m);
  }
  if (launches.length === 0) return { count: 0, maxNs: 0, checked: false };
  const maxEnd = maxEndArr;
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
