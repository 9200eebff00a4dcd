// Kernel statistics: count, time, the top kernels with their launchers, short kernels, launch
// overhead and queue depth (docs/analysis.md, "Kernels").
import type { GpuOp, Launcher, Trace } from "../trace/model.ts";
import { type MergeResult, launcherId } from "../merge/index.ts";
import type { KernelStat } from "./report-types.ts";

/** A kernel shorter than this is "short": its launch costs about as much as it runs. */
export const SHORT_KERNEL_NS = 10_000;

export interface KernelMetrics {
  count: number;
  totalNs: number;
  maxNs: number;
  shortCount: number;
  /** Kernels launched by a CUDA-graph launch (cudaGraphLaunch) or carrying a graph id. */
  graphCount: number;
  /** Sum of launch-call durations (cudaLaunchKernel, cuLaunchKernel*, cudaGraphLaunch …); null when the trace has no API calls. */
  launchApiNs: number | null;
  launchCalls: number;
  /** GPU ops launched but not yet finished, seen at each launch call. null without launch calls. */
  queueDepth: { mean: number; max: number } | null;
  top: KernelStat[];
  /** Per kernel name, short-kernel counts by launcher (for the launch-bound rule). */
  shortByLauncher: { ref: Launcher | undefined; count: number; ns: number }[];
}


export function isGraphLaunched(op: GpuOp): boolean {
  return op.graphId !== undefined || (op.launcher?.api !== undefined && /GraphLaunch/.test(op.launcher.api));
}

export function kernelMetrics(trace: Trace, merge: MergeResult, busyNs: number, topN: number): KernelMetrics {
  let totalNs = 0;
  let maxNs = 0;
  let shortCount = 0;
  let graphCount = 0;
  let count = 0;
  // per kernel name: time by launcher id (ids are small integers: arrays, not object-keyed Maps)
  const byName = new Map<string, { count: number; ns: number; max: number; launchers: Map<number, number> }>();
  const nl = merge.launchers.length;
  const shortCountBy = new Float64Array(nl + 1);
  const shortNsBy = new Float64Array(nl + 1);
  for (const k of trace.gpu) {
    if (k.kind !== "kernel") continue;
    count++;
    const d = k.end - k.start;
    totalNs += d;
    if (d > maxNs) maxNs = d;
    const graph = isGraphLaunched(k);
    if (graph) graphCount++;
    const id = launcherId(k.launcher); // -1: none
    if (d < SHORT_KERNEL_NS) {
      shortCount++;
      if (!graph) {
        shortCountBy[id + 1]!++;
        shortNsBy[id + 1]! += d;
      }
    }
    let st = byName.get(k.name);
    if (!st) {
      st = { count: 0, ns: 0, max: 0, launchers: new Map() };
      byName.set(k.name, st);
    }
    st.count++;
    st.ns += d;
    if (d > st.max) st.max = d;
    st.launchers.set(id, (st.launchers.get(id) ?? 0) + d);
  }
  // short kernels by launcher content (launchers differing only in thread or API count as one)
  const shortBy = new Map<string, { ref: Launcher | undefined; count: number; ns: number }>();
  for (let i = 0; i <= nl; i++) {
    if (shortCountBy[i] === 0) continue;
    const l = i === 0 ? undefined : merge.launchers[i - 1];
    const key = l ? `${l.function ?? ""}\u0000${l.file ?? ""}\u0000${l.line ?? ""}\u0000${l.scope ?? ""}` : "";
    const e = shortBy.get(key);
    if (e) {
      e.count += shortCountBy[i]!;
      e.ns += shortNsBy[i]!;
    } else shortBy.set(key, { ref: l, count: shortCountBy[i]!, ns: shortNsBy[i]! });
  }

  const top: KernelStat[] = [...byName]
    .sort((a, b) => b[1].ns - a[1].ns || a[0].localeCompare(b[0]))
    .slice(0, topN)
    .map(([name, st]) => {
      const ks: KernelStat = {
        name,
        count: st.count,
        total_ms: st.ns / 1e6,
        mean_us: st.ns / st.count / 1e3,
        max_us: st.max / 1e3,
        pct_of_busy: busyNs > 0 ? (st.ns / busyNs) * 100 : 0,
      };
      let bestId = -1;
      let bestNs = -1;
      for (const [id, ns] of st.launchers) if (ns > bestNs) [bestId, bestNs] = [id, ns];
      const ref = bestId >= 0 ? merge.launchers[bestId] : undefined;
      if (ref?.function !== undefined) ks.function = ref.function;
      if (ref?.file !== undefined) ks.file = ref.file;
      if (ref?.line !== undefined) ks.line = ref.line;
      if (ref?.scope !== undefined) ks.scope = ref.scope;
      return ks;
    });

  let launchApiNs: number | null = null;
  let launchCalls = 0;
  if (trace.api.length > 0) {
    launchApiNs = 0;
    for (const c of trace.api) {
      if (c.kind === "launch" || c.kind === "graph_launch") {
        launchApiNs += c.end - c.start;
        launchCalls++;
      }
    }
  }

  return {
    count,
    totalNs,
    maxNs,
    shortCount,
    graphCount,
    launchApiNs,
    launchCalls,
    queueDepth: queueDepth(trace, merge.opCallIdx),
    top,
    shortByLauncher: [...shortBy.values()].sort((a, b) => b.count - a.count),
  };
}

/**
 * Queue depth at a launch: GPU ops whose launch call started before it and that have not ended
 * yet. Mean and max over the distinct launch calls that issued GPU work.
 */
function queueDepth(trace: Trace, opCallIdx: Int32Array): { mean: number; max: number } | null {
  const opsPerCall = new Uint32Array(trace.api.length);
  const ends: number[] = [];
  let calls = 0;
  for (let i = 0; i < opCallIdx.length; i++) {
    const k = opCallIdx[i]!;
    if (k < 0) continue;
    if (opsPerCall[k] === 0) calls++;
    opsPerCall[k]!++;
    ends.push(trace.gpu[i]!.end);
  }
  if (calls === 0) return null;
  const E = Float64Array.from(ends).sort();
  // calls in start order (trace.api is sorted): ops launched strictly before each call
  let launchedBefore = 0;
  let sum = 0;
  let max = 0;
  let e = 0;
  let prevStart = -Infinity;
  let pendingAtPrev = 0; // ops of calls starting at prevStart (not "before" calls at the same instant)
  for (let k = 0; k < trace.api.length; k++) {
    const n = opsPerCall[k]!;
    if (n === 0) continue;
    const c = trace.api[k]!;
    if (c.start > prevStart) {
      launchedBefore += pendingAtPrev;
      pendingAtPrev = 0;
      prevStart = c.start;
    }
    while (e < E.length && E[e]! <= c.start) e++;
    const depth = Math.max(0, launchedBefore - e);
    sum += depth;
    if (depth > max) max = depth;
    pendingAtPrev += n;
  }
  return { mean: sum / calls, max };
}
