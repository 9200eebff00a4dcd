// Kernel statistics: count, time, the top kernels with their launchers, short kernels, launch
// overhead and queue depth (docs/analysis.md, "Kernels").
import type { ApiCall, GpuOp, Launcher, Trace } from "../trace/model.ts";
import type { KernelStat } from "./report-types.ts";
import { lowerBound, upperBound } from "./intervals.ts";

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

function launcherKey(l: Launcher | undefined): string {
  if (!l) return "";
  return `${l.function ?? ""}\u0000${l.file ?? ""}\u0000${l.line ?? ""}\u0000${l.scope ?? ""}`;
}

export function isGraphLaunched(op: GpuOp): boolean {
  return op.graphId !== undefined || (op.launcher?.api !== undefined && /GraphLaunch/.test(op.launcher.api));
}

export function kernelMetrics(trace: Trace, calls: Map<number, ApiCall>, busyNs: number, topN: number): KernelMetrics {
  const kernels = trace.gpu.filter((o) => o.kind === "kernel");
  let totalNs = 0;
  let maxNs = 0;
  let shortCount = 0;
  let graphCount = 0;
  const byName = new Map<string, { count: number; ns: number; max: number; launchers: Map<string, { ref: Launcher | undefined; ns: number }> }>();
  const shortBy = new Map<string, { ref: Launcher | undefined; count: number; ns: number }>();
  for (const k of kernels) {
    const d = k.end - k.start;
    totalNs += d;
    if (d > maxNs) maxNs = d;
    const graph = isGraphLaunched(k);
    if (graph) graphCount++;
    const lk = launcherKey(k.launcher);
    if (d < SHORT_KERNEL_NS) {
      shortCount++;
      if (!graph) {
        const s = shortBy.get(lk);
        if (s) {
          s.count++;
          s.ns += d;
        } else shortBy.set(lk, { ref: k.launcher, count: 1, ns: d });
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
    const l = st.launchers.get(lk);
    if (l) l.ns += d;
    else st.launchers.set(lk, { ref: k.launcher, ns: d });
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
      let best: { ref: Launcher | undefined; ns: number } | undefined;
      for (const l of st.launchers.values()) if (!best || l.ns > best.ns) best = l;
      const ref = best?.ref;
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
    count: kernels.length,
    totalNs,
    maxNs,
    shortCount,
    graphCount,
    launchApiNs,
    launchCalls,
    queueDepth: queueDepth(trace.gpu, calls),
    top,
    shortByLauncher: [...shortBy.values()].sort((a, b) => b.count - a.count),
  };
}

/**
 * Queue depth at a launch: GPU ops whose launch call started before it and that have not ended
 * yet. Mean and max over the distinct launch calls that issued GPU work.
 */
function queueDepth(ops: GpuOp[], calls: Map<number, ApiCall>): { mean: number; max: number } | null {
  const launchTimes: number[] = [];
  const endTimes: number[] = [];
  const distinct = new Set<ApiCall>();
  for (const op of ops) {
    if (op.correlation === undefined) continue;
    const c = calls.get(op.correlation);
    if (!c) continue;
    launchTimes.push(c.start);
    endTimes.push(op.end);
    distinct.add(c);
  }
  if (distinct.size === 0) return null;
  const L = Float64Array.from(launchTimes).sort();
  const E = Float64Array.from(endTimes).sort();
  let sum = 0;
  let max = 0;
  for (const c of distinct) {
    const t = c.start;
    const depth = Math.max(0, lowerBound(L, t) - upperBound(E, t));
    sum += depth;
    if (depth > max) max = depth;
  }
  return { mean: sum / distinct.size, max };
}
