// The overall classification (docs/analysis.md, "Classification"). The GPU window splits into
// three disjoint parts: compute (≥ 1 kernel or memset running), transfer (only copies running)
// and idle. The largest part, if it passes its threshold, names the bottleneck.
import type { Finding, Report } from "./report-types.ts";
import type { AnalysisContext } from "./rules/common.ts";
import { clamp01, codeName, pct, round } from "./rules/common.ts";
import { CLASS_LABELS, kernelLabel } from "./kernel-classes.ts";
import { kernelGroups } from "./rules/kernel-groups.ts";
import { classifyWithoutGpu } from "./cpu-classify.ts";
import { tick } from "./cpu-focus.ts";

/** GPU computing at least this share of its window: gpu_bound. */
export const GPU_BOUND_COMPUTE_SHARE = 0.7;
/** GPU idle at least this share of its window (and the largest part): cpu_bound. */
export const CPU_BOUND_IDLE_SHARE = 0.5;
/** GPU only copying at least this share of its window (and the largest part): memory_bound. */
export const MEMORY_BOUND_TRANSFER_SHARE = 0.3;
/** Fewer GPU ops than this: too little to classify. */
export const CLASSIFY_MIN_GPU_OPS = 3;

/**
 * Without GPU activity the run is classified from its CPU side (cpu-classify.ts). The clause
 * about the GPU is only added when GPU collection ran and saw nothing (a CPU-only machine says
 * "no GPU data" once, elsewhere in the report), e.g. "no GPU activity was recorded (12 CUDA API
 * calls but no kernels or copies)".
 */
export function noGpuNote(ctx: AnalysisContext): string {
  const gc = ctx.trace.meta.gpuCollection;
  const nApi = ctx.trace.api.length;
  if (nApi === 0 && typeof gc === "string" && gc !== "cupti") return "";
  const notes: string[] = [];
  if (nApi > 0) notes.push(`${nApi} CUDA API ${nApi === 1 ? "call" : "calls"} but no kernels or copies`);
  if (typeof gc === "string" && gc.length > 0) notes.push(`GPU collection: ${tick(gc)}`);
  return `no GPU activity was recorded${notes.length > 0 ? ` (${notes.join("; ")})` : ""}`;
}

/**
 * The classification, its confidence and its reason; `findings` (ranked by estimated saving) let
 * the reason name the largest saving.
 */
export function classify(ctx: AnalysisContext, findings: Finding[] = []): Report["bottleneck"] {
  const b = classifyWindow(ctx);
  const best = largestSaving(findings);
  return best ? { ...b, reason: `${b.reason}; ${best}` } : b;
}

/** "largest estimated saving: 5.844 ms per `step` (71.7 % of the GPU window), from fp32_gemm" */
function largestSaving(findings: Finding[]): string | null {
  const f = findings.find((x) => x.estimated_saving?.ms !== null && x.estimated_saving?.ms !== undefined && (x.estimated_saving.window_ms ?? x.estimated_saving.ms) > 0);
  if (!f) return null;
  const s = f.estimated_saving!;
  const per = s.per === "step" ? ` per \`${s.scope}\`` : "";
  return `largest estimated saving: ${s.ms} ms${per} (${s.pct_of_window} % of the window), from ${f.rule}`;
}

/**
 * What the GPU's compute time went to, for a GPU-bound verdict: the kernel class with the most
 * time, its biggest kernel and who launched it, and for GEMMs the achieved share of the peak.
 */
function dominantWork(ctx: AnalysisContext): string {
  const g = ctx.gpu!;
  const w = ctx.work;
  const top = w?.byClass.find((c) => c.cls !== "memcpy" && c.cls !== "memset");
  if (!w || !top || g.busyNs <= 0) return "faster kernels (or less work) shorten the run";
  const k = kernelGroups(g.ops, (op) => op.name === top.topName)[0];
  const by = k?.ref?.function || k?.ref?.scope ? ` launched by ${codeName(k.ref)}` : "";
  let s = `${CLASS_LABELS[top.cls]} kernels take ${pct(top.ns, g.busyNs)} % of GPU busy time, most in \`${kernelLabel(top.topName)}\`${by}`;
  if (top.cls === "gemm" && w.gemm) {
    const row = w.gemm.byPrecision[0];
    const dev = w.device?.peaks?.name ?? w.device?.name ?? "the device";
    if (row?.achievedTflops !== null && row?.achievedTflops !== undefined && row.peakTflops) {
      s += `; the ${row.precision} GEMMs run at ${round(row.achievedTflops, 1)} TFLOP/s, ${pct(row.achievedTflops, row.peakTflops)} % of the ${dev}'s dense ${row.precision} peak`;
    } else if (w.gemm.notMeasured) s += "; GEMM TFLOP/s not measured (no tensor shapes in the trace)";
  }
  return s;
}

function classifyWindow(ctx: AnalysisContext): Report["bottleneck"] {
  const g = ctx.gpu;
  if (!g) return classifyWithoutGpu(ctx, noGpuNote(ctx));
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
      reason: `the GPU is computing most of the time: ${parts}; ${dominantWork(ctx)}`,
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
