// Count, mean and nearest-rank percentiles of a set of durations (docs/analysis.md, "Scopes"):
// the figures of a scope's instances and of requests' latency, TTFT and ITL.
import { percentile } from "../core/intervals.ts";
import type { LatencyStat } from "./report-types.ts";

/** `sortedNs`: durations in ns, ascending, at least one. */
export function latencyStat(sortedNs: Float64Array): LatencyStat {
  const n = sortedNs.length;
  let total = 0;
  for (const v of sortedNs) total += v;
  return {
    count: n,
    mean_ms: total / n / 1e6,
    p50_ms: percentile(sortedNs, 50) / 1e6,
    p95_ms: percentile(sortedNs, 95) / 1e6,
    p99_ms: percentile(sortedNs, 99) / 1e6,
    max_ms: sortedNs[n - 1]! / 1e6,
  };
}
