// The overall classification (docs/analysis.md, "Classification"). The GPU window splits into
// three disjoint parts: compute (≥ 1 kernel or memset running), transfer (only copies running)
// and idle. The largest part, if it passes its threshold, names the bottleneck.
import type { Report } from "./report-types.ts";
import type { AnalysisContext } from "./rules/common.ts";
import { clamp01, pct, round } from "./rules/common.ts";

/** GPU computing at least this share of its window: gpu_bound. */
export const GPU_BOUND_COMPUTE_SHARE = 0.7;
/** GPU idle at least this share of its window (and the largest part): cpu_bound. */
export const CPU_BOUND_IDLE_SHARE = 0.5;
/** GPU only copying at least this share of its window (and the largest part): memory_bound. */
export const MEMORY_BOUND_TRANSFER_SHARE = 0.3;
/** Fewer GPU ops than this: too little to classify. */
export const CLASSIFY_MIN_GPU_OPS = 3;

export function classify(ctx: AnalysisContext): Report["bottleneck"] {
  const g = ctx.gpu;
  if (!g) {
    return {
      classification: "unknown",
      confidence: 0,
      reason:
        ctx.trace.api.length > 0
          ? "the trace has CUDA API calls but no GPU activity (kernels, copies): GPU collection was off or failed"
          : "the trace has no GPU activity (kernels, copies): nothing to say about the GPU",
    };
  }
  if (g.ops.length < CLASSIFY_MIN_GPU_OPS || g.windowNs <= 0) {
    return { classification: "unknown", confidence: 0, reason: `only ${g.ops.length} GPU ops in the trace: too little to classify` };
  }
  const W = g.windowNs;
  const c = g.computeNs / W;
  const t = g.transferOnlyNs / W;
  const i = g.idleNs / W;
  const parts = `compute ${pct(g.computeNs, W)} %, copies only ${pct(g.transferOnlyNs, W)} %, idle ${pct(g.idleNs, W)} % of the ${round(W / 1e6, 2)} ms GPU window`;
  const conf = (share: number, threshold: number) => 0.5 + 0.45 * clamp01((share - threshold) / (1 - threshold));
  const kineto = ctx.trace.format === "kineto";

  if (i >= CPU_BOUND_IDLE_SHARE && i >= c && i >= t) {
    const hostShare = g.idleNs > 0 ? g.hostWaitNs / g.idleNs : 0;
    let confidence = conf(i, CPU_BOUND_IDLE_SHARE);
    let why: string;
    if (g.launchesKnown) {
      confidence *= 0.5 + 0.5 * hostShare;
      why = `${pct(g.hostWaitNs, g.idleNs)} % of the idle time the next launch had not been issued yet (host-wait)`;
    } else {
      confidence *= 0.75;
      why = "the launch calls are not in the trace, so host-wait cannot be told from other idle";
    }
    return {
      classification: "cpu_bound",
      confidence: round(confidence),
      reason: `GPU idle most of the time: ${parts}; ${why}${kineto ? " (torch.profiler adds CPU overhead to every op it records: confirm with a step time measured without it)" : ""}`,
    };
  }
  if (t >= MEMORY_BOUND_TRANSFER_SHARE && t >= c && t >= i) {
    return {
      classification: "memory_bound",
      confidence: round(conf(t, MEMORY_BOUND_TRANSFER_SHARE)),
      reason: `host↔device copies dominate: ${parts}`,
    };
  }
  if (c >= GPU_BOUND_COMPUTE_SHARE) {
    return {
      classification: "gpu_bound",
      confidence: round(conf(c, GPU_BOUND_COMPUTE_SHARE)),
      reason: `the GPU is computing most of the time: ${parts}; faster kernels (or less work) shorten the run`,
    };
  }
  // nothing dominates
  const margin = Math.min(GPU_BOUND_COMPUTE_SHARE - c, CPU_BOUND_IDLE_SHARE - i, MEMORY_BOUND_TRANSFER_SHARE - t);
  return {
    classification: "balanced",
    confidence: round(0.5 + 0.45 * clamp01(margin / 0.2)),
    reason: `no single part dominates: ${parts}`,
  };
}
