// GPU idle / CPU-bound: the GPU waits for the CPU, and what the CPU was doing meanwhile.
import type { IdleEntry } from "../idle.ts";
import { GAP_KIND, gapClaim } from "../claims.ts";
import {
  type AnalysisContext,
  type Rule,
  type RuleFinding,
  GPU_IDLE_MIN_SHARE,
  clamp01,
  cleanRef,
  codeName,
  formatMs,
  msRounded,
  pct,
  round,
  severityFor,
} from "./common.ts";
import { defaults, type ParamDefs, type Params } from "../params.ts";

export { GPU_IDLE_MIN_SHARE };
/** A code entry is worth naming when it covers at least this share of the host-wait time… */
export const GPU_IDLE_NAME_MIN_SHARE = 0.1;
/** …and is not a mere wrapper: a frame covering more than this share with little self time. */
export const GPU_IDLE_WRAPPER_SHARE = 0.9;
export const GPU_IDLE_WRAPPER_SELF_SHARE = 0.05;

/**
 * The code entries that explain the host-wait time best: covering at least
 * GPU_IDLE_NAME_MIN_SHARE of it, not mere wrappers (main() covering everything with no time of
 * its own), ranked by the mean of their inclusive and self time so that the function doing the
 * work (tokenize) comes before the frames that only enclose it (main, run_loop).
 */
export function culprits(entries: IdleEntry[], hostWaitNs: number, p: Pick<Params<typeof PARAMS>, "name_min_share" | "wrapper_share" | "wrapper_self_share"> = defaults(PARAMS)): IdleEntry[] {
  return entries
    .filter(
      (e) =>
        (e.kind === "python" || e.kind === "cpu_op") &&
        e.idleNs >= p.name_min_share * hostWaitNs &&
        !(e.idleNs > p.wrapper_share * hostWaitNs && e.selfNs < p.wrapper_self_share * hostWaitNs),
    )
    .sort((a, b) => b.idleNs + b.selfNs - (a.idleNs + a.selfNs) || b.idleNs - a.idleNs);
}

/** The thresholds a rules file may override by name (`rule_id.param`, docs/rules.md). */
const PARAMS = {
  min_share: { default: GPU_IDLE_MIN_SHARE, unit: "share of the GPU window", doc: "GPU idle above this share of the GPU window is a finding", max: 1 },
  name_min_share: { default: GPU_IDLE_NAME_MIN_SHARE, unit: "share", doc: "a function is named in the suggestions when it ran during at least this share of the host-wait time", max: 1 },
  wrapper_share: { default: GPU_IDLE_WRAPPER_SHARE, unit: "share", doc: "…unless it is a wrapper: covering more than this share of the host-wait time…", max: 1 },
  wrapper_self_share: { default: GPU_IDLE_WRAPPER_SELF_SHARE, unit: "share", doc: "…with less than this share of it as its own (self) time", max: 1 },
} satisfies ParamDefs;

