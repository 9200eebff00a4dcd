// Under-filled GPU: kernels launched with fewer thread blocks than the GPU has SMs leave the other
// SMs idle while they run — too little work per launch (a small batch, decode with one sequence)
// for this GPU. Needs each kernel's grid (Kineto and CUPTI record it) and the SM count (the trace's
// device properties, else the peak table).
import { opClaim } from "../claims.ts";
import type { ParamDefs } from "../params.ts";
import { type AnalysisContext, type Rule, type RuleFinding, clamp01, msRounded, pct, round, severityFor } from "./common.ts";
import { kernelEvidence, kernelGroups, kernelPhrase, opTime } from "./kernel-groups.ts";

/** Kernels with fewer thread blocks than the GPU has SMs take at least this share of GPU busy time… */
export const UNDERFILL_MIN_BUSY_SHARE = 0.25;
/** …filling on average (blocks / SMs, weighted by time) at most this share of the SMs… */
export const UNDERFILL_MAX_FILL = 0.5;
/** …and they take at least this share of the window where the GPU sets the pace. */
export const UNDERFILL_MIN_PACE_SHARE = 0.05;

/** The thresholds a rules file may override by name (`rule_id.param`, docs/rules.md). */
const PARAMS = {
  min_busy_share: { default: UNDERFILL_MIN_BUSY_SHARE, unit: "share of GPU busy time", doc: "kernels with fewer thread blocks than the GPU has SMs take at least this share of the GPU's busy time…", max: 1 },
  max_fill: { default: UNDERFILL_MAX_FILL, unit: "share of the SMs", doc: "…filling on average (blocks / SMs, weighted by time) at most this share of the SMs…", max: 1 },
  min_pace_share: { default: UNDERFILL_MIN_PACE_SHARE, unit: "share of the GPU window", doc: "…and taking at least this share of the window where the GPU sets the pace", max: 1 },
} satisfies ParamDefs;

const blocks = (grid: [number, number, number]): number => grid[0] * grid[1] * grid[2];

export const underfilledGpuRule: Rule<typeof PARAMS> = {
  id: "underfilled_gpu",
  description: `kernels with fewer thread blocks than the GPU has SMs, filling ≤ ${UNDERFILL_MAX_FILL * 100} % of them on average, take ≥ ${UNDERFILL_MIN_BUSY_SHARE * 100} % of GPU busy time`,
  params: PARAMS,
  evaluate(ctx: AnalysisContext, p): RuleFinding | null {
    const g = ctx.gpu;
    const w = ctx.work;
    const sms = w?.device?.sms ?? null;
    if (!g || !w || sms === null || sms <= 0 || g.windowNs <= 0) return null;
    const isThin = new Uint8Array(g.ops.length);
    for (let i = 0; i < g.ops.length; i++) {
      const op = g.ops[i]!;
      if (op.kind === "kernel" && op.grid !== undefined && blocks(op.grid) < sms) isThin[i] = 1;
    }
    const thin = (i: number): boolean => isThin[i] === 1;
    const { ns, paced } = opTime(w, thin);
    if (ns < p.min_busy_share * g.busyNs || paced < p.min_pace_share * g.windowNs) return null;
    let blockNs = 0; // Σ blocks × duration, for the time-weighted mean grid
    for (let i = 0; i < g.ops.length; i++) if (thin(i)) blockNs += blocks(g.ops[i]!.grid!) * (g.ops[i]!.end - g.ops[i]!.start);
    const meanBlocks = blockNs / ns;
    if (meanBlocks > p.max_fill * sms) return null;
    const groups = kernelGroups(g.ops, (_, i) => thin(i));
    const top = groups[0]!;
    const topOp = g.ops.find((op) => op.name === top.name && op.grid !== undefined)!;
    const name = w.device!.peaks?.name ?? w.device!.name;
    return {
      title: `Under-filled GPU: kernels with fewer thread blocks than the ${sms} SMs take ${pct(ns, g.busyNs)} % of GPU busy time (${round(meanBlocks, 1)} blocks on average)`,
      severity: severityFor(paced, g.windowNs),
      confidence: round(clamp01(0.6 + 0.3 * (1 - meanBlocks / sms))),
      impact_ms: msRounded(paced),
      evidence: {
        sm_count: sms,
        underfilled_ms: msRounded(ns),
        pct_of_busy: pct(ns, g.busyNs),
        pace_setting_ms: msRounded(paced),
        mean_blocks: round(meanBlocks, 1),
        kernels: groups.slice(0, 3).map((k) => ({ ...kernelEvidence(k), grid: g.ops.find((op) => op.name === k.name && op.grid)?.grid })),
      },
      suggestions: [
        `Give each launch more work: a larger batch (more requests or sequences per forward pass) fills the SMs at little extra time per kernel — ${kernelPhrase(top, g.busyNs)} runs ${blocks(topOp.grid!)} blocks on ${sms} SMs.`,
        "Run independent work side by side: separate requests on their own torch.cuda.Stream (or processes sharing the GPU through MPS), so their kernels fill the SMs together.",
        `If the batch cannot grow, this ${name} is bigger than the work needs: a smaller GPU (or a MIG slice) runs these kernels in about the same time.`,
      ],
      saving: {
        kind: "time",
        claim: opClaim(g, w.paced, (op, i) => (thin(i) ? 1 - blocks(op.grid!) / sms : 0)),
        basis: `Spread over all ${sms} SMs, a kernel with b blocks would take b / ${sms} of its time: at most that much of these kernels' time goes where the GPU sets the pace (more work per launch, or other work beside them).`,
      },
    };
  },
};
