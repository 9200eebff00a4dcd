// The event model → an InferScope trace (Chrome Trace Event JSON, docs/trace-format.md), streamed
// to disk (optionally gzipped) so a trace of millions of events never sits in memory as one
// string. `ts`/`dur` are µs with exactly three decimals relative to baseTimeNanoseconds, so a
// reader gets the integer ns back exactly: round(ts * 1000) + baseTimeNanoseconds.
import { createWriteStream, renameSync, rmSync, type WriteStream } from "node:fs";
import { createGzip, type Gzip } from "node:zlib";
import { ARG, gpuLaneTid, TRACE_SCHEMA } from "./event-args.ts";
import type { ApiCall, CodeShape, CounterSample, CpuSpan, GpuOp, Instant, Launcher, SyncWait, Trace } from "./model.ts";

export interface WriteTraceOptions {
  /** InferScope version for the metadata block. */
  version: string;
  /** gzip the output; default: when the path ends in .gz */
  gzip?: boolean;
  /** The profiled process's pid: the lane of counter tracks (default: the first CPU span's pid). */
  pid?: number;
  /** Extra keys for the `inferscope` block (buffer, gpuCollection, sampleIntervalMs, …). */
  extra?: Record<string, unknown>;
}

export interface WriteTraceResult {
  path: string;
  events: number;
  bytes: number;
}

/** ns → µs with exactly three decimals (integer ns in, so the conversion is exact). */
export function nsToUs(ns: number): string {
  const n = Math.round(ns);
  const neg = n < 0;
  const a = neg ? -n : n;
  const us = Math.floor(a / 1000);
  const frac = a - us * 1000;
  return `${neg ? "-" : ""}${us}.${frac < 10 ? "00" : frac < 100 ? "0" : ""}${frac}`;
}

/**
 * Buffered sink: strings are batched into ~1 MiB writes, honouring back-pressure. A write error
 * (a full disk) fails the next write or end() at once: waiting for a 'drain' that never comes
 * after an error hung the run forever.
 */
class Sink {
  private parts: string[] = [];
  private size = 0;
  bytes = 0;
  private readonly file: WriteStream;
  private readonly gz: Gzip | null;
  private readonly done: Promise<void>;
  private error: Error | null = null;
  private readonly failed: Promise<never>;

  constructor(path: string, gzip: boolean) {
    this.file = createWriteStream(path);
    this.gz = gzip ? createGzip({ level: 6 }) : null;
    const target = this.file;
    let fail: (e: Error) => void = () => {};
    this.failed = new Promise<never>((_, reject) => {
      fail = (e) => {
        this.error ??= e;
        reject(this.error);
      };
    });
    this.failed.catch(() => {}); // observed through write()/end()
    target.on("error", fail);
    this.gz?.on("error", fail);
    this.done = new Promise((resolve) => target.on("finish", () => resolve()));
    if (this.gz) this.gz.pipe(this.file);
  }

  write(s: string): Promise<void> | void {
    if (this.error) throw this.error;
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= 1 << 20) return this.flush();
  }

  private async flush(): Promise<void> {
    if (this.error) throw this.error;
    if (this.parts.length === 0) return;
    const buf = Buffer.from(this.parts.join(""), "utf8");
    this.parts = [];
    this.size = 0;
    this.bytes += buf.length;
    const stream = this.gz ?? this.file;
    if (!stream.write(buf)) await Promise.race([new Promise<void>((r) => stream.once("drain", () => r())), this.failed]);
  }

  async end(): Promise<void> {
    await this.flush();
    (this.gz ?? this.file).end();
    await Promise.race([this.done, this.failed]);
  }

  /** After a failure: close the file so it can be removed. */
  destroy(): void {
    this.gz?.destroy();
    this.file.destroy();
  }
}

function minTime(trace: Trace): number {
  let m = Infinity;
  for (const s of trace.spans) if (s.start < m) m = s.start;
  for (const a of trace.api) if (a.start < m) m = a.start;
  for (const g of trace.gpu) if (g.start < m) m = g.start;
  for (const w of trace.syncs) if (w.start < m) m = w.start;
  for (const i of trace.instants) if (i.ts < m) m = i.ts;
  for (const c of trace.counters) if (c.ts < m) m = c.ts;
  return Number.isFinite(m) ? m : 0;
}

function launcherArgs(l: Launcher | undefined, into: Record<string, unknown>): void {
  if (!l) return;
  into[ARG.launchTid] = l.tid;
  if (l.api !== undefined) into[ARG.launchApi] = l.api;
  if (l.function !== undefined) into[ARG.launchFunction] = l.function;
  if (l.file !== undefined) into[ARG.launchFile] = l.file;
  if (l.line !== undefined) into[ARG.launchLine] = l.line;
  if (l.scope !== undefined) into[ARG.launchScope] = l.scope;
}