export const gpuIdleRule: Rule<typeof PARAMS> = {
  id: "gpu_idle",
  description: `GPU idle more than ${GPU_IDLE_MIN_SHARE * 100} % of its window, with what the launching thread did meanwhile`,
  params: PARAMS,
  evaluate(ctx: AnalysisContext, p): RuleFinding | null {
    const g = ctx.gpu;
    if (!g || g.windowNs <= 0) return null;
    const idleShare = g.idleNs / g.windowNs;
    if (idleShare <= p.min_share) return null;
    const hostShare = g.idleNs > 0 ? g.hostWaitNs / g.idleNs : 0;
    const hostBound = g.launchesKnown && hostShare >= 0.5;
    const confidence = round(g.launchesKnown ? clamp01(0.55 + 0.4 * hostShare) : 0.5);
    const named = culprits(ctx.idle, g.hostWaitNs, p).slice(0, 3);
    const untraced = ctx.idle.find((e) => e.kind === "untraced");
    const evidence: Record<string, unknown> = {
      window_ms: msRounded(g.windowNs),
      busy_ms: msRounded(g.busyNs),
      idle_ms: msRounded(g.idleNs),
      idle_pct: pct(g.idleNs, g.windowNs),
      host_wait_ms: msRounded(g.hostWaitNs),
      host_wait_pct_of_idle: pct(g.hostWaitNs, g.idleNs),
      kernel_wait_ms: msRounded(g.kernelWaitNs),
      sync_other_ms: msRounded(g.otherNs),
      gaps: g.gaps.length,
      host_wait_gaps: g.gaps.filter((x) => x.kind === "host_wait").length,
      launches_known: g.launchesKnown,
      top_during_host_wait: ctx.idle.slice(0, 5).map((e) =>
        cleanRef({ kind: e.kind, function: e.function, file: e.file, line: e.line, scope: e.scope, idle_ms: msRounded(e.idleNs), self_ms: msRounded(e.selfNs), pct_of_host_wait: pct(e.idleNs, g.hostWaitNs) }),
      ),
    };
    const suggestions: string[] = [];
    const drainShare = g.hostWaitNs > 0 ? ctx.syncs.drainIdleNs / g.hostWaitNs : 0;
    // name the sync calls here: sync_stalls, below its own threshold, may not be in the report
    const topSync = ctx.syncs.callers[0];
    const syncCaller = topSync ? `; the most blocking syncs come from ${codeName(topSync)} (${topSync.count}×, ${formatMs(topSync.blockedNs)} blocked)` : "";
    if (drainShare >= 0.5) {
      suggestions.push(
        `${pct(ctx.syncs.drainIdleNs, g.hostWaitNs)} % of the host-wait time follows a CPU–GPU synchronization (the queue drained while the CPU waited, then the GPU waited for the next launch): remove .item()/.cpu()/print(tensor) from the loop${syncCaller}.`,
      );
    }
    for (const e of named.slice(0, 2)) {
      suggestions.push(
        `Make ${codeName(e)} cheaper or move it off the launching thread: it was running during ${pct(e.idleNs, g.hostWaitNs)} % of the host-wait idle time (${formatMs(e.idleNs)}${e.kind === "cpu_op" ? "; for a torch op this is its CPU-side cost: dispatch, shape checks, allocation" : ""}).`,
      );
    }
    if (untraced && untraced.idleNs >= p.name_min_share * g.hostWaitNs) {
      suggestions.push(
        ctx.trace.format === "kineto" && !ctx.cpu.pythonTraced
          ? `For ${pct(untraced.idleNs, g.hostWaitNs)} % of the host-wait time the launching thread was in Python code between torch ops, outside any recorded op: record with \`inferscope run\` (or torch.profiler with with_stack=True) to see which functions.`
          : `For ${pct(untraced.idleNs, g.hostWaitNs)} % of the host-wait time the launching thread was outside any traced function (native code or untraced Python): look at what runs between the launches in the timeline.`,
      );
    }
    if (drainShare >= 0.25 && drainShare < 0.5) {
      suggestions.push(
        `${pct(ctx.syncs.drainIdleNs, g.hostWaitNs)} % of the host-wait time follows a CPU–GPU synchronization (the queue drained while the CPU waited): avoid .item()/.cpu()/print(tensor) inside the loop${syncCaller}.`,
      );
    }
    suggestions.push(
      "Overlap CPU work with the GPU: prepare the next input (decoding, preprocessing, tokenization) in DataLoader workers (num_workers > 0) or a background thread while the GPU runs the current one.",
    );
    suggestions.push(
      "Cut the per-step host overhead: capture the steady-state step in a CUDA graph (torch.compile(mode=\"reduce-overhead\") or torch.cuda.CUDAGraph) or batch more work per launch (a larger batch).",
    );
    const title = hostBound
      ? `GPU idle ${pct(g.idleNs, g.windowNs)} % of the time, waiting for the CPU to launch work`
      : `GPU idle ${pct(g.idleNs, g.windowNs)} % of the time`;
    return {
      title,
      severity: severityFor(g.idleNs, g.windowNs),
      confidence,
      impact_ms: msRounded(g.launchesKnown ? g.hostWaitNs + g.otherNs : g.idleNs),
      evidence,
      suggestions,
      saving: g.launchesKnown
        ? {
            kind: "time",
            claim: gapClaim(ctx.work!.gaps, (_, kind) => kind !== GAP_KIND.kernel_wait),
            basis: "Removing what the GPU waits for fills at most its host-wait and sync/other idle gaps; kernel-wait gaps (under 10 µs between queued work) are the GPU's own start-up cost and stay.",
          }
        : { kind: "time", claim: gapClaim(ctx.work!.gaps, () => true), basis: "The launch calls are not in the trace, so every idle gap counts: at most the GPU is never idle." },
    };
  },
};
