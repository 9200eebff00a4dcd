// Reads the binary file ffi/cupti.c writes (layout: ffi/gpu_records.h) into the event model.
import { cudaCallKind, cudaCallName } from "../trace/cuda-calls.ts";
import type { ApiCall, CopyKind, CounterSample, GpuOp, MemKind, SyncWait } from "../trace/model.ts";

/** The file's first 8 bytes: IS_GPU_MAGIC in ffi/gpu_records.h. */
export const GPU_MAGIC = "ISGPU\0\0\x01";
const R = { KERNEL: 1, MEMCPY: 2, MEMSET: 3, API: 4, SYNC: 5, MEMORY: 6, STRING: 7, DROPPED: 8, INFO: 9, DEVICE: 10, INCOMPLETE: 11 } as const;

/** A GPU as CUPTI's device record names it. */
export interface CuptiDevice {
  id: number;
  name: string;
  uuid: string;
  smCount: number;
  memoryBytes: number;
}

export interface GpuRecords {
  gpu: GpuOp[];
  api: ApiCall[];
  syncs: SyncWait[];
  /** Device memory allocated through cudaMalloc & co. per device over time ("gpu N"), managed memory apart ("gpu N managed"). */
  memory: CounterSample[];
  /** CUPTI records it could not deliver (cuptiActivityGetNumDroppedRecords). */
  dropped: number;
  /** Records a forced flush delivered before their activity ended (no valid interval): left out. */
  incomplete: number;
  info: string[];
  devices: CuptiDevice[];
  /** CLOCK_MONOTONIC ns when collection started, and the latest timestamp in the records. */
  startNs?: number;
  lastNs?: number;
  /** No record at all: the file is empty or holds only (part of) its header. */
  empty: boolean;
  /** Bytes at the end that did not form a whole record (the process died mid-write). */
  truncatedBytes: number;
  /** Set by collectGpu when the shim could not write (a full disk): the file ends there. */
  writeError?: string;
}

const COPY_KINDS: Record<number, CopyKind> = { 1: "HtoD", 2: "DtoH", 3: "HtoD", 4: "DtoH", 5: "DtoD", 6: "DtoD", 7: "DtoD", 8: "DtoD", 9: "HtoH", 10: "PtoP" };
const MEM_KINDS: Record<number, MemKind> = { 1: "pageable", 2: "pinned", 3: "device", 4: "array", 5: "managed", 6: "device", 7: "managed" };
const SYNC_TYPES: Record<number, SyncWait["type"]> = { 1: "event", 2: "stream_wait_event", 3: "stream", 4: "context" };
const MEMCPY_ASYNC = 1;
/** CUpti_ActivityMemoryKind → memory track suffix: device and managed memory only (not pinned host memory). */
const MEMORY_TRACKS: Record<number, string> = { 3: "", 6: "", 5: " managed", 7: " managed" };

const MEM_LABEL: Record<MemKind, string> = { pageable: "Pageable", pinned: "Pinned", device: "Device", managed: "Managed", array: "Array", unknown: "Unknown" };

/** Kineto's memcpy name, so both trace kinds read alike: `Memcpy HtoD (Pageable -> Device)`. */
export function memcpyName(kind: CopyKind, src: MemKind, dst: MemKind): string {
  return `Memcpy ${kind} (${MEM_LABEL[src]} -> ${MEM_LABEL[dst]})`;
}

