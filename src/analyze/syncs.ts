// CPU waits for the GPU (docs/analysis.md, "Syncs"): synchronize calls, synchronous copies and
// CUPTI synchronization records, the CPU time blocked in them, who called them, and the GPU idle
// they caused (the queue drained while the CPU waited, so the GPU idles until the next launch).
import type { ApiCall, CpuSpan, Trace } from "../trace/model.ts";
import type { CodeRef } from "./report-types.ts";
import { unionOf, upperBound } from "../core/intervals.ts";
import type { Gap } from "./gpu.ts";
import { isSyncCopyCall } from "./transfers.ts";
import { resolveStacks, scopeName, type StackContext } from "../merge/stacks.ts";
import type { MergeResult } from "../merge/index.ts";
import { mapF64 } from "../core/typed-arrays.ts";

/**
 * A host-wait gap "follows a sync" when the launching thread was blocked in a sync at the
 * instant the GPU went idle (allowing this much for a sync that returns just before the GPU
 * op's recorded end).
 */
export const SYNC_DRAIN_SLACK_NS = 2_000;

export interface SyncOccasion {
  tid: number;
  /** who called it, when the merger resolved it (API calls) */
  ctx?: StackContext;
  start: number;
  end: number;
  /** API name, or "cuda_sync:<type>" for a CUPTI record without its call. */
  what: string;
  /** The API call, when the occasion is one. */
  call?: ApiCall;
}

export interface SyncCaller extends CodeRef {
  count: number;
  blockedNs: number;
}

export interface SyncMetrics {
  occasions: SyncOccasion[];
  count: number;
  /** Per thread, the union of the occasions' intervals; summed over threads. */
  blockedNs: number;
  blockedByThread: Map<number, number>;
  callers: SyncCaller[];
  /** Host-wait gaps that began while the launching thread was blocked in a sync. */
  drainGaps: number;
  drainIdleNs: number;
  /** Aligned with the GPU gaps: the occasion (index in `occasions`) a drained gap followed, else -1. */
  gapOccasion: Int32Array;
}

export function syncMetrics(trace: Trace, merge: MergeResult, gaps: Gap[] | null): SyncMetrics {
  const { callOf, byThread } = merge;
  const occasions: SyncOccasion[] = [];
  const included = new Set<number>();
  for (let k = 0; k < trace.api.length; k++) {
    const c = trace.api[k]!;
    if (c.kind === "sync" || isSyncCopyCall(c)) {
      const o: SyncOccasion = { tid: c.tid, start: c.start, end: c.end, what: c.name, call: c };
      const ctx = merge.callCtx[k];
      if (ctx) o.ctx = ctx;
      occasions.push(o);
      included.add(c.correlation);
    }
  }
  for (const w of trace.syncs) {
    if (w.type === "stream_wait_event") continue; // a GPU-side dependency, not a CPU wait
    if (w.correlation !== undefined && included.has(w.correlation)) continue;
    const call = w.correlation !== undefined ? callOf(w.correlation) : undefined;
    occasions.push({ tid: call?.tid ?? w.tid, start: w.start, end: w.end, what: call?.name ?? `cuda_sync:${w.type}` });
  }
  occasions.sort((a, b) => a.start - b.start || a.end - b.end);

  // blocked time: per-thread union
  const perThread = new Map<number, SyncOccasion[]>();
  for (const o of occasions) {
    let a = perThread.get(o.tid);
    if (!a) {
      a = [];
      perThread.set(o.tid, a);
    }
    a.push(o);
  }
  let blockedNs = 0;
  const blockedByThread = new Map<number, number>();
  for (const [tid, a] of perThread) {
    const u = unionOf(
      a.map((o) => o.start),
      a.map((o) => o.end),
    );
    blockedNs += u.measure;
    blockedByThread.set(tid, u.measure);
  }

  // callers (the merger resolved the API calls; CUPTI records without their call are resolved here)
  const unresolved = occasions.filter((o) => !o.ctx);
  if (unresolved.length > 0) {
    const r = resolveStacks(
      byThread,
      unresolved.map((o) => o.tid),
      unresolved.map((o) => o.start),
    );
    for (let i = 0; i < unresolved.length; i++) unresolved[i]!.ctx = r[i]!;
  }
  const callers = new Map<string, SyncCaller>();
  for (let i = 0; i < occasions.length; i++) {
    const o = occasions[i]!;
    const c = o.ctx!;
    const code = c.python ?? c.op;
    const ref: SyncCaller = { function: code?.name ?? o.what, count: 0, blockedNs: 0 };
    if (code?.file !== undefined) ref.file = code.file;
    if (code?.line !== undefined) ref.line = code.line;
    if (c.scope) ref.scope = scopeName(c.scope.name);
    const key = `${ref.function}\u0000${ref.file ?? ""}\u0000${ref.line ?? ""}\u0000${ref.scope ?? ""}`;
    let e = callers.get(key);
    if (!e) {
      e = ref;
      callers.set(key, e);
    }
    e.count++;
    e.blockedNs += o.end - o.start;
  }

  // gaps that began while the launching thread was blocked in a sync
  let drainGaps = 0;
  let drainIdleNs = 0;
  const gapOccasion = new Int32Array(gaps?.length ?? 0).fill(-1);
  if (gaps) {
    const index = new Map<SyncOccasion, number>();
    occasions.forEach((o, i) => index.set(o, i));
    const starts = new Map<number, Float64Array>();
    // per thread, prefix maximum of the ends and the occasion that reaches it
    const maxEnds = new Map<number, { end: Float64Array; at: Int32Array }>();
    for (const [tid, a] of perThread) {
      starts.set(tid, mapF64(a, (o) => o.start));
      const end = new Float64Array(a.length);
      const at = new Int32Array(a.length);
      let m = -Infinity;
      let mi = -1;
      for (let i = 0; i < a.length; i++) {
        if (a[i]!.end > m) [m, mi] = [a[i]!.end, index.get(a[i]!)!];
        end[i] = m;
        at[i] = mi;
      }
      maxEnds.set(tid, { end, at });
    }
    for (let gi = 0; gi < gaps.length; gi++) {
      const g = gaps[gi]!;
      if (g.kind !== "host_wait" || !g.call) continue;
      const s = starts.get(g.call.tid);
      if (!s) continue;
      const k = upperBound(s, g.start) - 1; // last occasion starting at or before the gap
      const me = maxEnds.get(g.call.tid)!;
      if (k >= 0 && me.end[k]! >= g.start - SYNC_DRAIN_SLACK_NS) {
        drainGaps++;
        drainIdleNs += g.end - g.start;
        gapOccasion[gi] = me.at[k]!;
      }
    }
  }

  return {
    occasions,
    count: occasions.length,
    blockedNs,
    blockedByThread,
    callers: [...callers.values()].sort((a, b) => b.blockedNs - a.blockedNs || b.count - a.count),
    drainGaps,
    drainIdleNs,
    gapOccasion,
  };
}
