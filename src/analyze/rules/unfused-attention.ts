// Unfused attention: softmax(Q·Kᵀ)·V written out as a batched matmul, a softmax kernel (with the
// scaling, masking and dropout kernels around it) and a second batched matmul, on one stream —
// the score matrix goes to memory and back several times. scaled_dot_product_attention runs it as
// one fused kernel (FlashAttention, memory-efficient attention, cuDNN) that never writes it. A
// trace that already runs fused attention kernels gets no finding: its attention is fused, and a
// matmul → softmax → matmul there is something else (an MoE router, a classifier head).
import { ClaimBuilder } from "../savings.ts";
import type { ParamDefs } from "../params.ts";
import { type AnalysisContext, type Rule, type RuleFinding, clamp01, codeName, msRounded, pct, round, severityFor } from "./common.ts";
import { kernelEvidence, kernelGroups } from "./kernel-groups.ts";
import { glueFlags } from "./unfused-glue.ts";

/** At most this many glue kernels (the softmax among them) between the two matmuls. */
export const ATTENTION_MAX_BETWEEN = 6;
/** The matched matmul–softmax–matmul kernels take at least this share of GPU busy time… */
export const ATTENTION_MIN_BUSY_SHARE = 0.1;
/** …and the kernels between the matmuls, where the GPU sets the pace, at least this share of the window. */
export const ATTENTION_MIN_BETWEEN_SHARE = 0.02;

/** The thresholds a rules file may override by name (`rule_id.param`, docs/rules.md). */
const PARAMS = {
  max_between: { default: ATTENTION_MAX_BETWEEN, unit: "kernels", doc: "at most this many glue kernels, a softmax among them, between the two matmuls…", integer: true, min: 1 },
  min_busy_share: { default: ATTENTION_MIN_BUSY_SHARE, unit: "share of GPU busy time", doc: "…the matched kernels take at least this share of the GPU's busy time…", max: 1 },
  min_between_share: { default: ATTENTION_MIN_BETWEEN_SHARE, unit: "share of the GPU window", doc: "…and the kernels between the matmuls at least this share of the window where the GPU sets the pace", max: 1 },
} satisfies ParamDefs;

const SOFTMAX = /softmax/i;

export interface AttentionMatch {
  first: number;
  /** the kernels between the two matmuls */
  between: number[];
  second: number;
}

/** Every GEMM → glue kernels with a softmax among them → GEMM sequence on a stream. */
export function attentionMatches(ctx: AnalysisContext, maxBetween = ATTENTION_MAX_BETWEEN): AttentionMatch[] {
  const g = ctx.gpu!;
  const cls = ctx.work!.classes;
  const isGlue = glueFlags(cls);
  const softmaxName = new Map<string, boolean>(); // names are tested once each
  const isSoftmax = (name: string): boolean => {
    let s = softmaxName.get(name);
    if (s === undefined) softmaxName.set(name, (s = SOFTMAX.test(name)));
    return s;
  };
  const out: AttentionMatch[] = [];
  for (const stream of ctx.work!.streams) {
    let first = -1; // the last GEMM, while only glue kernels followed it
    let between: number[] = [];
    let softmax = false;
    for (const i of stream) {
      if (cls[i] === "gemm") {
        if (first >= 0 && softmax) out.push({ first, between, second: i });
        [first, between, softmax] = [i, [], false]; // a matmul closes one sequence and may open the next
      } else if (first >= 0 && isGlue[i] && between.length < maxBetween) {
        between.push(i);
        if (!softmax && isSoftmax(g.ops[i]!.name)) softmax = true;
      } else if (first >= 0) [first, between, softmax] = [-1, [], false]; // not glue, or too many of them
    }
  }
  return out;
}

export const unfusedAttentionRule: Rule<typeof PARAMS> = {
  id: "unfused_attention",
  description: `matmul → softmax (≤ ${ATTENTION_MAX_BETWEEN} glue kernels) → matmul on a stream taking ≥ ${ATTENTION_MIN_BUSY_SHARE * 100} % of GPU busy time`,
  params: PARAMS,
  evaluate(ctx: AnalysisContext, p): RuleFinding | null {
    const g = ctx.gpu;
    const w = ctx.work;
    if (!g || !w || g.windowNs <= 0 || g.busyNs <= 0) return null;
    if (w.byClass.some((s) => s.cls === "attention")) return null;
    const matches = attentionMatches(ctx, p.max_between);
    if (matches.length === 0) return null;
    const inPattern = new Set<number>();
    const between = new Set<number>();
    for (const m of matches) {
      inPattern.add(m.first);
      inPattern.add(m.second);
      for (const i of m.between) {
        inPattern.add(i);
        between.add(i);
      }
    }
    let patternNs = 0;
    for (const i of inPattern) patternNs += g.ops[i]!.end - g.ops[i]!.start;
    const claim = new ClaimBuilder();
    let betweenPaced = 0;
    for (const i of between) {
      const op = g.ops[i]!;
      if (!w.paced[i]) continue;
      claim.add(op.start, op.end);
      betweenPaced += op.end - op.start;
    }
    if (patternNs < p.min_busy_share * g.busyNs || betweenPaced < p.min_between_share * g.windowNs) return null;
    const softmax = kernelGroups(g.ops, (op, i) => between.has(i) && SOFTMAX.test(op.name));
    const matmuls = kernelGroups(g.ops, (_, i) => inPattern.has(i) && !between.has(i));
    const where = softmax[0]?.ref ?? matmuls[0]?.ref;
    return {
      title: `Unfused attention: ${matches.length} matmul → softmax → matmul sequences take ${pct(patternNs, g.busyNs)} % of GPU busy time`,
      severity: severityFor(betweenPaced, g.windowNs),
      confidence: round(clamp01(0.65 + 0.25 * Math.min(1, patternNs / g.busyNs / 0.4))),
      impact_ms: msRounded(betweenPaced),
      evidence: {
        sequences: matches.length,
        pattern_ms: msRounded(patternNs),
        pattern_pct_of_busy: pct(patternNs, g.busyNs),
        between_matmuls_ms: msRounded(betweenPaced),
        softmax_kernels: softmax.slice(0, 2).map(kernelEvidence),
        matmul_kernels: matmuls.slice(0, 2).map(kernelEvidence),
      },
      suggestions: [
        `Replace the explicit softmax(q @ k.transpose(-2, -1) * scale) @ v${where?.function || where?.scope ? ` in ${codeName(where)}` : ""} with torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=…, is_causal=…): it runs a fused FlashAttention / memory-efficient / cuDNN kernel that never writes the attention-score matrix (${matches.length} sequences here, ${msRounded(patternNs)} ms).`,
        "For a Hugging Face model, load it with attn_implementation=\"sdpa\" (or \"flash_attention_2\" with the flash-attn package) instead of \"eager\".",
        "If an explicit mask keeps SDPA off its fastest kernels, pass is_causal=True instead of a causal mask tensor, or use FlexAttention (torch.nn.attention.flex_attention) for custom masks.",
      ],
      saving: {
        kind: "time",
        claim: claim.build(),
        basis: "A fused attention kernel never writes the score matrix: the softmax, scaling and masking kernels between the two matmuls go where the GPU sets the pace; the matmuls' work stays.",
      },
    };
  },
};
