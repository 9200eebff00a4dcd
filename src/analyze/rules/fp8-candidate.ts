// FP8 candidates: on a GPU with FP8 tensor cores (sm89 Ada, sm90 Hopper and later), most of the
// GPU's time goes to fp16/bf16 GEMMs — the case FP8 (twice the 16-bit tensor peak) is for.
import { gemmKind } from "../gemm.ts";
import { opClaim } from "../claims.ts";
import type { ParamDefs } from "../params.ts";
import { type AnalysisContext, type Rule, type RuleFinding, clamp01, msRounded, pct, round, severityFor } from "./common.ts";
import { dominantGemms, kernelEvidence, kernelPhrase } from "./kernel-groups.ts";

/** fp16/bf16 tensor-core GEMMs take at least this share of the GPU's busy time (GEMM-dominated)… */
export const FP8_GEMM_MIN_BUSY_SHARE = 0.5;
/** …and at least this share of the window in pace-setting time… */
export const FP8_GEMM_MIN_PACE_SHARE = 0.05;
/** …on a GPU with FP8 tensor cores. */
export const FP8_MIN_COMPUTE_CAPABILITY = 8.9;

/** The thresholds a rules file may override by name (`rule_id.param`, docs/rules.md). */
const PARAMS = {
  min_busy_share: { default: FP8_GEMM_MIN_BUSY_SHARE, unit: "share of GPU busy time", doc: "fp16/bf16 tensor-core GEMMs take at least this share of the GPU's busy time…", max: 1 },
  min_pace_share: { default: FP8_GEMM_MIN_PACE_SHARE, unit: "share of the GPU window", doc: "…and at least this share of the window where the GPU sets the pace…", max: 1 },
  min_compute_capability: { default: FP8_MIN_COMPUTE_CAPABILITY, unit: "compute capability", doc: "…on a GPU of at least this compute capability (FP8 tensor cores: 8.9)" },
} satisfies ParamDefs;

export const fp8CandidateRule: Rule<typeof PARAMS> = {
  id: "fp8_candidate",
  description: `fp16/bf16 GEMMs take ≥ ${FP8_GEMM_MIN_BUSY_SHARE * 100} % of GPU busy time (≥ ${FP8_GEMM_MIN_PACE_SHARE * 100} % of the window where the GPU sets the pace) on an sm${FP8_MIN_COMPUTE_CAPABILITY * 10}+ GPU`,
  params: PARAMS,
  evaluate(ctx: AnalysisContext, p): RuleFinding | null {
    const d = dominantGemms(ctx, p, (k) => (k.precision === "bf16" || k.precision === "fp16") && k.tensorCores);
    if (!d) return null;
    const { g, w, dev, ns, paced, groups, pick: half } = d;
    const precisions = [...new Set(groups.map((k) => gemmKind(k.name).precision))].join("/");
    const p16 = dev.peaks?.tflops.bf16;
    const p8 = dev.peaks?.tflops.fp8;
    const rows = w.gemm?.byPrecision.filter((s) => (s.precision === "bf16" || s.precision === "fp16") && s.achievedTflops !== null) ?? [];
    const top = groups[0]!;
    return {
      title: `${precisions} GEMMs take ${pct(ns, g.busyNs)} % of GPU busy time on ${dev.peaks?.name ?? dev.name}, which has FP8 tensor cores`,
      severity: severityFor(paced, g.windowNs),
      confidence: round(clamp01(0.6 + 0.2 * Math.min(1, ns / g.busyNs / 0.8))),
      impact_ms: msRounded(paced),
      evidence: {
        half_precision_gemm_ms: msRounded(ns),
        pct_of_busy: pct(ns, g.busyNs),
        pace_setting_ms: msRounded(paced),
        device: dev.name,
        compute_capability: dev.cc,
        bf16_peak_tflops: p16 ?? null,
        fp8_peak_tflops: p8 ?? null,
        achieved_tflops: rows.length > 0 ? rows.map((r) => ({ precision: r.precision, tflops: round(r.achievedTflops!, 1) })) : null,
        kernels: groups.slice(0, 3).map(kernelEvidence),
      },
      suggestions: [
        `Run the large linear layers in FP8 with per-tensor scaling: NVIDIA Transformer Engine (te.Linear inside te.fp8_autocast), or torchao (torchao.quantization.quantize_(model, Float8DynamicActivationFloat8WeightConfig())), whose FP8 linears call torch._scaled_mm; start with ${kernelPhrase(top, g.busyNs)}.`,
        "For LLM serving, a quantised inference engine does this end to end: vLLM (--quantization fp8) or TensorRT-LLM with an FP8 checkpoint.",
        "Check accuracy on your own evaluation set before and after: FP8 (e4m3) keeps 3 mantissa bits, so calibrate the scales and keep sensitive layers (embeddings, the output head, norms) in bf16.",
      ],
      saving:
        p16 && p8
          ? {
              kind: "time",
              claim: opClaim(g, w.paced, (_, i) => (half(i) ? 1 - p16 / p8 : 0)),
              basis: `FP8 GEMMs reach the same fraction of the ${dev.peaks!.name}'s FP8 peak (${p8} TFLOP/s) as these reach of its 16-bit peak (${p16}): their time where the GPU sets the pace shrinks by ${round((1 - p16 / p8) * 100, 0)} %; the work of quantising the activations is left out.`,
            }
          : { kind: "none", reason: `no 16-bit and FP8 peak figures for ${dev.name} in the device table` },
    };
  },
};
