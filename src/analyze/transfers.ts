// Copies per direction and memsets (docs/analysis.md, "Transfers").
import type { ApiCall, GpuOp, Trace } from "../trace/model.ts";
import type { CopyStat } from "./report-types.ts";

export interface CopyMetrics {
  count: number;
  bytes: number;
  /** Sum of copy durations. */
  ns: number;
  /** Copies whose byte count is known, and their bytes and time (for the bandwidth). */
  sizedBytes: number;
  sizedNs: number;
  pageableCount: number;
  pageableBytes: number;
  pageableNs: number;
  pinnedCount: number;
  syncCount: number;
  /** CPU time spent in the synchronous copy calls. */
  syncBlockedNs: number;
  /** Launchers of pageable copies, by bytes. */
  pageableLaunchers: Map<string, { op: GpuOp; count: number; bytes: number; ns: number }>;
}

export interface TransferMetrics {
  h2d: CopyMetrics;
  d2h: CopyMetrics;
  d2d: CopyMetrics;
  other: CopyMetrics;
  memset: { count: number; bytes: number; ns: number };
}

function empty(): CopyMetrics {
  return {
    count: 0,
    bytes: 0,
    ns: 0,
    sizedBytes: 0,
    sizedNs: 0,
    pageableCount: 0,
    pageableBytes: 0,
    pageableNs: 0,
    pinnedCount: 0,
    syncCount: 0,
    syncBlockedNs: 0,
    pageableLaunchers: new Map(),
  };
}

export function isSyncCopyCall(call: ApiCall): boolean {
  return (call.kind === "memcpy" || call.kind === "memset") && !/Async/.test(call.name);
}

/**
 * The copy calls that made the CPU wait for the copy: a synchronous copy call (cudaMemcpy,
 * cuMemcpyHtoD_v2 … — no "Async" in the name), or an async copy call that the same thread follows
 * with a stream/device synchronize before its next launch, copy or memset call (what PyTorch does
 * for a blocking `.to()`, `.cpu()`, `.item()`). Value: the following sync call, if any.
 * `trace.api` must be sorted by start.
 */
export function blockingCopyCalls(trace: Trace): Map<ApiCall, ApiCall | null> {
  const out = new Map<ApiCall, ApiCall | null>();
  const pending = new Map<number, ApiCall>(); // tid → last async copy call not yet followed by work
  for (const c of trace.api) {
    if (c.kind === "memcpy" || c.kind === "memset") {
      if (isSyncCopyCall(c)) {
        out.set(c, null);
        pending.delete(c.tid);
      } else pending.set(c.tid, c);
    } else if (c.kind === "sync") {
      const copy = pending.get(c.tid);
      if (copy) {
        out.set(copy, c);
        pending.delete(c.tid);
      }
    } else if (c.kind === "launch" || c.kind === "graph_launch") pending.delete(c.tid);
  }
  return out;
}

/**
 * A copy is synchronous when InferScope recorded `async: false`, or when its call is a blocking
 * copy call (see blockingCopyCalls).
 */
export function isSyncCopy(op: GpuOp, call: ApiCall | undefined, blocking: Map<ApiCall, ApiCall | null>): boolean {
  if (op.async === false) return true;
  return call !== undefined && blocking.has(call);
}

export function transferMetrics(trace: Trace, opCall: (ApiCall | undefined)[]): TransferMetrics {
  const m: TransferMetrics = { h2d: empty(), d2h: empty(), d2d: empty(), other: empty(), memset: { count: 0, bytes: 0, ns: 0 } };
  const syncCalls = new Set<ApiCall>();
  const blocking = blockingCopyCalls(trace);
  for (let i = 0; i < trace.gpu.length; i++) {
    const op = trace.gpu[i]!;
    const d = op.end - op.start;
    if (op.kind === "memset") {
      m.memset.count++;
      m.memset.bytes += op.bytes ?? 0;
      m.memset.ns += d;
      continue;
    }
    if (op.kind !== "memcpy") continue;
    const dir = op.copyKind === "HtoD" ? m.h2d : op.copyKind === "DtoH" ? m.d2h : op.copyKind === "DtoD" || op.copyKind === "PtoP" ? m.d2d : m.other;
    dir.count++;
    dir.ns += d;
    if (op.bytes !== undefined) {
      dir.bytes += op.bytes;
      dir.sizedBytes += op.bytes;
      dir.sizedNs += d;
    }
    const pageable = op.srcMem === "pageable" || op.dstMem === "pageable";
    if (pageable) {
      dir.pageableCount++;
      dir.pageableBytes += op.bytes ?? 0;
      dir.pageableNs += d;
      const l = op.launcher;
      const key = `${l?.function ?? ""}\u0000${l?.file ?? ""}\u0000${l?.line ?? ""}\u0000${l?.scope ?? ""}`;
      const e = dir.pageableLaunchers.get(key);
      if (e) {
        e.count++;
        e.bytes += op.bytes ?? 0;
        e.ns += d;
      } else dir.pageableLaunchers.set(key, { op, count: 1, bytes: op.bytes ?? 0, ns: d });
    }
    if (op.srcMem === "pinned" || op.dstMem === "pinned") dir.pinnedCount++;
    const call = opCall[i];
    if (isSyncCopy(op, call, blocking)) {
      dir.syncCount++;
      if (call && !syncCalls.has(call)) {
        syncCalls.add(call);
        dir.syncBlockedNs += call.end - call.start;
        const wait = blocking.get(call);
        if (wait) dir.syncBlockedNs += wait.end - wait.start;
      }
    }
  }
  return m;
}

/** GB/s (1e9 bytes per second) over the copies whose size is known; null when not measurable. */
export function gbps(c: CopyMetrics): number | null {
  if (c.sizedNs <= 0 || c.sizedBytes <= 0) return null;
  return c.sizedBytes / c.sizedNs;
}

export function copyStat(c: CopyMetrics): CopyStat {
  return {
    count: c.count,
    bytes: c.bytes,
    ms: c.ns / 1e6,
    gbps: gbps(c),
    pageable_count: c.pageableCount,
    pinned_count: c.pinnedCount,
    sync_count: c.syncCount,
    pageable_bytes: c.pageableBytes,
    pageable_ms: c.pageableNs / 1e6,
    sync_blocked_ms: c.syncBlockedNs / 1e6,
  };
}