const MEM_ARG: Record<string, string> = { pageable: "pageable", pinned: "pinned", device: "device", managed: "managed", array: "array", unknown: "unknown" };

/** The `inferscope` metadata block of a trace. */
export function metadataBlock(trace: Trace, opts: WriteTraceOptions): Record<string, unknown> {
  const m = trace.meta;
  const block: Record<string, unknown> = { schema: TRACE_SCHEMA, version: opts.version, clock: m.clock ?? "CLOCK_MONOTONIC" };
  if (m.command) block.command = m.command;
  if (m.exitCode !== undefined) block.exitCode = m.exitCode;
  if (m.pythonVersion) block.python = m.pythonVersion;
  if (m.torchVersion) block.torch = m.torchVersion;
  if (m.cudaVersion) block.cuda = m.cudaVersion;
  block.devices = m.devices;
  block.dropped = m.dropped;
  if (m.buffer !== undefined) block.buffer = m.buffer;
  // absent when no causality check could be made (no GPU ops): unknown, not 0
  if (m.clockErrorBoundNs !== undefined) block.clockErrorBoundNs = m.clockErrorBoundNs;
  if (m.gpuCollection !== undefined) block.gpuCollection = m.gpuCollection;
  if (typeof m.cuptiLibrary === "string") block.cuptiLibrary = m.cuptiLibrary;
  if (m.cuptiVersion !== undefined) block.cuptiVersion = m.cuptiVersion;
  if (m.sampleIntervalMs !== undefined) block.sampleIntervalMs = m.sampleIntervalMs;
  for (const key of ["processes", "gpuProcesses", "torchThreads", "cpus", "processStartNs", "tracerStartNs"] as const) if (m[key] !== undefined) block[key] = m[key];
  if (trace.summaries.length) block.summaries = summariesBlock(trace);
  if (m.codeShapes?.length) block.codeShapes = codeShapesBlock(m.codeShapes);
  Object.assign(block, opts.extra ?? {});
  block.warnings = trace.warnings;
  return block;
}

/**
 * Write `trace` to `path` (via a temp file renamed into place, so a reader never sees half a
 * trace). Overwrites: callers check first.
 */
export async function writeTrace(trace: Trace, path: string, opts: WriteTraceOptions): Promise<WriteTraceResult> {
  const gzip = opts.gzip ?? path.endsWith(".gz");
  const tmp = `${path}.tmp-${process.pid}`;
  const sink = new Sink(tmp, gzip);
  try {
    const events = await writeEvents(trace, sink, opts);
    await sink.end();
    renameSync(tmp, path);
    return { path, events, bytes: sink.bytes };
  } catch (e) {
    sink.destroy();
    rmSync(tmp, { force: true });
    throw e;
  }
}

