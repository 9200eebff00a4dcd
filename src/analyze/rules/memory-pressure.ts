// Memory pressure: the host runs out of available memory or swaps, or the GPU's memory is nearly
// full. Needs the sampled counter tracks (memory, gpu N); otherwise not measured.
import { type AnalysisContext, type Rule, type RuleFinding, round } from "./common.ts";
import type { ParamDefs } from "../params.ts";

/** Host memory available below this many MB at some sample is pressure. */
export const MEMORY_AVAILABLE_MIN_MB = 512;
/** System swap use growing by at least this many MB during the run is pressure. */
export const SWAP_GROWTH_MIN_MB = 64;
/** The process having at least this many MB swapped out is pressure. */
export const PROCESS_SWAP_MIN_MB = 64;
/** GPU memory use at or above this share of the device's memory is pressure. */
export const GPU_MEMORY_FULL_SHARE = 0.95;

/** The thresholds a rules file may override by name (`rule_id.param`, docs/rules.md). */
const PARAMS = {
  available_min_mb: { default: MEMORY_AVAILABLE_MIN_MB, unit: "MB", doc: "host memory available below this at some sample is pressure" },
  swap_growth_min_mb: { default: SWAP_GROWTH_MIN_MB, unit: "MB", doc: "system swap growing by at least this much during the run is pressure" },
  process_swap_min_mb: { default: PROCESS_SWAP_MIN_MB, unit: "MB", doc: "the process having at least this much swapped out is pressure" },
  gpu_memory_full_share: { default: GPU_MEMORY_FULL_SHARE, unit: "share of device memory", doc: "GPU memory use at or above this share of the device's memory is pressure", max: 1 },
} satisfies ParamDefs;

export const memoryPressureRule: Rule<typeof PARAMS> = {
  id: "memory_pressure",
  description: `host memory available < ${MEMORY_AVAILABLE_MIN_MB} MB, swap growing ≥ ${SWAP_GROWTH_MIN_MB} MB, or GPU memory ≥ ${GPU_MEMORY_FULL_SHARE * 100} % full`,
  params: PARAMS,
  evaluate(ctx: AnalysisContext, p): RuleFinding | null {
    const c = ctx.cpu;
    const reasons: string[] = [];
    const evidence: Record<string, unknown> = {};
    if (c.minAvailableMb !== null) {
      evidence.min_available_mb = c.minAvailableMb;
      if (c.minAvailableMb < p.available_min_mb) reasons.push(`only ${round(c.minAvailableMb, 0)} MB of host memory available`);
    }
    if (c.peakRssMb !== null) evidence.peak_rss_mb = c.peakRssMb;
    if (c.swapGrowthMb !== null) {
      evidence.swap_growth_mb = c.swapGrowthMb;
      if (c.swapGrowthMb >= p.swap_growth_min_mb) reasons.push(`system swap grew by ${round(c.swapGrowthMb, 0)} MB`);
    }
    if (c.processSwapMb !== null) {
      evidence.process_swap_mb = c.processSwapMb;
      if (c.processSwapMb >= p.process_swap_min_mb) reasons.push(`${round(c.processSwapMb, 0)} MB of the process swapped out`);
    }
    let gpuFull = false;
    for (const dev of ctx.trace.meta.devices) {
      const used = c.gpuMemPeakMb.get(dev.index);
      if (used === undefined || dev.memoryBytes === undefined || dev.memoryBytes <= 0) continue;
      const share = (used * 1048576) / dev.memoryBytes;
      evidence[`gpu${dev.index}_memory_peak_pct`] = round(share * 100, 1);
      if (share >= p.gpu_memory_full_share) {
        gpuFull = true;
        reasons.push(`GPU ${dev.index} memory ${round(share * 100, 1)} % full`);
      }
    }
    if (reasons.length === 0) return null;
    const hostPressure = reasons.length > (gpuFull ? 1 : 0);
    const suggestions: string[] = [];
    if (hostPressure) {
      suggestions.push("Lower the host footprint: smaller prefetch queues (DataLoader prefetch_factor, num_workers), load datasets lazily or memory-mapped, free Python references to big arrays after use.");
      suggestions.push("Pinned memory cannot be swapped: allocate one reusable pinned staging buffer instead of pinning every batch, and check other processes on the machine (free -m, /proc/meminfo).");
    }
    if (gpuFull) {
      suggestions.push("The GPU is nearly out of memory (the caching allocator may be freeing and retrying): reduce the batch or sequence length, use fp16/bf16 weights and activations, or set PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to cut fragmentation.");
      if (!hostPressure) suggestions.push("Check torch.cuda.memory_summary() for fragmentation, and free tensors held across steps (caches, lists of outputs) — keep results on the CPU if they are not reused on the GPU.");
    }
    return {
      title: `Memory pressure: ${reasons.join("; ")}`,
      severity: reasons.length > 1 || (c.processSwapMb ?? 0) >= p.process_swap_min_mb ? "high" : "medium",
      confidence: 0.7,
      impact_ms: 0,
      evidence,
      suggestions,
      saving: { kind: "none", reason: "memory pressure costs time through swapping, page faults and allocator retries, which the trace does not time" },
    };
  },
};
