// Reads the binary file ffi/cupti.c writes (layout: ffi/gpu_records.h) into the event model.
import type { ApiCall, ApiKind, CopyKind, CounterSample, GpuOp, MemKind, SyncWait } from "../trace/model.ts";

export const MAGIC = "ISGPU\0\0\x01";
const R = { KERNEL: 1, MEMCPY: 2, MEMSET: 3, API: 4, SYNC: 5, MEMORY: 6, STRING: 7, DROPPED: 8, INFO: 9 } as const;

export interface GpuRecords {
  gpu: GpuOp[];
  api: ApiCall[];
  syncs: SyncWait[];
  /** Device memory allocated through cudaMalloc & co., per device, over time. */
  memory: CounterSample[];
  /** CUPTI records it could not deliver (cuptiActivityGetNumDroppedRecords). */
  dropped: number;
  info: string[];
  /** Bytes at the end that did not form a whole record (the process died mid-write). */
  truncatedBytes: number;
}

const COPY_KINDS: Record<number, CopyKind> = { 1: "HtoD", 2: "DtoH", 3: "HtoD", 4: "DtoH", 5: "DtoD", 6: "DtoD", 7: "DtoD", 8: "DtoD", 9: "HtoH", 10: "PtoP" };
const MEM_KINDS: Record<number, MemKind> = { 1: "pageable", 2: "pinned", 3: "device", 4: "array", 5: "managed", 6: "device", 7: "managed" };
const SYNC_TYPES: Record<number, SyncWait["type"]> = { 1: "event", 2: "stream_wait_event", 3: "stream", 4: "context" };
const MEMCPY_ASYNC = 1;

const MEM_LABEL: Record<MemKind, string> = { pageable: "Pageable", pinned: "Pinned", device: "Device", managed: "Managed", array: "Array", unknown: "Unknown" };

/** Kineto's memcpy name, so both trace kinds read alike: `Memcpy HtoD (Pageable -> Device)`. */
export function memcpyName(kind: CopyKind, src: MemKind, dst: MemKind): string {
  return `Memcpy ${kind} (${MEM_LABEL[src]} -> ${MEM_LABEL[dst]})`;
}

export function apiKind(name: string): ApiKind {
  if (/^cu(da)?GraphLaunch/.test(name)) return "graph_launch";
  if (/^cu(da)?Launch/.test(name)) return "launch";
  if (/^cu(da)?Memcpy/.test(name)) return "memcpy";
  if (/^cu(da)?Memset/.test(name)) return "memset";
  if (/Synchronize|StreamWaitEvent/.test(name)) return "sync";
  if (/^cu(da)?(Malloc|MemAlloc|HostAlloc|MemHostAlloc)/.test(name)) return "alloc";
  if (/^cu(da)?(Free|MemFree)/.test(name)) return "free";
  return "other";
}

export function readGpuRecords(bytes: Uint8Array, pid: number): GpuRecords {
  const out: GpuRecords = { gpu: [], api: [], syncs: [], memory: [], dropped: 0, info: [], truncatedBytes: 0 };
  if (bytes.length < 8 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) throw new Error("not an InferScope GPU record file (bad magic)");
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = new TextDecoder();
  const names = new Map<number, string>();
  const name = (id: number) => names.get(id) ?? "unknown";
  const allocated = new Map<number, number>(); // device → bytes
  const u64 = (o: number) => Number(dv.getBigUint64(o, true));
  const u32 = (o: number) => dv.getUint32(o, true);
  const i32 = (o: number) => dv.getInt32(o, true);
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
      case R.INFO:
        out.info.push(text.decode(bytes.subarray(p, p + size)));
        break;
      case R.DROPPED:
        out.dropped += u64(p);
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
        out.gpu.push({
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
        });
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
        const n = name(u32(p + 40));
        out.api.push({
          api: u32(p + 16) === 1 ? "runtime" : "driver",
          kind: apiKind(n),
          name: n,
          start: u64(p),
          end: u64(p + 8),
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
        const op = u32(p + 24);
        const device = u32(p + 36);
        const delta = op === 1 ? u64(p + 8) : op === 2 ? -u64(p + 8) : 0;
        const now = (allocated.get(device) ?? 0) + delta;
        allocated.set(device, now);
        out.memory.push({ track: `gpu ${device}`, ts: u64(p + 16), values: { allocated_mb: now / 2 ** 20 } });
        break;
      }
      default:
        break; // a newer shim's record kind: skip it by its size
    }
  }
  out.truncatedBytes = bytes.length - off;
  return out;
}
