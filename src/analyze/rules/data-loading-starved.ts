// The main loop starved by data loading: the main thread waits for DataLoader workers (or other
// worker processes) most of the steady state while the workers run flat out — the model is
// not the bottleneck, `__getitem__` is. Needs waits (InferScope's C hot path); the workers'
// share needs them traced (children followed, the default).
import { describePlace, mainThread, placeOf, processes, waitClaim, windowNs } from "../cpu-focus.ts";
import { hotFunctions } from "../hot-functions.ts";
import { type AnalysisContext, type Rule, type RuleFinding, msRounded, pct, round, severityFor, shareConfidence } from "./common.ts";
import type { ParamDefs } from "../params.ts";

/** The main thread waits for workers at least this share of the window… */
export const STARVED_MIN_WAIT_SHARE = 0.3;
/** …while the workers run at least this share of it, on average. */
export const STARVED_MIN_WORKER_BUSY = 0.5;

/** The thresholds a rules file may override by name (`rule_id.param`, docs/rules.md). */
const PARAMS = {
  min_wait_share: { default: STARVED_MIN_WAIT_SHARE, unit: "share", doc: "the main thread waits for worker processes at least this share of the window…", max: 1 },
  min_worker_busy: { default: STARVED_MIN_WORKER_BUSY, unit: "share", doc: "…while the traced workers run at least this share of it, on average", max: 1 },
} satisfies ParamDefs;

const WORKER_WAIT = /DataLoader workers|other processes/;

export const dataLoadingStarvedRule: Rule<typeof PARAMS> = {
  id: "data_loading_starved",
  description: `the main thread waits ≥ ${STARVED_MIN_WAIT_SHARE * 100} % of the window for worker processes that run ≥ ${STARVED_MIN_WORKER_BUSY * 100} % of it`,
  params: PARAMS,
  evaluate(ctx: AnalysisContext, p): RuleFinding | null {
    const main = mainThread(ctx);
    const W = windowNs(ctx);
    if (!main || W <= 0 || !ctx.waits.recorded) return null;
    const waitNs = ctx.waits.entries.filter((e) => e.tid === main.tid && WORKER_WAIT.test(e.on)).reduce((a, e) => a + e.ns, 0);
    if (waitNs < p.min_wait_share * W) return null;
    const dataloader = ctx.waits.entries.some((e) => e.tid === main.tid && /DataLoader/.test(e.on));
    const workers = processes(ctx).filter((w) => w.role === "dataloader worker" || w.role === "multiprocessing" || w.role === "fork");
    const traced = workers.filter((w) => ctx.cpu.threads.some((t) => t.pid === w.pid));
    const cores = typeof ctx.trace.meta.cpus === "number" ? ctx.trace.meta.cpus : null;
    let busy = 0;
    for (const t of ctx.cpu.threads) if (traced.some((w) => w.pid === t.pid)) busy += t.runningNs;
    const perWorker = traced.length ? busy / traced.length / W : 0;
    if (traced.length && perWorker < p.min_worker_busy) return null;
    // the workers' hottest function
    const byThread = new Map([...ctx.merge.byThread].filter(([, spans]) => spans.length > 0 && traced.some((w) => w.pid === spans[0]!.pid)));
    const wHot = hotFunctions(byThread, ctx.trace.summaries.filter((x) => traced.some((w) => w.pid === x.pid)));
    const hotFn = wHot.functions[0];
    const named = hotFn ? describePlace(placeOf(ctx, hotFn)) : "the workers' code";
    const n = traced.length || workers.length;
    const what = dataloader ? "DataLoader workers" : "worker processes";
    const suggestions = [
      cores !== null && n < cores
        ? `Raise num_workers: ${n} ${what} on a machine with ${cores} CPUs; each extra worker adds another batch in flight.`
        : `Make each sample cheaper rather than adding ${what}: ${n} already share ${cores ?? "the"} CPUs.`,
      `Make ${named} cheaper: it is where the workers spend their time${hotFn ? ` (${pct(hotFn.selfNs, busy)} % of their running time)` : ""}; vectorise it (NumPy/torch over the whole item) or move the work to a compiled library.`,
      "Do the work once: precompute and cache the features (to disk or in memory) instead of recomputing them every epoch/request; keep workers alive between iterations (persistent_workers=True) and let them run ahead (prefetch_factor).",
    ];
    return {
      title: `The main loop waits ${pct(waitNs, W)} % of the time for ${what}${traced.length ? `, which run ${pct(busy, traced.length * W)} % of it` : ""}`,
      severity: severityFor(waitNs, W),
      confidence: traced.length ? shareConfidence(waitNs / W, p.min_wait_share) : 0.5,
      impact_ms: msRounded(waitNs),
      saving: { kind: "time", claim: waitClaim(ctx, main.tid, waitNs), basis: "the main thread's waits for the workers, all of them gone if the workers kept ahead of the loop" },
      evidence: {
        main_wait_ms: msRounded(waitNs),
        window_ms: msRounded(W),
        workers: n,
        workers_traced: traced.length,
        worker_running_ms: msRounded(busy),
        worker_busy_pct: round(perWorker * 100, 1),
        cpus: cores,
        worker_top_function: hotFn ? { function: hotFn.function, file: hotFn.file ?? null, line: hotFn.line ?? null, self_ms: msRounded(hotFn.selfNs) } : null,
      },
      suggestions,
    };
  },
};
