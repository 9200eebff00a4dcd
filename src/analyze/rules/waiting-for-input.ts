// An event loop or server that mostly waits for input: the main thread spends most of the
// window in select/epoll, accept, socket reads or a queue's get while the threads run little —
// the program is not CPU-bound, and a profile of it idle says little about its speed.
import { inBackticks, mainThread, runningNs, windowNs } from "../cpu-focus.ts";
import type { ThreadMetrics } from "../cpu.ts";
import { type AnalysisContext, type Rule, type RuleFinding, msRounded, pct, round, shareConfidence } from "./common.ts";
import type { ParamDefs } from "../params.ts";

/** The main thread waits for input at least this share of the window… */
export const INPUT_WAIT_MIN_SHARE = 0.6;
/** …while all threads together run less than this share of it. */
export const INPUT_MAX_BUSY_SHARE = 0.3;

/** The thresholds a rules file may override by name (`rule_id.param`, docs/rules.md). */
const PARAMS = {
  min_wait_share: { default: INPUT_WAIT_MIN_SHARE, unit: "share", doc: "the main thread waits for input (select/epoll, sockets, a queue) at least this share of the window…", max: 1 },
  max_busy_share: { default: INPUT_MAX_BUSY_SHARE, unit: "share", doc: "…while all threads together run less than this share of it", max: 1 },
} satisfies ParamDefs;

const INPUT = /event loop|network|queue|I\/O readiness|a read/;

/**
 * When the main thread waits on a queue, the thread that fills it is what to make faster; the
 * trace does not say which thread puts, so this names the other thread of the process with the
 * most time traced, what it did, and says "if".
 */
function feeder(ctx: AnalysisContext, main: ThreadMetrics, W: number): string | null {
  const others = ctx.cpu.threads.filter((t) => t.tid !== main.tid && t.pid === main.pid && t.busyNs > 0).sort((a, b) => b.busyNs - a.busyNs);
  const t = others[0];
  if (!t) return null;
  const w = ctx.waits.entries.find((e) => e.tid === t.tid); // longest first
  const mostly = w && t.waitNs >= 0.5 * t.busyNs ? `, mostly for ${w.on} (\`${w.call}\`${w.function ? ` in ${inBackticks(w.function)}` : ""})` : "";
  return `Look at what feeds the queue: the other thread with the most time traced, ${inBackticks(t.name)}, ran ${pct(t.runningNs, W)} % of the window and waited ${pct(t.waitNs, W)} %${mostly}; if it is the one that fills the queue, its time is the loop's.`;
}

export const waitingForInputRule: Rule<typeof PARAMS> = {
  id: "waiting_for_input",
  description: `the main thread waits for input (select/epoll, sockets, a queue) ≥ ${INPUT_WAIT_MIN_SHARE * 100} % of the window while the CPU is busy < ${INPUT_MAX_BUSY_SHARE * 100} %`,
  params: PARAMS,
  evaluate(ctx: AnalysisContext, p): RuleFinding | null {
    const main = mainThread(ctx);
    const W = windowNs(ctx);
    if (!main || W <= 0 || !ctx.waits.recorded) return null;
    const mine = ctx.waits.entries.filter((e) => e.tid === main.tid && INPUT.test(e.on));
    const waitNs = mine.reduce((a, e) => a + e.ns, 0);
    const run = runningNs(ctx);
    if (waitNs < p.min_wait_share * W || run >= p.max_busy_share * W) return null;
    const top = mine[0]!;
    const where = top.function ? ` in \`${top.function}\`` : "";
    const caller = top.caller ? ` (called from \`${top.caller}\`)` : "";
    const perItem = ctx.scopes.stats[0];
    return {
      title: `Not CPU-bound: the main thread waits for input ${pct(waitNs, W)} % of the time (${top.on})`,
      severity: "low",
      confidence: shareConfidence(waitNs / W, p.min_wait_share),
      impact_ms: 0,
      saving: { kind: "none", reason: "the program is not CPU-bound: it waits for its input, and a faster CPU side would wait longer" },
      evidence: {
        main_wait_ms: msRounded(waitNs),
        window_ms: msRounded(W),
        cpu_busy_ms: msRounded(run),
        cpu_busy_pct: pct(run, W),
        waits: mine.slice(0, 3).map((e) => ({ call: e.call, on: e.on, function: e.function ?? null, caller: e.caller ?? null, ms: msRounded(e.ns), count: e.count })),
      },
      suggestions: [
        `Nothing here is slow on the CPU: the threads ran ${pct(run, W)} % of the window; the main thread waited in \`${top.call}\`${where}${caller}. Profile it under load (more clients or requests at once) to see where time goes when it is busy.`,
        "If requests wait to be batched, the batching timeout sets their latency: lower the maximum wait (or the batch size) so a batch leaves sooner, or measure each request's latency with scope() around its handling.",
        (top.on.startsWith("a queue") ? feeder(ctx, main, W) : null) ??
          `Look at what feeds it: the time goes to waiting for ${top.on}; a faster producer (client, upstream queue, reader) is what would make this loop do more.${perItem ? ` Its \`${perItem.name}\` takes ${round(perItem.mean_ms, 2)} ms on average.` : ""}`,
      ],
    };
  },
};