async function writeEvents(trace: Trace, sink: Sink, opts: WriteTraceOptions): Promise<number> {
  const base = trace.meta.baseTimeNs ?? minTime(trace);
  const ts = (ns: number) => nsToUs(ns - base);
  const names = new Map<string, string>();
  const q = (s: string): string => {
    let j = names.get(s);
    if (j === undefined) {
      j = JSON.stringify(s);
      if (names.size < 1 << 16) names.set(s, j);
    }
    return j;
  };
  const pid = opts.pid ?? trace.spans[0]?.pid ?? trace.instants[0]?.pid ?? 0;
  let n = 0;
  let first = true;
  const emit = (s: string): Promise<void> | void => {
    n++;
    const r = sink.write(first ? s : `,\n${s}`);
    first = false;
    return r;
  };

  await sink.write(`{"schemaVersion":1,"baseTimeNanoseconds":${Math.round(base)},"displayTimeUnit":"ns",\n"inferscope":${JSON.stringify(metadataBlock(trace, opts))},\n"traceEvents":[\n`);

  // Lane names.
  const cpuPids = new Set<number>();
  for (const s of trace.spans) cpuPids.add(s.pid);
  for (const i of trace.instants) cpuPids.add(i.pid);
  if (trace.counters.length) cpuPids.add(pid);
  for (const [p, name] of trace.processNames) {
    await emit(`{"ph":"M","name":"process_name","pid":${p},"tid":0,"args":{"name":${q(name)}}}`);
    cpuPids.delete(p);
  }
  // GPU work with no process (a Kineto trace's) has a lane per device, as Kineto writes it.
  const deviceLanes = trace.gpu.length === 0 || trace.gpu.some((g) => g.pid === undefined);
  for (const d of deviceLanes ? trace.meta.devices : []) {
    if (!trace.processNames.has(d.index)) await emit(`{"ph":"M","name":"process_name","pid":${d.index},"tid":0,"args":{"name":${q(`GPU ${d.index}: ${d.name}`)}}}`);
  }
  const cpuTid = new Map<number, number>(); // tid → pid, for thread names
  for (const s of trace.spans) cpuTid.set(s.tid, s.pid);
  for (const i of trace.instants) cpuTid.set(i.tid, i.pid);
  for (const [tid, name] of trace.threadNames) {
    await emit(`{"ph":"M","name":"thread_name","pid":${cpuTid.get(tid) ?? pid},"tid":${tid},"args":{"name":${q(name)}}}`);
  }
  const streams = new Set<string>();
  for (const g of trace.gpu) {
    const [p, tid] = gpuLane(g);
    const key = `${p}:${tid}`;
    if (streams.has(key)) continue;
    streams.add(key);
    const name = g.pid === undefined ? `stream ${g.stream}` : `GPU ${g.device} stream ${g.stream}`;
    await emit(`{"ph":"M","name":"thread_name","pid":${p},"tid":${tid},"args":{"name":"${name}"}}`);
    // GPU lanes after the process's CPU threads in Perfetto
    if (g.pid !== undefined) await emit(`{"ph":"M","name":"thread_sort_index","pid":${p},"tid":${tid},"args":{"sort_index":${1_000_000 + g.device * 1000 + Math.min(g.stream, 999)}}}`);
  }

  for (const s of trace.spans) await emit(spanEvent(s, ts, q));
  for (const a of trace.api) {
    await emit(apiEvent(a, ts, q));
    if (a.correlation >= 0) await emit(`{"ph":"s","cat":"ac2g","name":"ac2g","id":${a.correlation},"pid":${a.pid},"tid":${a.tid},"ts":${ts(a.start)}}`);
  }
  const flowed = new Set<number>();
  for (const a of trace.api) if (a.correlation >= 0) flowed.add(a.correlation);
  for (const g of trace.gpu) {
    await emit(gpuEvent(g, ts, q));
    if (g.correlation !== undefined && flowed.has(g.correlation)) {
      const [p, tid] = gpuLane(g);
      await emit(`{"ph":"f","bp":"e","cat":"ac2g","name":"ac2g","id":${g.correlation},"pid":${p},"tid":${tid},"ts":${ts(g.start)}}`);
    }
  }
  for (const w of trace.syncs) await emit(syncEvent(w, ts));
  for (const i of trace.instants) await emit(instantEvent(i, ts, q));
  for (const c of trace.counters) await emit(counterEvent(c, pid, ts, q));
  await sink.write("\n]}\n");
  return n;
}

