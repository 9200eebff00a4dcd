// Sync stalls: the CPU waits for the GPU (synchronize, .item(), .cpu(), print(tensor)) often
// enough that the GPU's queue drains and it idles until the CPU launches again.
import { gapClaim } from "../claims.ts";
import { type AnalysisContext, type Rule, type RuleFinding, clamp01, cleanRef, codeName, mainScope, msRounded, pct, round, severityFor } from "./common.ts";
import type { ParamDefs } from "../params.ts";

/** At least this many CPU–GPU synchronizations… */
export const SYNC_STALL_MIN_COUNT = 10;
/** …followed by GPU idle (queue drained) for at least this share of the GPU window. */
export const SYNC_STALL_MIN_IDLE_SHARE = 0.02;

/** The thresholds a rules file may override by name (`rule_id.param`, docs/rules.md). */
const PARAMS = {
  min_count: { default: SYNC_STALL_MIN_COUNT, unit: "syncs", doc: "at least this many CPU–GPU synchronizations…", integer: true },
  min_idle_share: { default: SYNC_STALL_MIN_IDLE_SHARE, unit: "share of the GPU window", doc: "…followed by GPU idle (queue drained) for at least this share of the GPU window", max: 1 },
} satisfies ParamDefs;

export const syncStallsRule: Rule<typeof PARAMS> = {
  id: "sync_stalls",
  description: `≥ ${SYNC_STALL_MIN_COUNT} CPU–GPU syncs after which the GPU idles ≥ ${SYNC_STALL_MIN_IDLE_SHARE * 100} % of its window`,
  params: PARAMS,
  evaluate(ctx: AnalysisContext, p): RuleFinding | null {
    const g = ctx.gpu;
    const s = ctx.syncs;
    if (!g || g.windowNs <= 0 || !g.launchesKnown) return null;
    if (s.count < p.min_count || s.drainIdleNs < p.min_idle_share * g.windowNs) return null;
    const scope = mainScope(ctx);
    // syncs made inside the main scope (e.g. per `step`), per instance of it
    let inScope = 0;
    if (scope) for (const c of s.callers) if (c.scope === scope.name) inScope += c.count;
    const perInstance = scope && scope.count > 0 && inScope > 0 ? inScope / scope.count : null;
    const top = s.callers[0];
    const drainShare = s.drainIdleNs / g.windowNs;
    const evidence: Record<string, unknown> = {
      syncs: s.count,
      cpu_blocked_ms: msRounded(s.blockedNs),
      gpu_idle_after_sync_ms: msRounded(s.drainIdleNs),
      gpu_idle_after_sync_pct_of_window: pct(s.drainIdleNs, g.windowNs),
      idle_gaps_after_sync: s.drainGaps,
      mean_idle_after_sync_us: s.drainGaps > 0 ? round(s.drainIdleNs / s.drainGaps / 1e3, 1) : null,
      callers: s.callers.slice(0, 5).map((c) => cleanRef({ function: c.function, file: c.file, line: c.line, scope: c.scope, count: c.count, blocked_ms: msRounded(c.blockedNs) })),
    };
    if (scope && perInstance !== null) {
      evidence.scope = scope.name;
      evidence.syncs_per_scope_instance = round(perInstance, 1);
    }
    const suggestions: string[] = [];
    if (top) {
      suggestions.push(
        `${codeName(top)} synchronizes ${top.count} times${scope && top.scope === scope.name ? ` (${round(top.count / scope.count, 1)} per \`${scope.name}\`)` : ""}: keep the value on the GPU (accumulate with tensor ops, e.g. total = total + x.mean()) and read it once, after the loop, with a single .item()/.cpu().`,
      );
    }
    suggestions.push(
      "Remove hidden syncs from the hot loop: .item(), .cpu(), .tolist(), .numpy(), print(tensor), if tensor: …, torch.cuda.synchronize() used for timing; torch.cuda.set_sync_debug_mode(\"warn\") reports each one.",
    );
    suggestions.push(
      "When the CPU really needs a GPU value, copy it with non_blocking=True into pinned memory and wait on a torch.cuda.Event later, after queuing the next step's work.",
    );
    return {
      title: `${s.count} CPU–GPU syncs drain the GPU queue: ${msRounded(s.drainIdleNs)} ms of GPU idle after them`,
      severity: severityFor(s.drainIdleNs, g.windowNs),
      confidence: round(clamp01(0.6 + 0.35 * Math.min(1, drainShare / 0.1) * Math.min(1, s.count / 50))),
      impact_ms: msRounded(s.drainIdleNs),
      evidence,
      suggestions,
      saving: {
        kind: "time",
        claim: gapClaim(ctx.work!.gaps, (i) => s.gapOccasion[i]! >= 0),
        basis: "Without the syncs the CPU queues the next work before the GPU runs dry: at most the idle gaps that began while the CPU waited on a sync go.",
      },
    };
  },
};
