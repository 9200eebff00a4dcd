// Interval arithmetic on integer nanoseconds, below every stage that uses it (merge, analyze). An
// interval list is two parallel arrays (starts, ends) so that millions of intervals cost two
// Float64Arrays rather than millions of objects.

/** Disjoint, sorted intervals with prefix sums for O(log n) "how much of [a, b] is covered". */
export class Union {
  readonly starts: Float64Array;
  readonly ends: Float64Array;
  /** prefix[i] = total length of intervals 0..i-1 */
  readonly prefix: Float64Array;

  constructor(starts: Float64Array, ends: Float64Array) {
    this.starts = starts;
    this.ends = ends;
    const n = starts.length;
    const prefix = new Float64Array(n + 1);
    for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i]! + (ends[i]! - starts[i]!);
    this.prefix = prefix;
  }

  get length(): number {
    return this.starts.length;
  }

  /** Total covered length. */
  get measure(): number {
    return this.prefix[this.starts.length]!;
  }

  /** Length of the part of [a, b] this union covers. */
  covered(a: number, b: number): number {
    if (b <= a || this.starts.length === 0) return 0;
    return this.coveredUpTo(b) - this.coveredUpTo(a);
  }

  /** Length covered in (-inf, t]. */
  coveredUpTo(t: number): number {
    // first interval with start >= t
    const i = lowerBound(this.starts, t);
    let total = this.prefix[i]!;
    if (i > 0) {
      const end = this.ends[i - 1]!;
      if (end > t) total -= end - t;
    }
    return total;
  }

  /**
   * covered(a, b) for queries whose `a` never decreases (spans in start order): a cursor replaces
   * the first binary search, and the second gallops from it, so short spans cost O(1).
   */
  cursor(): (a: number, b: number) => number {
    const starts = this.starts;
    const ends = this.ends;
    const prefix = this.prefix;
    const n = starts.length;
    let i = 0; // first interval with end > a (a only grows)
    const upTo = (k: number, t: number): number => {
      // covered in (-inf, t], knowing every interval before k ends at or before t
      let j = k;
      let step = 1;
      while (j + step <= n && starts[j + step - 1]! < t) {
        j += step;
        step *= 2;
      }
      // now starts[j-1] < t (or j == k); find the first index >= j with start >= t
      let lo = j;
      let hi = Math.min(n, j + step);
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (starts[mid]! < t) lo = mid + 1;
        else hi = mid;
      }
      let total = prefix[lo]!;
      if (lo > 0 && ends[lo - 1]! > t) total -= ends[lo - 1]! - t;
      return total;
    };
    return (a: number, b: number): number => {
      if (b <= a || n === 0) return 0;
      while (i < n && ends[i]! <= a) i++;
      if (i >= n || starts[i]! >= b) return 0;
      return upTo(i, b) - upTo(i, a);
    };
  }

  /** Index of the interval containing t (start <= t < end), or -1. */
  indexAt(t: number): number {
    const i = upperBound(this.starts, t) - 1;
    if (i >= 0 && this.ends[i]! > t) return i;
    return -1;
  }
}

/** Union of arbitrary intervals given as parallel arrays (need not be sorted). */
export function unionOf(starts: ArrayLike<number>, ends: ArrayLike<number>): Union {
  const n = starts.length;
  const order = sortIndexByStart(starts, ends);
  const outS: number[] = [];
  const outE: number[] = [];
  let cs = 0;
  let ce = 0;
  let open = false;
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    const s = starts[i]!;
    const e = Math.max(ends[i]!, s);
    if (open && s <= ce) {
      if (e > ce) ce = e;
    } else {
      if (open) {
        outS.push(cs);
        outE.push(ce);
      }
      cs = s;
      ce = e;
      open = true;
    }
  }
  if (open) {
    outS.push(cs);
    outE.push(ce);
  }
  return new Union(Float64Array.from(outS), Float64Array.from(outE));
}

/** Indices 0..n-1 sorted by (start, end). */
export function sortIndexByStart(starts: ArrayLike<number>, ends: ArrayLike<number>): Uint32Array {
  const n = starts.length;
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  let sorted = true;
  for (let i = 1; i < n; i++) {
    if (starts[i]! < starts[i - 1]! || (starts[i] === starts[i - 1] && ends[i]! < ends[i - 1]!)) {
      sorted = false;
      break;
    }
  }
  if (sorted) return idx;
  idx.sort((a, b) => starts[a]! - starts[b]! || ends[a]! - ends[b]! || a - b);
  return idx;
}

