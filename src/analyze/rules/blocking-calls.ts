// Blocking calls: the main thread spends much of the window blocked in calls that wait for
// something other than input or work on other threads — a sleep, the disk (fsync, writes), a
// child process, a lock, threads starting. The verdict says "waiting"; this finding says on what,
// and what to do. Input waits are waiting_for_input's, DataLoader workers data_loading_starved's;
// futures and joins wait for work on other threads, which their own CPU time explains, and so
// does the part of a wait for a child process during which traced children ran.
import { describeFunction, mainThread, waitClaim, windowNs } from "../cpu-focus.ts";
import type { WaitEntry } from "../waits.ts";
import { type AnalysisContext, type Rule, type RuleFinding, formatMs, msRounded, pct, severityFor, shareConfidence, inWindow } from "./common.ts";
import type { ParamDefs } from "../params.ts";

/** The main thread is blocked in such calls at least this share of the window. */
export const BLOCKING_MIN_SHARE = 0.25;
/** Another kind of blocking call is named too when it holds at least this share of the window. */
export const BLOCKING_ALSO_SHARE = 0.05;

/** The thresholds a rules file may override by name (`rule_id.param`, docs/rules.md). */
const PARAMS = {
  min_share: { default: BLOCKING_MIN_SHARE, unit: "share of the window", doc: "the main thread is blocked in sleeps, fsync and writes, child processes or locks at least this share of the window", max: 1 },
} satisfies ParamDefs;

/** What other rules or the threads' own CPU time explain (waits.ts's words for them). */
const ELSEWHERE = /event loop|network|queue|I\/O readiness|a read|DataLoader|futures|a thread to finish|other processes/;

/** Where a wait was made, for a sentence: `` in `handle` (app/serve.py:12)``. */
function at(e: WaitEntry): string {
  if (e.caller) return ` in ${describeFunction({ function: e.caller, file: e.callerFile, line: e.callerLine })}`;
  return e.function ? ` in ${describeFunction({ function: e.function, file: e.file, line: e.line })}` : "";
}

/** Two suggestions for the kind of wait that holds the most time. */
function advice(e: WaitEntry): string[] {
  const held = `${formatMs(e.ns)} over ${e.count.toLocaleString("en-US")} call${e.count === 1 ? "" : "s"}`;
  const call = `\`${e.call}\`${at(e)}`;
  if (e.on === "sleep") {
    return [
      `Remove the sleep from the processing path, or shorten it: ${call} held the thread ${held}; a fixed delay adds its whole length to every item it is on the way of.`,
      "Wait for the event itself instead of sleeping and checking: queue.Queue.get(timeout=…), threading.Event.wait or a Condition, or in asyncio await the future (asyncio.sleep only where a delay is the point).",
    ];
  }
  if (e.on === "the disk (fsync)") {
    return [
      `Sync less often: ${call} waited for the disk ${held}; fsync once per batch of writes or at checkpoints (group commit), not after every write.`,
      "Take the durable writes off the processing thread: a writer thread fed by a queue.Queue (or asyncio.to_thread) lets the loop go on while the disk catches up; scratch files that need no durability need no fsync (or can live on tmpfs, /dev/shm).",
    ];
  }
  if (e.on.startsWith("a write")) {
    return [
      `Write less often, in bigger pieces: ${call} blocked ${held}; buffer the output (join the pieces, or open the file with a larger buffering=) and write once per batch.`,
      "Move the writes off the processing thread (a writer thread fed by a queue.Queue), or write to faster storage (a local SSD; tmpfs for scratch files); a pipe blocks its writer while the reader lags: read it faster or from a thread.",
    ];
  }
  if (e.on === "a child process") {
    return [
      `Start fewer processes: ${call} waited for a child process ${held}; a long-lived worker pool (concurrent.futures.ProcessPoolExecutor, multiprocessing.Pool) pays the start-up once, not per item.`,
      "Run the children side by side: start them all (subprocess.Popen) and wait for them afterwards, instead of subprocess.run one at a time.",
    ];
  }
  if (e.on.startsWith("a thread to start")) {
    return [
      `Start threads once: ${call} waited ${held} for new threads to begin running; a pool (concurrent.futures.ThreadPoolExecutor) started up front reuses its threads for every item.`,
      "Hand work to running threads through a queue.Queue instead of a thread per task; where the work is Python code, a thread per task also queues for the GIL.",
    ];
  }
  if (e.on.startsWith("a lock")) {
    return [
      `Shorten the critical sections: ${call} waited ${held} for a lock another thread held; do the work outside \`with lock:\` and take the lock only to publish the result.`,
      "Give each thread its own state (threading.local, a queue per worker) so that they need not share the lock; threads that compute in Python also queue for the GIL, where processes scale the work better.",
    ];
  }
  return [
    `Look at what ${call} waits for: it blocked ${held}.`,
    "Overlap the wait with work: run the blocking call in a background thread (concurrent.futures.ThreadPoolExecutor, asyncio.to_thread) so that the main loop keeps computing meanwhile.",
  ];
}

