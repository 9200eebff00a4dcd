// Independent reference calculations straight from the raw Chrome-trace JSON, for the analysis
// tests. Deliberately shares no code with src/: its own gunzip + JSON.parse, its own exact
// µs → ns conversion (through the decimal string), its own interval union.
import { gunzipSync } from "node:zlib";
import { join } from "node:path";

export const FIXTURES = join(import.meta.dir, "../fixtures/kineto");

export type RawEvent = Record<string, any>;

export function loadRaw(name: string): { top: Record<string, any>; events: RawEvent[] } {
  const buf = gunzipSync(require("node:fs").readFileSync(join(FIXTURES, `${name}.kineto.json.gz`)));
  const top = JSON.parse(buf.toString("utf8"));
  return { top, events: top.traceEvents };
}

/** µs number → integer ns via its shortest decimal representation (exact for 3-decimal input). */
export function ns(us: number): number {
  const s = String(us);
  if (s.includes("e")) throw new Error(`unexpected exponent in ${s}`);
  const neg = s.startsWith("-");
  const [whole, frac = ""] = (neg ? s.slice(1) : s).split(".");
  if (frac.length > 3) throw new Error(`more than 3 decimals: ${s}`);
  const v = Number(whole) * 1000 + Number(frac.padEnd(3, "0"));
  return neg ? -v : v;
}

export const GPU_CATS = new Set(["kernel", "gpu_memcpy", "gpu_memset"]);

export interface Op {
  start: number;
  end: number;
  ev: RawEvent;
}

export function gpuOps(events: RawEvent[]): Op[] {
  return events
    .filter((e) => e.ph === "X" && GPU_CATS.has(e.cat))
    .map((e) => ({ start: ns(e.ts), end: ns(e.ts) + ns(e.dur), ev: e }))
    .sort((a, b) => a.start - b.start || a.end - b.end);
}

/** Merged busy blocks of sorted ops: [start, end, first op of the block]. */
export function blocks(ops: Op[]): { start: number; end: number; first: Op }[] {
  const out: { start: number; end: number; first: Op }[] = [];
  for (const o of ops) {
    const last = out[out.length - 1];
    if (last && o.start <= last.end) last.end = Math.max(last.end, o.end);
    else out.push({ start: o.start, end: o.end, first: o });
  }
  return out;
}

export interface Reference {
  kernels: number;
  kernelNs: number;
  shortKernels: number;
  windowNs: number;
  busyNs: number;
  idleNs: number;
  hostWaitNs: number;
  bytes: Record<string, number>;
  copies: Record<string, number>;
  pageable: Record<string, number>;
  pinned: Record<string, number>;
  memsets: number;
  memsetBytes: number;
  syncCalls: number;
  launchApiNs: number;
  steps: { count: number; meanNs: number; maxNs: number };
}

/** The figures the report must reproduce, computed the plain way. */
export function reference(events: RawEvent[]): Reference {
  const ops = gpuOps(events);
  const runtime = new Map<number, RawEvent>();
  for (const e of events) if (e.ph === "X" && (e.cat === "cuda_runtime" || e.cat === "cuda_driver")) runtime.set(e.args.correlation, e);
  const bl = blocks(ops);
  const windowNs = Math.max(...ops.map((o) => o.end)) - ops[0]!.start;
  const busyNs = bl.reduce((a, b) => a + (b.end - b.start), 0);
  let hostWaitNs = 0;
  for (let i = 1; i < bl.length; i++) {
    const call = runtime.get(bl[i]!.first.ev.args.correlation);
    if (call && ns(call.ts) > bl[i - 1]!.end) hostWaitNs += bl[i]!.start - bl[i - 1]!.end;
  }
  const kernels = ops.filter((o) => o.ev.cat === "kernel");
  const bytes: Record<string, number> = {};
  const copies: Record<string, number> = {};
  const pageable: Record<string, number> = {};
  const pinned: Record<string, number> = {};
  for (const o of ops) {
    if (o.ev.cat !== "gpu_memcpy") continue;
    const m = /^Memcpy (\w+) \((\w+) -> (\w+)\)$/.exec(o.ev.name)!;
    const dir = m[1]!;
    bytes[dir] = (bytes[dir] ?? 0) + o.ev.args.bytes;
    copies[dir] = (copies[dir] ?? 0) + 1;
    if (m[2] === "Pageable" || m[3] === "Pageable") pageable[dir] = (pageable[dir] ?? 0) + 1;
    if (m[2] === "Pinned" || m[3] === "Pinned") pinned[dir] = (pinned[dir] ?? 0) + 1;
  }
  const memsets = ops.filter((o) => o.ev.cat === "gpu_memset");
  const steps = events.filter((e) => e.ph === "X" && e.cat === "user_annotation" && /^step#\d+$/.test(e.name)).map((e) => ns(e.dur));
  const launchApiNs = events
    .filter((e) => e.ph === "X" && (e.cat === "cuda_runtime" || e.cat === "cuda_driver") && /Launch/.test(e.name))
    .reduce((a, e) => a + ns(e.dur), 0);
  return {
    kernels: kernels.length,
    kernelNs: kernels.reduce((a, o) => a + (o.end - o.start), 0),
    shortKernels: kernels.filter((o) => o.end - o.start < 10_000).length,
    windowNs,
    busyNs,
    idleNs: windowNs - busyNs,
    hostWaitNs,
    bytes,
    copies,
    pageable,
    pinned,
    memsets: memsets.length,
    memsetBytes: memsets.reduce((a, o) => a + o.ev.args.bytes, 0),
    syncCalls: events.filter((e) => e.ph === "X" && e.cat === "cuda_runtime" && /Synchronize$/.test(e.name)).length,
    launchApiNs,
    steps: { count: steps.length, meanNs: steps.reduce((a, b) => a + b, 0) / steps.length, maxNs: Math.max(...steps) },
  };
}
