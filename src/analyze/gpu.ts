// GPU window, busy time, idle gaps and their breakdown (docs/analysis.md, "GPU time").
import type { ApiCall, GpuOp, Trace } from "../trace/model.ts";
import { type Union, UnionBuilder } from "../core/intervals.ts";

/**
 * A gap shorter than this between two GPU ops, when the second op had already been launched
 * before the first ended, is "kernel wait": the GPU's own cost of starting queued work. HTA uses
 * 30 ns; on the H100 traces in test/fixtures the gap between two already-queued ops is 1–5 µs,
 * so 30 ns would call none of them kernel wait.
 */
export const KERNEL_WAIT_MAX_NS = 10_000;

export type GapKind = "host_wait" | "kernel_wait" | "other";

export interface Gap {
  start: number;
  end: number;
  kind: GapKind;
  /** The op that ended the gap (the first to start when the GPU became busy again). */
  next: GpuOp;
  /** Its launch call, when known. */
  call: ApiCall | undefined;
}

/** One GPU's busy time: the union of its ops. */
export interface DeviceBusy {
  device: number;
  busy: Union;
}

export interface GpuTime {
  ops: GpuOp[];
  windowStart: number;
  windowEnd: number;
  windowNs: number;
  /** Union of all ops (kernels, copies, memsets; every stream and device). */
  all: Union;
  /** Per device, by device index (one entry, `all` itself, on a single-GPU trace). */
  devices: DeviceBusy[];
  /** Union of kernels and memsets: the GPU computing. */
  compute: Union;
  /** Union of copies. */
  copies: Union;
  busyNs: number;
  idleNs: number;
  /** Time with at least one kernel or memset running. */
  computeNs: number;
  /** Time with copies running and no kernel or memset. */
  transferOnlyNs: number;
  /** Time with at least one copy running (overlapped with compute or not). */
  copyNs: number;
  gaps: Gap[];
  hostWaitNs: number;
  kernelWaitNs: number;
  otherNs: number;
  /** Whether the launch calls were known for the ops that end gaps (else host-wait is unknown). */
  launchesKnown: boolean;
}

/** GPU time metrics; null when the trace has no GPU ops. `trace.gpu` must be sorted by start and `opCall` aligned with it. */
export function gpuTime(trace: Trace, opCall: (ApiCall | undefined)[]): GpuTime | null {
  const ops = trace.gpu;
  if (ops.length === 0) return null;
  // One pass in start order: the three unions, and the gaps of the union of all ops (a new
  // block of that union starts with the op that ends a gap).
  const allB = new UnionBuilder();
  const computeB = new UnionBuilder();
  const copiesB = new UnionBuilder();
  const gaps: Gap[] = [];
  let hostWaitNs = 0;
  let kernelWaitNs = 0;
  let otherNs = 0;
  let known = 0;
  let curEnd = -Infinity;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    allB.add(op.start, op.end);
    if (op.kind === "memcpy") copiesB.add(op.start, op.end);
    else computeB.add(op.start, op.end);
    if (op.start > curEnd && curEnd !== -Infinity) {
      const start = curEnd;
      const end = op.start;
      const call = opCall[i];
      let kind: GapKind;
      if (call !== undefined && call.start > start) kind = "host_wait";
      else if (call !== undefined && end - start < KERNEL_WAIT_MAX_NS) kind = "kernel_wait";
      else kind = "other";
      if (call !== undefined) known++;
      const len = end - start;
      if (kind === "host_wait") hostWaitNs += len;
      else if (kind === "kernel_wait") kernelWaitNs += len;
      else otherNs += len;
      gaps.push({ start, end, kind, next: op, call });
    }
    if (op.end > curEnd) curEnd = op.end;
  }
  const all = allB.finish();
  const devices = busyByDevice(ops, all);
  const compute = computeB.finish();
  const copies = copiesB.finish();
  const windowStart = all.starts[0]!;
  const windowEnd = all.ends[all.length - 1]!;
  const windowNs = windowEnd - windowStart;
  const busyNs = all.measure;
  const computeNs = compute.measure;
  return {
    ops,
    windowStart,
    windowEnd,
    windowNs,
    all,
    devices,
    compute,
    copies,
    busyNs,
    idleNs: windowNs - busyNs,
    computeNs,
    transferOnlyNs: busyNs - computeNs,
    copyNs: copies.measure,
    gaps,
    hostWaitNs,
    kernelWaitNs,
    otherNs,
    launchesKnown: gaps.length === 0 ? opCall.some((c) => c !== undefined) : known > 0,
  };
}

/** The union of each device's ops (`ops` sorted by start; `all` their union over every device). */
function busyByDevice(ops: GpuOp[], all: Union): DeviceBusy[] {
  const first = ops[0]!.device;
  if (ops.every((op) => op.device === first)) return [{ device: first, busy: all }];
  const builders = new Map<number, UnionBuilder>();
  for (const op of ops) {
    let b = builders.get(op.device);
    if (!b) builders.set(op.device, (b = new UnionBuilder()));
    b.add(op.start, op.end);
  }
  return [...builders.keys()].sort((a, b) => a - b).map((device) => ({ device, busy: builders.get(device)!.finish() }));
}