/** Parts of [lo, hi] not covered by the union: the gaps. */
export function gapsOf(u: Union, lo: number, hi: number): { starts: number[]; ends: number[] } {
  const starts: number[] = [];
  const ends: number[] = [];
  let cur = lo;
  for (let i = 0; i < u.length; i++) {
    const s = u.starts[i]!;
    const e = u.ends[i]!;
    if (e <= cur) continue;
    if (s > cur) {
      const gEnd = Math.min(s, hi);
      if (gEnd > cur) {
        starts.push(cur);
        ends.push(gEnd);
      }
    }
    cur = Math.max(cur, e);
    if (cur >= hi) break;
  }
  if (cur < hi) {
    starts.push(cur);
    ends.push(hi);
  }
  return { starts, ends };
}

/** First index i with a[i] >= x (a sorted ascending). */
export function lowerBound(a: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index i with a[i] > x (a sorted ascending). */
export function upperBound(a: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Nearest-rank percentile of an ascending array: the value at rank ceil(p/100 * n). */
export function percentile(sortedAsc: ArrayLike<number>, p: number): number {
  const n = sortedAsc.length;
  if (n === 0) return 0;
  const rank = Math.ceil((p / 100) * n);
  return sortedAsc[Math.min(n, Math.max(1, rank)) - 1]!;
}

/**
 * Merges intervals added in non-decreasing start order into disjoint ones, in linear time: each
 * finished one goes to `close` (UnionBuilder keeps it, UnionMeasure only adds up its length).
 */
abstract class IntervalMerger {
  protected cs = 0;
  protected ce = 0;
  protected open = false;

  add(start: number, end: number): void {
    if (end < start) end = start;
    if (this.open && start <= this.ce) {
      if (end > this.ce) this.ce = end;
      return;
    }
    if (this.open) this.close(this.cs, this.ce);
    this.cs = start;
    this.ce = end;
    this.open = true;
  }

  protected abstract close(start: number, end: number): void;
}

/** Builds a Union from intervals added in non-decreasing start order, in linear time. */
export class UnionBuilder extends IntervalMerger {
  private readonly s: number[] = [];
  private readonly e: number[] = [];

  protected close(start: number, end: number): void {
    this.s.push(start);
    this.e.push(end);
  }

  finish(): Union {
    if (this.open) {
      this.close(this.cs, this.ce);
      this.open = false;
    }
    return new Union(Float64Array.from(this.s), Float64Array.from(this.e));
  }
}

/**
 * The length a UnionBuilder's union would cover, without keeping its intervals: for callers that
 * want only the total (per-thread busy time), where storing millions of doubles was most of the cost.
 */
export class UnionMeasure extends IntervalMerger {
  private total = 0;

  protected close(start: number, end: number): void {
    this.total += end - start;
  }

  get measure(): number {
    return this.open ? this.total + (this.ce - this.cs) : this.total;
  }
}

/** Union of several unions, in linear time (a k-way merge by start). */
export function mergeUnions(parts: Union[]): Union {
  const b = new UnionBuilder();
  const idx = parts.map(() => 0);
  for (;;) {
    let best = -1;
    let bestStart = Infinity;
    for (let p = 0; p < parts.length; p++) {
      const i = idx[p]!;
      if (i < parts[p]!.length && parts[p]!.starts[i]! < bestStart) {
        bestStart = parts[p]!.starts[i]!;
        best = p;
      }
    }
    if (best < 0) return b.finish();
    const i = idx[best]!;
    b.add(parts[best]!.starts[i]!, parts[best]!.ends[i]!);
    idx[best] = i + 1;
  }
}

/** The parts of `a` that `b` does not cover, in linear time (two sorted disjoint lists). */
export function subtractUnion(a: Union, b: Union): Union {
  const s: number[] = [];
  const e: number[] = [];
  let j = 0;
  for (let i = 0; i < a.length; i++) {
    let cur = a.starts[i]!;
    const end = a.ends[i]!;
    while (j < b.length && b.ends[j]! <= cur) j++;
    let k = j;
    while (cur < end && k < b.length && b.starts[k]! < end) {
      if (b.starts[k]! > cur) {
        s.push(cur);
        e.push(b.starts[k]!);
      }
      cur = Math.max(cur, b.ends[k]!);
      k++;
    }
    if (cur < end) {
      s.push(cur);
      e.push(end);
    }
  }
  return new Union(Float64Array.from(s), Float64Array.from(e));
}