/** Each function's bytecode shape once (a forked child restates its parent's): [name, file, line, instructions, loop 0/1]. */
function codeShapesBlock(shapes: CodeShape[]): unknown[][] {
  const seen = new Set<string>();
  const out: unknown[][] = [];
  for (const c of shapes) {
    const key = `${c.name}\0${c.file}\0${c.line}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push([c.name, c.file, c.line, c.instructions, c.loop ? 1 : 0]);
  }
  return out;
}

/**
 * Short calls summed per function and 100 ms bucket (Trace.summaries), compactly:
 * functions [[kind, name, file, line]], rows [[pid, tid, function index, bucket start ns,
 * calls, self ns, total ns]] (absolute CLOCK_MONOTONIC ns, like baseTimeNanoseconds).
 */
function summariesBlock(trace: Trace): { functions: unknown[][]; rows: number[][] } {
  const index = new Map<string, number>();
  const functions: unknown[][] = [];
  const rows: number[][] = [];
  for (const s of trace.summaries) {
    const key = `${s.kind}\u0000${s.name}\u0000${s.file ?? ""}\u0000${s.line ?? ""}`;
    let i = index.get(key);
    if (i === undefined) {
      index.set(key, (i = functions.length));
      functions.push([s.kind, s.name, s.file ?? null, s.line ?? null]);
    }
    rows.push([s.pid, s.tid, i, s.start, s.calls, Math.round(s.selfNs), Math.round(s.totalNs)]);
  }
  return { functions, rows };
}

type Ts = (ns: number) => string;
const FILE_KEY = `${JSON.stringify(ARG.file)}:`;
const LINE_KEY = `${JSON.stringify(ARG.line)}:`;
type Q = (s: string) => string;

function spanEvent(s: CpuSpan, ts: Ts, q: Q): string {
  let args = "";
  if (s.cat === "python") {
    const parts: string[] = [];
    if (s.file !== undefined) parts.push(`${FILE_KEY}${q(s.file)}`);
    if (s.line !== undefined) parts.push(`${LINE_KEY}${s.line}`);
    if (s.hiddenNs) parts.push(`"hidden_ns":${Math.round(s.hiddenNs)}`); // short callees' time: out of its self time
    if (s.args) for (const [k, v] of Object.entries(s.args)) parts.push(`${JSON.stringify(k)}:${JSON.stringify(v) ?? "null"}`);
    args = parts.length ? `,"args":{${parts.join(",")}}` : "";
  } else {
    const a: Record<string, unknown> = { ...(s.args ?? {}) };
    if (s.externalId !== undefined) a["External id"] = s.externalId;
    if (s.moduleType !== undefined) a[ARG.moduleType] = s.moduleType;
    if (s.hiddenNs) a.hidden_ns = Math.round(s.hiddenNs);
    if (Object.keys(a).length) args = `,"args":${JSON.stringify(a)}`;
  }
  return `{"ph":"X","cat":"${s.cat}","name":${q(s.name)},"pid":${s.pid},"tid":${s.tid},"ts":${ts(s.start)},"dur":${nsToUs(s.end - s.start)}${args}}`;
}

function apiEvent(a: ApiCall, ts: Ts, q: Q): string {
  const args: Record<string, unknown> = { [ARG.correlation]: a.correlation, [ARG.apiKind]: a.kind };
  if (a.externalId !== undefined) args[ARG.externalId] = a.externalId;
  const cat = a.api === "driver" ? "cuda_driver" : "cuda_runtime";
  return `{"ph":"X","cat":"${cat}","name":${q(a.name)},"pid":${a.pid},"tid":${a.tid},"ts":${ts(a.start)},"dur":${nsToUs(a.end - a.start)},"args":${JSON.stringify(args)}}`;
}

function gpuEvent(g: GpuOp, ts: Ts, q: Q): string {
  const args: Record<string, unknown> = { [ARG.device]: g.device, [ARG.stream]: g.stream };
  if (g.correlation !== undefined) args[ARG.correlation] = g.correlation;
  if (g.externalId !== undefined) args[ARG.externalId] = g.externalId;
  let cat: string;
  if (g.kind === "kernel") {
    cat = "kernel";
    if (g.grid) args[ARG.grid] = g.grid;
    if (g.block) args[ARG.block] = g.block;
    if (g.registers !== undefined) args[ARG.registers] = g.registers;
    if (g.sharedMemory !== undefined) args[ARG.sharedMemory] = g.sharedMemory;
    if (g.graphId !== undefined) args[ARG.graphId] = g.graphId;
  } else if (g.kind === "memcpy") {
    cat = "gpu_memcpy";
    if (g.bytes !== undefined) args[ARG.bytes] = g.bytes;
    if (g.copyKind !== undefined) args[ARG.copyKind] = g.copyKind;
    if (g.srcMem !== undefined) args[ARG.srcKind] = MEM_ARG[g.srcMem];
    if (g.dstMem !== undefined) args[ARG.dstKind] = MEM_ARG[g.dstMem];
    if (g.async !== undefined) args[ARG.async] = g.async;
  } else {
    cat = "gpu_memset";
    if (g.bytes !== undefined) args[ARG.bytes] = g.bytes;
    if (g.dstMem !== undefined) args[ARG.dstKind] = MEM_ARG[g.dstMem];
  }
  launcherArgs(g.launcher, args);
  const [pid, tid] = gpuLane(g);
  return `{"ph":"X","cat":"${cat}","name":${q(g.name)},"pid":${pid},"tid":${tid},"ts":${ts(g.start)},"dur":${nsToUs(g.end - g.start)},"args":${JSON.stringify(args)}}`;
}

/** Where a GPU op is drawn: under its process (one lane per device and stream), else under its device. */
function gpuLane(g: GpuOp): [number, number] {
  return g.pid === undefined ? [g.device, g.stream] : [g.pid, gpuLaneTid(g.device, g.stream)];
}

function syncEvent(w: SyncWait, ts: Ts): string {
  const args: Record<string, unknown> = { [ARG.syncType]: w.type };
  if (w.stream !== undefined) args[ARG.stream] = w.stream;
  if (w.correlation !== undefined) args[ARG.correlation] = w.correlation;
  return `{"ph":"X","cat":"cuda_sync","name":"cuda sync (${w.type})","pid":${w.pid},"tid":${w.tid},"ts":${ts(w.start)},"dur":${nsToUs(w.end - w.start)},"args":${JSON.stringify(args)}}`;
}

function instantEvent(i: Instant, ts: Ts, q: Q): string {
  const args = i.args && Object.keys(i.args).length ? `,"args":${JSON.stringify(i.args)}` : "";
  return `{"ph":"i","s":"t","cat":"mark","name":${q(i.name)},"pid":${i.pid},"tid":${i.tid},"ts":${ts(i.ts)}${args}}`;
}

function counterEvent(c: CounterSample, pid: number, ts: Ts, q: Q): string {
  return `{"ph":"C","name":${q(c.track)},"pid":${pid},"ts":${ts(c.ts)},"args":${JSON.stringify(c.values)}}`;
}
