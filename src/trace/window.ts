// Bounded memory whatever the trace's size: at most `maxEvents` events are held (the config key;
// about 500 bytes each at the peak, docs/benchmarks.md). A trace with more is analyzed over its first part, a
// contiguous time window [its start, cutoff): every event that starts before the cutoff is kept,
// none after, so the figures describe that window exactly (rather than a thinned-out whole).
// Readers keep the window while they read (compact() below), so the rest never sits in memory.
import type { Trace } from "./model.ts";

/** Events a trace holds in memory (metadata aside). */
export function eventCount(t: Trace): number {
  return t.spans.length + t.api.length + t.gpu.length + t.syncs.length + t.instants.length + t.counters.length;
}

const SAMPLE = 200_000;

/**
 * The start time before which about `keep` of `starts` lie, from a sample of at most SAMPLE of
 * them (exact enough: the window only needs to fit the budget).
 */
export function cutoffFor(starts: (visit: (t: number) => void) => void, total: number, keep: number): number {
  if (keep >= total) return Infinity;
  const step = Math.max(1, Math.floor(total / SAMPLE));
  const sample: number[] = [];
  let i = 0;
  starts((t) => {
    if (i++ % step === 0) sample.push(t);
  });
  sample.sort((a, b) => a - b);
  const k = Math.min(sample.length - 1, Math.max(0, Math.floor((keep / total) * sample.length)));
  return sample[k] ?? Infinity;
}

function visitStarts(t: Trace): (visit: (ts: number) => void) => void {
  return (visit) => {
    for (const x of t.spans) visit(x.start);
    for (const x of t.api) visit(x.start);
    for (const x of t.gpu) visit(x.start);
    for (const x of t.syncs) visit(x.start);
    for (const x of t.instants) visit(x.ts);
    for (const x of t.counters) visit(x.ts);
  };
}

function keepBefore<T>(xs: T[], start: (x: T) => number, cutoff: number): number {
  let w = 0;
  for (let r = 0; r < xs.length; r++) {
    const x = xs[r]!;
    if (start(x) < cutoff) xs[w++] = x;
  }
  const removed = xs.length - w;
  xs.length = w;
  return removed;
}

/** Removes every event that starts at or after `cutoff`; returns how many were removed. */
export function dropFrom(t: Trace, cutoff: number): number {
  return (
    keepBefore(t.spans, (x) => x.start, cutoff) +
    keepBefore(t.api, (x) => x.start, cutoff) +
    keepBefore(t.gpu, (x) => x.start, cutoff) +
    keepBefore(t.syncs, (x) => x.start, cutoff) +
    keepBefore(t.instants, (x) => x.ts, cutoff) +
    keepBefore(t.counters, (x) => x.ts, cutoff)
  );
}

/** Cuts the trace to about `keep` events (its earliest); returns the cutoff and how many went. */
export function cutTo(t: Trace, keep: number): { cutoff: number; removed: number } {
  const cutoff = cutoffFor(visitStarts(t), eventCount(t), keep);
  return { cutoff, removed: Number.isFinite(cutoff) ? dropFrom(t, cutoff) : 0 };
}

/** Tracks a reader's window: call admit(start) before keeping an event, added() after. */
export class Window {
  /** Events starting at or after this are not kept (Infinity: no cut yet). */
  cutoff = Infinity;
  /** Events left out: beyond the cutoff when read, or removed by a compaction. */
  skipped = 0;
  private kept = 0;
  private first = Infinity;

  constructor(
    private readonly limit: number,
    private readonly trace: Trace,
  ) {}

  admit(start: number): boolean {
    if (start >= this.cutoff) {
      this.skipped++;
      return false;
    }
    if (start < this.first) this.first = start;
    return true;
  }

  added(): void {
    if (++this.kept > this.limit) this.compact();
  }

  /** Keeps 90 % of the budget, so compactions stay rare (each is one pass over what is kept). */
  private compact(): void {
    const { cutoff, removed } = cutTo(this.trace, Math.floor(this.limit * 0.9));
    this.cutoff = Math.min(this.cutoff, cutoff);
    this.skipped += removed;
    this.kept = eventCount(this.trace);
  }

  /** The warning for a trace that was cut, or null. */
  warning(what: string): string | null {
    if (this.skipped === 0) return null;
    return windowWarning(what, this.limit, this.kept, this.skipped, this.cutoff - this.first);
  }
}

/** One line: how much was kept, what was left out, what to do. */
export function windowWarning(what: string, limit: number, kept: number, skipped: number, windowNs: number): string {
  const n = (x: number) => x.toLocaleString("en-US");
  const secs = Number.isFinite(windowNs) && windowNs > 0 ? `its first ${(windowNs / 1e9).toFixed(windowNs < 1e10 ? 3 : 1)} s` : "its first part";
  return (
    `${what} holds more events than InferScope keeps in memory (maxEvents ${n(limit)}): the analysis covers ${secs} (${n(kept)} events); ` +
    `the ${n(skipped)} events after that were left out — raise maxEvents (--max-events, INFERSCOPE_MAX_EVENTS or .inferscope.yaml; about 500 bytes of memory per event) or profile fewer steps`
  );
}
