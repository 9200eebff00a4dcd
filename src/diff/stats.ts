// Is a scope's change real? A percentile-bootstrap confidence interval of the relative change of
// its median duration, new vs base, over the scope's instances.
//
// Why a bootstrap CI and not a Mann–Whitney U test: the user asks "how much faster", and the
// bootstrap answers with an interval of the change itself (−26 … −20 %) for exactly the statistic
// the report shows (the nearest-rank p50), where Mann–Whitney gives a p-value for "the
// distributions differ" (it also fires on a change of shape at the same median). It assumes
// nothing about the distribution (step latencies are skewed and often bimodal: cache hits,
// recompiles). Like any test over instances it treats them as independent; warm-up instances and
// drift violate that, so the docs tell users to profile a steady state.
//
// Deterministic: a fixed-seed PRNG (mulberry32), so the same two traces give the same interval.

export const RESAMPLES = 2000;
export const CONFIDENCE = 0.95;
/** Fewer instances than this on either side: no test ("too few instances"). */
export const MIN_INSTANCES = 10;

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Nearest-rank percentile of sorted values: the value at rank ⌈p/100 · n⌉ (as the report's p50). */
export function nearestRank(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  const rank = Math.min(n, Math.max(1, Math.ceil((p / 100) * n)));
  return sorted[rank - 1]!;
}

/**
 * The median of one resample with replacement of `sorted`, in O(n): draw n indices, count how
 * often each is drawn, and walk the counts to the median's rank (no sort per resample).
 */
function resampledMedian(sorted: Float64Array, counts: Uint32Array, rnd: () => number): number {
  const n = sorted.length;
  counts.fill(0);
  for (let i = 0; i < n; i++) counts[Math.floor(rnd() * n)]!++;
  const rank = Math.ceil(0.5 * n);
  let seen = 0;
  for (let i = 0; i < n; i++) {
    seen += counts[i]!;
    if (seen >= rank) return sorted[i]!;
  }
  return sorted[n - 1]!;
}

export interface MedianChange {
  /** (median new − median base) / median base × 100 */
  change_pct: number;
  /** The CONFIDENCE interval of that change, percentile bootstrap. */
  low_pct: number;
  high_pct: number;
  /** The interval excludes 0. */
  significant: boolean;
  resamples: number;
}

/** The change of the median and its bootstrap CI; null with fewer than MIN_INSTANCES on a side or a zero median. */
export function medianChange(base: ArrayLike<number>, next: ArrayLike<number>, opts: { resamples?: number; seed?: number; level?: number; minInstances?: number } = {}): MedianChange | null {
  const min = opts.minInstances ?? MIN_INSTANCES;
  if (base.length < min || next.length < min) return null;
  const b = Float64Array.from(base).sort();
  const n = Float64Array.from(next).sort();
  const mb = nearestRank(b, 50);
  const mn = nearestRank(n, 50);
  if (!(mb > 0)) return null;
  const B = opts.resamples ?? RESAMPLES;
  const rnd = mulberry32(opts.seed ?? 0x15c0de);
  const cb = new Uint32Array(b.length);
  const cn = new Uint32Array(n.length);
  const stats = new Float64Array(B);
  for (let i = 0; i < B; i++) {
    const rb = resampledMedian(b, cb, rnd);
    const rn = resampledMedian(n, cn, rnd);
    stats[i] = rb > 0 ? ((rn - rb) / rb) * 100 : 0;
  }
  stats.sort();
  const alpha = (1 - (opts.level ?? CONFIDENCE)) / 2;
  const low = nearestRank(stats, alpha * 100);
  const high = nearestRank(stats, (1 - alpha) * 100);
  return { change_pct: ((mn - mb) / mb) * 100, low_pct: low, high_pct: high, significant: low > 0 || high < 0, resamples: B };
}
