// The rules, in the order they are evaluated. One file per rule; each exports its thresholds.
import type { Rule } from "./common.ts";
import { fp32GemmRule } from "./fp32-gemm.ts";
import { fp8CandidateRule } from "./fp8-candidate.ts";
import { gpuIdleRule } from "./gpu-idle.ts";
import { launchBoundRule } from "./launch-bound.ts";
import { memoryPressureRule } from "./memory-pressure.ts";
import { numaRemoteRule } from "./numa-remote.ts";
import { pageableCopiesRule } from "./pageable-copies.ts";
import { pcieSaturationRule } from "./pcie-saturation.ts";
import { syncCopiesRule } from "./sync-copies.ts";
import { syncStallsRule } from "./sync-stalls.ts";
import { threadingContentionRule } from "./threading-contention.ts";
import { transferOverheadRule } from "./transfer-overhead.ts";
import { underfilledGpuRule } from "./underfilled-gpu.ts";
import { unfusedAttentionRule } from "./unfused-attention.ts";
import { unfusedGlueRule } from "./unfused-glue.ts";
import { unevenLayersRule } from "./uneven-layers.ts";
import { dataLoadingStarvedRule } from "./data-loading-starved.ts";
import { pythonPreprocessingRule } from "./python-preprocessing.ts";
import { nativeCodeRule } from "./native-code.ts";
import { libraryCodeRule } from "./library-code.ts";
import { torchCpuOpsRule } from "./torch-cpu-ops.ts";
import { startupDominatesRule } from "./startup-dominates.ts";
import { threadOversubscriptionRule } from "./thread-oversubscription.ts";
import { waitingForInputRule } from "./waiting-for-input.ts";
import { blockingCallsRule } from "./blocking-calls.ts";
import { unseenWaitsRule } from "./unseen-waits.ts";
import { autogradOnRule } from "./autograd-on.ts";

// Each rule has its own parameter type; the runner hands each its own resolved values.
export const RULES: readonly Rule<any>[] = [
  gpuIdleRule,
  launchBoundRule,
  syncStallsRule,
  syncCopiesRule,
  transferOverheadRule,
  pageableCopiesRule,
  pcieSaturationRule,
  threadingContentionRule,
  memoryPressureRule,
  numaRemoteRule,
  // what the GPU's own time is spent on (GPU-bound)
  fp32GemmRule,
  fp8CandidateRule,
  unfusedAttentionRule,
  unfusedGlueRule,
  underfilledGpuRule,
  // which layer stands out
  unevenLayersRule,
  // CPU side (no GPU needed; on a GPU they explain host-wait idle time)
  pythonPreprocessingRule,
  nativeCodeRule,
  libraryCodeRule,
  torchCpuOpsRule,
  dataLoadingStarvedRule,
  waitingForInputRule,
  blockingCallsRule,
  unseenWaitsRule,
  threadOversubscriptionRule,
  // how the model is called
  autogradOnRule,
  startupDominatesRule,
];

export type { AnalysisContext, Rule } from "./common.ts";
