// GEMMs without tensor cores: fp32 matrix multiplies running as CUDA-core SGEMMs (cuBLAS
// ampere_sgemm, CUTLASS simt_sgemm, xmma …_ffma_) on a GPU that has TF32 tensor cores (sm80+),
// where PyTorch's default ("highest" fp32 matmul precision) keeps them off the tensor cores.
// Skinny products (gemv, small-N kernels) are left out: they are limited by memory bandwidth and
// TF32 would not speed them up.
import { opClaim } from "../claims.ts";
import type { SavingSpec } from "../savings.ts";
import type { ParamDefs } from "../params.ts";
import { type AnalysisContext, type Rule, type RuleFinding, clamp01, msRounded, pct, round, severityFor } from "./common.ts";
import { dominantGemms, kernelEvidence, kernelPhrase } from "./kernel-groups.ts";

/** fp32 SIMT GEMMs take at least this share of the GPU's busy time… */
export const FP32_GEMM_MIN_BUSY_SHARE = 0.2;
/** …and at least this share of the window in pace-setting time (where faster kernels shorten the run)… */
export const FP32_GEMM_MIN_PACE_SHARE = 0.05;
/** …on a GPU with TF32 tensor cores (compute capability 8.0, Ampere, and later). */
export const TF32_MIN_COMPUTE_CAPABILITY = 8.0;

/** The thresholds a rules file may override by name (`rule_id.param`, docs/rules.md). */
const PARAMS = {
  min_busy_share: { default: FP32_GEMM_MIN_BUSY_SHARE, unit: "share of GPU busy time", doc: "fp32 GEMMs on CUDA cores (SIMT, not skinny) take at least this share of the GPU's busy time…", max: 1 },
  min_pace_share: { default: FP32_GEMM_MIN_PACE_SHARE, unit: "share of the GPU window", doc: "…and at least this share of the window where the GPU sets the pace…", max: 1 },
  min_compute_capability: { default: TF32_MIN_COMPUTE_CAPABILITY, unit: "compute capability", doc: "…on a GPU of at least this compute capability (TF32 tensor cores: 8.0)" },
} satisfies ParamDefs;

export const fp32GemmRule: Rule<typeof PARAMS> = {
  id: "fp32_gemm",
  description: `fp32 GEMMs without tensor cores take ≥ ${FP32_GEMM_MIN_BUSY_SHARE * 100} % of GPU busy time (≥ ${FP32_GEMM_MIN_PACE_SHARE * 100} % of the window where the GPU sets the pace) on an sm${TF32_MIN_COMPUTE_CAPABILITY * 10}+ GPU`,
  params: PARAMS,
  evaluate(ctx: AnalysisContext, p): RuleFinding | null {
    const d = dominantGemms(ctx, p, (k) => k.precision === "fp32" && !k.tensorCores);
    if (!d) return null;
    const { g, w, dev, ns, paced, groups, pick: simt } = d;

    const peaks = dev.peaks?.tflops;
    const fp32Peak = peaks?.fp32;
    const tf32Peak = peaks?.tf32;
    const row = w.gemm?.byPrecision.find((s) => s.precision === "fp32" && !s.tensorCores);
    const evidence: Record<string, unknown> = {
      fp32_gemm_ms: msRounded(ns),
      fp32_gemm_pct_of_busy: pct(ns, g.busyNs),
      pace_setting_ms: msRounded(paced),
      device: dev.name,
      compute_capability: dev.cc,
      fp32_peak_tflops: fp32Peak ?? null,
      tf32_peak_tflops: tf32Peak ?? null,
      achieved_tflops: row?.achievedTflops === null || row === undefined ? null : round(row.achievedTflops, 1),
      kernels: groups.slice(0, 3).map(kernelEvidence),
    };
    if (dev.peaks) evidence.peak_source = dev.peaks.source;
    const top = groups[0]!;
    const speedup = fp32Peak && tf32Peak ? `, at most ${round(tf32Peak / fp32Peak, 1)}× faster on this ${dev.peaks!.name} (${fp32Peak} → ${tf32Peak} TFLOP/s dense)` : "";
    const suggestions = [
      `Let the fp32 matmuls use TF32 tensor cores: call torch.set_float32_matmul_precision("high") (or torch.backends.cuda.matmul.allow_tf32 = True) once before the model runs; ${kernelPhrase(top, g.busyNs)} then runs on tensor cores${speedup}. TF32 keeps fp32's range with a 10-bit mantissa: compare a few outputs against fp32.`,
      `Run the model in bf16 instead: wrap the forward pass in torch.autocast("cuda", dtype=torch.bfloat16), or convert it with model.to(torch.bfloat16) — twice TF32's peak, and half the memory traffic of every other kernel.`,
    ];
    if (groups.length > 1) suggestions.push(`The other fp32 GEMMs: ${groups.slice(1, 3).map((k) => kernelPhrase(k, g.busyNs)).join("; ")}.`);

    let saving: SavingSpec;
    if (fp32Peak && tf32Peak) {
      const share = 1 - fp32Peak / tf32Peak;
      saving = {
        kind: "time",
        claim: opClaim(g, w.paced, (_, i) => (simt(i) ? share : 0)),
        basis: `The fp32 GEMMs reach the same fraction of the ${dev.peaks!.name}'s TF32 peak (${tf32Peak} TFLOP/s) as they now reach of its FP32 peak (${fp32Peak}): their time where the GPU sets the pace shrinks by ${round(share * 100, 1)} %.`,
      };
    } else saving = { kind: "none", reason: `no FP32 and TF32 peak figures for ${dev.name} in the device table` };

    return {
      title: `fp32 GEMMs run without tensor cores: ${pct(ns, g.busyNs)} % of GPU busy time in SIMT SGEMMs on ${dev.peaks?.name ?? dev.name} (sm ${dev.cc.toFixed(1)})`,
      severity: severityFor(paced, g.windowNs),
      confidence: round(clamp01(0.75 + 0.2 * Math.min(1, ns / g.busyNs / 0.5))),
      impact_ms: msRounded(paced),
      evidence,
      suggestions,
      saving,
    };
  },
};