function uuidString(b: Uint8Array): string {
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `GPU-${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function readGpuRecords(bytes: Uint8Array, pid: number): GpuRecords {
  const out: GpuRecords = { gpu: [], api: [], syncs: [], memory: [], dropped: 0, incomplete: 0, info: [], devices: [], empty: true, truncatedBytes: 0 };
  const head = new TextDecoder().decode(bytes.subarray(0, Math.min(8, bytes.length)));
  if (head !== GPU_MAGIC.slice(0, head.length)) throw new Error("not an InferScope GPU record file (bad magic)");
  if (bytes.length < 8) return out; // the process died before its header reached the disk
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = new TextDecoder();
  const names = new Map<number, string>();
  const name = (id: number) => names.get(id) ?? "unknown";
  const allocated = new Map<string, number>(); // track → bytes
  const runtimeCorr = new Map<GpuOp, number>();
  const u64 = (o: number) => Number(dv.getBigUint64(o, true));
  const u32 = (o: number) => dv.getUint32(o, true);
  const i32 = (o: number) => dv.getInt32(o, true);
  let last = 0;
  let off = 8;
  while (off + 4 <= bytes.length) {
    const type = dv.getUint16(off, true);
    const size = dv.getUint16(off + 2, true);
    const p = off + 4;
    if (p + size > bytes.length) break;
    off = p + size;
    switch (type) {
      case R.STRING:
        names.set(u32(p), text.decode(bytes.subarray(p + 4, p + size)));
        break;
      case R.INFO: {
        const line = text.decode(bytes.subarray(p, p + size));
        out.info.push(line);
        if (line.startsWith("start ")) out.startNs = Number(line.slice(6));
        break;
      }
      case R.DROPPED:
        out.dropped += u64(p);
        break;
      case R.INCOMPLETE:
        out.incomplete += u64(p);
        break;
      case R.DEVICE:
        out.devices.push({ id: u32(p), name: name(u32(p + 4)), smCount: u32(p + 8), memoryBytes: u64(p + 20), uuid: uuidString(bytes.subarray(p + 28, p + 44)) });
        break;
      case R.KERNEL: {
        const graph = u32(p + 36);
        out.gpu.push({
          kind: "kernel",
          name: name(u32(p + 32)),
          start: u64(p),
          end: u64(p + 8),
          device: u32(p + 16),
          stream: u32(p + 24),
          correlation: u32(p + 28),
          grid: [i32(p + 40), i32(p + 44), i32(p + 48)],
          block: [i32(p + 52), i32(p + 56), i32(p + 60)],
          registers: u32(p + 64),
          sharedMemory: u32(p + 68) + u32(p + 72),
          ...(graph ? { graphId: graph } : {}),
        });
        break;
      }
      case R.MEMCPY: {
        const copyKind = COPY_KINDS[dv.getUint8(p + 48)] ?? "unknown";
        const srcMem = MEM_KINDS[dv.getUint8(p + 49)] ?? "unknown";
        const dstMem = MEM_KINDS[dv.getUint8(p + 50)] ?? "unknown";
        const graph = u32(p + 44);
        const op: GpuOp = {
          kind: "memcpy",
          name: memcpyName(copyKind, srcMem, dstMem),
          start: u64(p),
          end: u64(p + 8),
          bytes: u64(p + 16),
          device: u32(p + 24),
          stream: u32(p + 32),
          correlation: u32(p + 36),
          copyKind,
          srcMem,
          dstMem,
          async: (dv.getUint8(p + 51) & MEMCPY_ASYNC) !== 0,
          ...(graph ? { graphId: graph } : {}),
        };
        if (u32(p + 40)) runtimeCorr.set(op, u32(p + 40));
        out.gpu.push(op);
        break;
      }
      case R.MEMSET: {
        const dstMem = MEM_KINDS[dv.getUint16(p + 44, true)] ?? "unknown";
        out.gpu.push({
          kind: "memset",
          name: `Memset (${MEM_LABEL[dstMem]})`,
          start: u64(p),
          end: u64(p + 8),
          bytes: u64(p + 16),
          device: u32(p + 24),
          stream: u32(p + 32),
          correlation: u32(p + 36),
          dstMem,
        });
        break;
      }
      case R.API: {
        const raw = name(u32(p + 40));
        const end = u64(p + 8);
        if (end > last) last = end;
        out.api.push({
          api: u32(p + 16) === 1 ? "runtime" : "driver",
          kind: cudaCallKind(raw),
          name: cudaCallName(raw),
          start: u64(p),
          end,
          pid: u32(p + 24) || pid,
          tid: u32(p + 28),
          correlation: u32(p + 32),
        });
        break;
      }
      case R.SYNC: {
        const stream = u32(p + 28);
        out.syncs.push({
          type: SYNC_TYPES[u32(p + 16)] ?? "unknown",
          start: u64(p),
          end: u64(p + 8),
          pid,
          tid: -1, // CUPTI's sync record has no thread: the merger takes it from the API call with the same correlation id
          correlation: u32(p + 20),
          ...(stream !== 0xffffffff ? { stream } : {}),
        });
        break;
      }
      case R.MEMORY: {
        const suffix = MEMORY_TRACKS[u32(p + 28)];
        if (suffix === undefined) break; // pinned or pageable host memory is not GPU memory
        const op = u32(p + 24);
        const track = `gpu ${u32(p + 36)}${suffix}`;
        const delta = op === 1 ? u64(p + 8) : op === 2 ? -u64(p + 8) : 0;
        const now = (allocated.get(track) ?? 0) + delta;
        allocated.set(track, now);
        out.memory.push({ track, ts: u64(p + 16), values: { allocated_mb: now / 2 ** 20 } });
        break;
      }
      default:
        break; // a newer shim's record kind: skip it by its size
    }
  }
  out.truncatedBytes = bytes.length - off;
  out.empty = out.gpu.length + out.api.length + out.syncs.length + out.memory.length === 0;
  for (const x of [out.gpu, out.syncs]) for (const op of x) if (op.end > last) last = op.end;
  if (last > 0) out.lastNs = last;
  fallBackToRuntimeCorrelation(out.gpu, out.api, runtimeCorr);
  countNestedLaunchesOnce(out);
  return out;
}

/**
 * A copy's correlationId names the driver call that issued it; when that call was not recorded
 * (a runtime copy's internal driver call), its runtimeCorrelationId names the runtime call.
 */
function fallBackToRuntimeCorrelation(ops: GpuOp[], api: ApiCall[], runtimeCorr: Map<GpuOp, number>): void {
  if (runtimeCorr.size === 0) return;
  const known = new Set(api.map((a) => a.correlation));
  for (const [op, rc] of runtimeCorr) if (!known.has(op.correlation!) && known.has(rc)) op.correlation = rc;
}

/**
 * One launch, one launch call: when a launch call runs inside another on the same thread
 * (`__cudaLaunchKernel` calling `cudaLaunchKernel`), the inner record is dropped and the work it
 * issued is credited to the outer call, the one the program made.
 */
function countNestedLaunchesOnce(out: GpuRecords): void {
  const launches = out.api.filter((a) => a.kind === "launch" || a.kind === "graph_launch");
  if (launches.length < 2) return;
  launches.sort((a, b) => a.tid - b.tid || a.start - b.start || b.end - a.end);
  const outerOf = new Map<number, number>(); // inner correlation → outer correlation
  const inner = new Set<ApiCall>();
  let outer: ApiCall | undefined;
  for (const a of launches) {
    if (outer && a.tid === outer.tid && a.start >= outer.start && a.end <= outer.end) {
      inner.add(a);
      outerOf.set(a.correlation, outer.correlation);
    } else {
      outer = a;
    }
  }
  if (inner.size === 0) return;
  out.api = out.api.filter((a) => !inner.has(a));
  for (const op of out.gpu) {
    const o = op.correlation !== undefined ? outerOf.get(op.correlation) : undefined;
    if (o !== undefined) op.correlation = o;
  }
}