export const blockingCallsRule: Rule<typeof PARAMS> = {
  id: "blocking_calls",
  description: `the main thread is blocked ≥ ${BLOCKING_MIN_SHARE * 100} % of the window in sleeps, fsync and writes, child processes or locks (not input, not work on other threads)`,
  params: PARAMS,
  evaluate(ctx: AnalysisContext, p): RuleFinding | null {
    const main = mainThread(ctx);
    const W = windowNs(ctx);
    if (!main || W <= 0 || !ctx.waits.recorded) return null;
    const mine = ctx.waits.entries.filter((e) => e.tid === main.tid && !ELSEWHERE.test(e.on));
    // by kind of wait, longest first; a wait for a child process while traced children ran counts
    // only for the rest: the children's work is the program's (a fork that computes), not blocking
    const kinds = new Map<string, { ns: number; count: number; top: WaitEntry }>();
    for (const e of mine) {
      const ns = Math.max(0, e.ns - (e.childWorkNs ?? 0));
      if (ns <= 0) continue;
      const k = kinds.get(e.on);
      if (k) {
        k.ns += ns;
        k.count += e.count;
      } else kinds.set(e.on, { ns, count: e.count, top: e });
    }
    const ranked = [...kinds].sort((a, b) => b[1].ns - a[1].ns);
    // waits of one thread do not overlap: their sum is the time blocked
    const blockedNs = ranked.reduce((a, [, k]) => a + k.ns, 0);
    if (ranked.length === 0 || blockedNs < p.min_share * W) return null;
    const [on, first] = ranked[0]!;
    const also = ranked.slice(1).filter(([, k]) => k.ns >= BLOCKING_ALSO_SHARE * W);
    const suggestions = advice(first.top);
    if (also.length) suggestions.push(`Next: ${also.map(([o, k]) => `${o} ${pct(k.ns, W)} % (\`${k.top.call}\`${at(k.top)})`).join(", ")}.`);
    return {
      title: `The main thread is blocked ${pct(blockedNs, W)} % of the time${inWindow(ctx)}, mostly waiting for ${on}: \`${first.top.call}\`${at(first.top)}, ${pct(first.ns, W)} %`,
      severity: severityFor(blockedNs, W),
      confidence: shareConfidence(blockedNs / W, p.min_share),
      impact_ms: msRounded(blockedNs),
      // an upper bound, as every saving: a sleep may go entirely, a durable write only less often
      saving: { kind: "time", claim: waitClaim(ctx, main.tid, blockedNs), basis: "the main thread's time blocked in these calls, all of it gone if they did not block (a sleep removed; a durable write, only made less often, saves part of it)" },
      evidence: {
        blocked_ms: msRounded(blockedNs),
        blocked_pct: pct(blockedNs, W),
        window_ms: msRounded(W),
        // `caller` only when the user code above the wait is not the function itself
        waits: ranked.slice(0, 3).map(([o, k]) => ({ on: o, call: k.top.call, function: k.top.function ?? null, ...(k.top.caller ? { caller: k.top.caller } : {}), ms: msRounded(k.ns), count: k.count })),
      },
      suggestions,
    };
  },
};
