// When each thread ran traced code: per thread, the union of its spans of the given kinds less
// the union of its traced waits (blocking calls the tracer watched: lock.acquire, sleep, reads).
// A thread inside Python but blocked in `Thread.join` is not running, nor competing for the GIL.
import type { CpuSpan } from "../trace/model.ts";
import { mergeUnions, subtractUnion, type Union, unionOf } from "../core/intervals.ts";

/** Per thread id (of `tids`, or all): when it ran spans of `cats` outside its waits. */
export function runningByThread(spans: readonly CpuSpan[], cats: ReadonlySet<string>, tids?: ReadonlySet<number>): Map<number, Union> {
  const byThread = new Map<number, { s: number[]; e: number[]; ws: number[]; we: number[] }>();
  for (const x of spans) {
    if (tids && !tids.has(x.tid)) continue;
    const wait = x.cat === "wait";
    if (!wait && !cats.has(x.cat)) continue;
    let t = byThread.get(x.tid);
    if (!t) byThread.set(x.tid, (t = { s: [], e: [], ws: [], we: [] }));
    if (wait) {
      t.ws.push(x.start);
      t.we.push(x.end);
    } else {
      t.s.push(x.start);
      t.e.push(x.end);
    }
  }
  const out = new Map<number, Union>();
  for (const [tid, t] of byThread) if (t.s.length) out.set(tid, subtractUnion(unionOf(t.s, t.e), unionOf(t.ws, t.we)));
  return out;
}

const WORK = new Set(["python", "cpu_op"]);

/**
 * When any traced process other than `pid` (the script's) ran Python or torch ops, outside its
 * waits; null when no other process was traced. A wait for a child that computes is a wait for
 * that work, not time lost to blocking.
 */
export function otherProcessesRunning(spans: readonly CpuSpan[], pid: number | null): Union | null {
  if (pid === null || !spans.some((s) => s.pid !== pid)) return null;
  return mergeUnions([...runningByThread(spans.filter((s) => s.pid !== pid), WORK).values()]);
}
