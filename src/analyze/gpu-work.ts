// What kind of work the GPU did (docs/analysis.md, "Kernel classes", "GEMMs"): the class of every
// GPU op, the per-class totals, the GEMMs by precision, the device the work ran on, and the
// pace-setting time (where faster kernels would shorten the run). The GPU-bound rules read it.
import type { CpuSpan, DeviceInfo, GpuOp, Trace } from "../trace/model.ts";
import { type DeviceFacts, deviceFacts } from "./device-peaks.ts";
import { type GemmKind, type GemmMetrics, gemmKinds, gemmMetrics } from "./gemm.ts";
import type { GpuTime } from "./gpu.ts";
import type { Union } from "../core/intervals.ts";
import { type ClassStat, type KernelClass, classStats, classifyByName, classifyByOp, dispatchingOps } from "./kernel-classes.ts";
import { paceSetting, pacedOps } from "./savings.ts";
import { type GapTable, gapTable } from "./claims.ts";
import type { SyncMetrics } from "./syncs.ts";
import { mapF64 } from "../core/typed-arrays.ts";

export interface GpuWork {
  /** Aligned with gpu.ops. */
  classes: KernelClass[];
  byClass: ClassStat[];
  /** Kineto External id → the torch op that dispatched the kernel. */
  dispatch: Map<number, CpuSpan>;
  /** The device that ran most of the kernel time; null when the trace describes none. */
  device: DeviceFacts | null;
  /** Precision and math path of each GEMM op (null for other ops), aligned with gpu.ops. */
  gemmKinds: (GemmKind | null)[];
  gemm: GemmMetrics | null;
  /** Busy time the CPU did not leave waiting (savings.ts, paceSetting)… */
  pace: Union;
  /** …and, aligned with gpu.ops, whether each op lies in it. */
  paced: Uint8Array;
  /** Indices of the ops on each (device, stream), in the order the stream runs them. */
  streams: number[][];
  /** Each op's duration, ns, aligned with gpu.ops (the rules' passes read it, not the op objects). */
  dur: Float64Array;
  /** The idle gaps as typed arrays, for the saving claims. */
  gaps: GapTable;
}

export function gpuWork(trace: Trace, gpu: GpuTime, syncs: SyncMetrics): GpuWork {
  const byName = classifyByName(gpu.ops);
  const dispatch = dispatchingOps(trace.spans, byName);
  const classes = classifyByOp(gpu.ops, byName.classes, dispatch);
  const device = deviceFacts(mainDevice(trace.meta.devices, gpu));
  const kinds = gemmKinds(gpu.ops, classes);
  const pace = paceSetting(gpu, syncs.gapOccasion);
  return {
    classes,
    byClass: classStats(gpu.ops, classes),
    dispatch,
    device,
    gemmKinds: kinds,
    gemm: gemmMetrics(gpu.ops, kinds, dispatch, device),
    pace,
    paced: pacedOps(gpu.ops, pace),
    streams: byStream(gpu.ops),
    dur: mapF64(gpu.ops, (op) => op.end - op.start),
    gaps: gapTable(gpu, syncs.gapOccasion),
  };
}

/** The described device with the most kernel time (the only one, on a single-GPU trace). */
function mainDevice(devices: DeviceInfo[], gpu: GpuTime): DeviceInfo | undefined {
  if (devices.length <= 1) return devices[0];
  const ns = new Map<number, number>();
  for (const op of gpu.ops) if (op.kind === "kernel") ns.set(op.device, (ns.get(op.device) ?? 0) + op.end - op.start);
  let best: DeviceInfo | undefined;
  for (const d of devices) if (!best || (ns.get(d.index) ?? 0) > (ns.get(best.index) ?? 0)) best = d;
  return best;
}

/** Indices of the ops on each (device, stream), in start order: the order a stream runs them. A stream belongs to one process: the same id in two processes is two streams. */
export function byStream(ops: GpuOp[]): number[][] {
  const m = new Map<number, Map<number, number[]>>();
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    let d = m.get(op.device);
    if (!d) m.set(op.device, (d = new Map()));
    const key = (op.pid ?? 0) * 2 ** 32 + op.stream; // pids < 2^22, stream ids < 2^32: exact
    let a = d.get(key);
    if (!a) d.set(key, (a = []));
    a.push(i);
  }
  return [...m.values()].flatMap((d) => [...d.values()]);
}
