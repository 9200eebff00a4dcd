// Chrome-trace events → the event model. PyTorch-profiler (Kineto) traces and InferScope traces
// use the same categories and argument names where they overlap (docs/trace-format.md), so one
// converter handles the union; `kinetoTrace` / `inferscopeTrace` (inferscope-reader.ts) finish it
// with what is specific to each: the header block and the time origin.
//
// Kineto facts this relies on (checked on real traces recorded with torch 2.11 / CUPTI 13):
// - GPU work: ph "X", cat kernel | gpu_memcpy | gpu_memset, pid = device, tid = stream,
//   args.correlation = the correlation id of the CUDA runtime/driver call that issued it
//   (kernels of a CUDA graph all carry the cudaGraphLaunch's id), args["External id"] = the cpu_op.
// - Launch calls: cat cuda_runtime | cuda_driver on the CPU thread, args.correlation, args.cbid.
// - memcpy names carry the directions and memory kinds: "Memcpy HtoD (Pageable -> Device)".
// - ts / dur are µs with three decimals (ns resolution). Newer torch writes a top-level
//   baseTimeNanoseconds, but ts in those files are still on Kineto's own clock (they do not add up
//   to the wall clock), so Kineto times are kept as written, converted to integer ns.
import type {
  ApiCall,
  ApiKind,
  CopyKind,
  CounterSample,
  CpuSpan,
  GpuOp,
  Instant,
  Launcher,
  MemKind,
  SyncWait,
  Trace,
} from "./model.ts";
import { emptyTrace } from "./model.ts";
import { deviceFromRecord } from "./device-record.ts";
import { ARG, GPU_LANE_TID } from "./event-args.ts";
import { finishKinetoModules, instanceClass, kinetoModuleInstance, type OpStackFields } from "./kineto-modules.ts";
import { eventLabel, Ignored } from "./ignored.ts";
import { Window } from "./window.ts";
import { describeValue, MAX_DUR_US, MAX_TS_US, num, str, wholeNum } from "./values.ts";
import { cudaCallKind, cudaCallName } from "./cuda-calls.ts";
import type { EventFields } from "./json-tape.ts";

/** Top-level keys of the trace object other than traceEvents. */
export type TraceHeader = Record<string, unknown>;

/**
 * µs (as written in the file, three decimals) → integer ns, exactly. `Math.round(us * 1000)` is
 * off by one ns for about one timestamp in ten at Kineto's magnitudes (~4.5e12 µs) because the
 * product rounds; splitting off the integer part first is exact whenever the float still resolves
 * 1 ns (|us| < 2^43 µs, about 100 days of uptime).
 */
export function usToNs(us: number): number {
  const whole = Math.floor(us);
  return whole * 1000 + Math.round((us - whole) * 1000);
}

const MEM_KINDS: Record<string, MemKind> = {
  pageable: "pageable",
  pinned: "pinned",
  device: "device",
  managed: "managed",
  array: "array",
};

export function memKind(s: unknown): MemKind {
  if (typeof s !== "string") return "unknown";
  return MEM_KINDS[s.toLowerCase()] ?? "unknown";
}

const COPY_KINDS = new Set(["HtoD", "DtoH", "DtoD", "HtoH", "PtoP"]);

export function copyKind(s: unknown): CopyKind {
  if (typeof s !== "string") return "unknown";
  if (COPY_KINDS.has(s)) return s as CopyKind;
  const up = s.toUpperCase().replace(/[^A-Z]/g, "");
  for (const k of COPY_KINDS) if (k.toUpperCase() === up) return k as CopyKind;
  return "unknown";
}

const MEMCPY_NAME = /^Memcpy\s+(\w+)\s*\(\s*(\w+)\s*->\s*(\w+)\s*\)/;
const MEMSET_NAME = /^Memset\s*\(\s*(\w+)\s*\)/;

/** Kineto memcpy name → direction and memory kinds: "Memcpy HtoD (Pageable -> Device)". */
export function parseMemcpyName(name: string): { copyKind: CopyKind; srcMem: MemKind; dstMem: MemKind } {
  const m = MEMCPY_NAME.exec(name);
  if (!m) return { copyKind: "unknown", srcMem: "unknown", dstMem: "unknown" };
  return { copyKind: copyKind(m[1]), srcMem: memKind(m[2]), dstMem: memKind(m[3]) };
}

const API_KINDS = new Set<ApiKind>(["launch", "memcpy", "memset", "sync", "alloc", "free", "graph_launch", "other"]);

const SYNC_TYPES: Record<string, SyncWait["type"]> = {
  device: "device",
  stream: "stream",
  event: "event",
  stream_wait_event: "stream_wait_event",
  context: "context",
  // Kineto's names for CUPTI synchronization records
  "device sync": "device",
  "stream sync": "stream",
  "event sync": "event",
  "context sync": "context",
  "stream wait event": "stream_wait_event",
};

/** Kineto python_function names: "path/file.py(41): tokenize". */
const PY_FUNCTION_NAME = /^(.*)\((\d+)\): (.+)$/;

/** Categories of complete events that become part of the model. */
const CONTENT_CATS = new Set(["kernel", "gpu_memcpy", "gpu_memset", "cuda_runtime", "cuda_driver", "cpu_op", "user_annotation", "python_function", "python", "scope", "module", "wait", "other", "cuda_sync"]);

/**
 * What the native reader (json-tape.ts) hands over field by field, into one reused object: the
 * categories whose events this converter reads without keeping the event or its args (scope and
 * other spans keep their args), the argument keys it reads, and the one whose presence makes a
 * cpu_op keep its args.
 */
export const EVENT_FIELDS: EventFields = {
  cats: [...CONTENT_CATS].filter((c) => c !== "scope" && c !== "other"),
  args: [...Object.values(ARG), "hidden_ns"],
  whole: [ARG.inputDims],
};

/** Categories that are known and deliberately not part of the model. */
const IGNORED_CATS = new Set([
  "ac2g",
  "fwdbwd",
  "Trace",
  "overhead",
  "gpu_user_annotation",
  "cuda_profiler_range",
  "python_function_parent",
]);

/**
 * Grid and block dimensions, interned: the same few triples recur across millions of kernels,
 * so equal ones are one shared (read-only) array.
 */
class Triples {
  private readonly m = new Map<number, Map<number, Map<number, [number, number, number]>>>();
  get(v: unknown): [number, number, number] | undefined {
    if (!Array.isArray(v) || v.length !== 3) return undefined;
    const [x, y, z] = v as unknown[];
    if (typeof x !== "number" || typeof y !== "number" || typeof z !== "number") return undefined;
    let a = this.m.get(x);
    if (!a) this.m.set(x, (a = new Map()));
    let b = a.get(y);
    if (!b) a.set(y, (b = new Map()));
    let t = b.get(z);
    if (!t) b.set(z, (t = [x, y, z]));
    return t;
  }
}

const EMPTY: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

/**
 * Feeds on raw Chrome-trace events one at a time (so a streaming reader can drop each batch of
 * parsed JSON as soon as it is converted) and builds the model's arrays.
 */
export class EventConverter {
  readonly trace: Trace = emptyTrace("kineto");
  /** With a maxEvents: the time window kept (src/trace/window.ts). */
  private readonly window: Window | null;

  constructor(opts: { maxEvents?: number } = {}) {
    this.window = opts.maxEvents ? new Window(opts.maxEvents, this.trace) : null;
  }

  /** Number of entries seen in traceEvents, whatever their kind. */
  eventCount = 0;
  /** Events that carry something (X, i, C), as opposed to metadata and flows. */
  contentCount = 0;
  private readonly names = new Map<string, string>();
  private readonly memcpyNames = new Map<string, ReturnType<typeof parseMemcpyName>>();
  /** raw call name → its normalised name and kind (src/trace/cuda-calls.ts) */
  private readonly apiNames = new Map<string, { name: string; kind: ApiKind }>();
  private readonly skipped = new Map<string, number>();
  private readonly triples = new Triples();
  /** Events that could not be used, by reason. */
  private readonly malformed = new Ignored();
  /** Ids (correlation, External id, graph id) that are not whole numbers: the event is kept without them. */
  private readonly badIds = new Ignored();
  /** Kineto eager-mode module spans (`nn.Module: Linear_3`), named by instance until finished. */
  readonly kinetoModules: CpuSpan[] = [];
  /** cpu_ops with `Module Hierarchy` / `Call stack` (TorchScript), turned into spans when finished. */
  readonly opStacks: OpStackFields[] = [];

  private intern(s: string): string {
    const hit = this.names.get(s);
    if (hit !== undefined) return hit;
    this.names.set(s, s);
    return s;
  }

  private skip(what: string): void {
    this.skipped.set(what, (this.skipped.get(what) ?? 0) + 1);
  }

  addAll(events: unknown[]): void {
    for (let i = 0; i < events.length; i++) this.add(events[i]);
  }

  add(raw: unknown): void {
    this.eventCount++;
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
      this.malformed.note("entries that are not objects", () => describeValue(raw));
      return;
    }
    const e = raw as Record<string, unknown>;
    switch (e.ph) {
      case "X":
        this.complete(e);
        return;
      case "s":
      case "f":
      case "t":
        return; // flows: GPU ops are joined to their launch by correlation id instead
      case "M":
        this.metadata(e);
        return;
      case "i":
      case "I":
        this.instant(e);
        return;
      case "C":
        this.counter(e);
        return;
      default:
        this.skip(e.ph === undefined ? "events without ph" : `ph ${describeValue(e.ph)}`);
    }
  }

  /** An id argument: a whole number ≥ 0, else absent (counted, with the event named). */
  private id(args: Record<string, unknown>, key: string, e: Record<string, unknown>): number | undefined {
    const v = args[key];
    if (v === undefined) return undefined;
    const n = wholeNum(v);
    if (n === undefined) this.badIds.note(`${key} not a whole number`, () => `${describeValue(v)} on ${eventLabel(e)}`);
    return n;
  }

  // The last event's times and lane (times(), lane()): fields, not a pair per event (a million
  // short-lived arrays showed in profiles of big traces).
  private start = 0;
  private end = 0;
  private pid = 0;
  private tid = 0;

  /** ts and dur (µs) → this.start, this.end (ns); false (counted) when they are not usable times. */
  private times(e: Record<string, unknown>): boolean {
    const ts = e.ts;
    if (typeof ts !== "number") {
      this.malformed.note(ts === undefined ? "events without ts" : "events whose ts is not a number", () => eventLabel(e));
      return false;
    }
    const d = e.dur;
    if (Math.abs(ts) > MAX_TS_US || (typeof d === "number" && d > MAX_DUR_US)) {
      this.malformed.note("events with an impossible time", () => `${eventLabel(e)}: ${Math.abs(ts) > MAX_TS_US ? `ts ${ts}` : `dur ${d}`} µs`);
      return false;
    }
    const start = usToNs(ts);
    this.start = start;
    this.end = typeof d === "number" && d > 0 ? start + usToNs(d) : start;
    return true;
  }

  /** pid and tid of a CPU-side event → this.pid, this.tid; false (counted) when either is not a number. */
  private lane(e: Record<string, unknown>): boolean {
    const pid = num(e.pid);
    const tid = num(e.tid);
    if (pid === undefined || tid === undefined) {
      this.malformed.note("events without a numeric pid and tid", () => eventLabel(e));
      return false;
    }
    this.pid = pid;
    this.tid = tid;
    return true;
  }

  private complete(e: Record<string, unknown>): void {
    const cat = e.cat;
    if (typeof cat !== "string") {
      this.skip(cat === undefined ? "X events without cat" : `cat ${describeValue(cat)}`);
      return;
    }
    if (!CONTENT_CATS.has(cat)) {
      if (!IGNORED_CATS.has(cat)) this.skip(`cat ${describeValue(cat)}`);
      return;
    }
    if (!this.times(e)) return;
    this.contentCount++;
    const { start, end } = this;
    if (this.window && !this.window.admit(start)) return;
    const name = typeof e.name === "string" ? e.name : "";
    const args = e.args !== null && typeof e.args === "object" && !Array.isArray(e.args) ? (e.args as Record<string, unknown>) : EMPTY;
    switch (cat) {
      case "kernel":
      case "gpu_memcpy":
      case "gpu_memset":
        this.gpuOp(cat, name, start, end, e, args);
        return;
      case "cuda_runtime":
      case "cuda_driver":
        this.apiCall(cat, name, start, end, e, args);
        return;
      case "cuda_sync":
        this.sync(name, start, end, e, args);
        return;
      default:
        this.span(cat as "cpu_op" | "user_annotation" | "python_function" | "python" | "scope" | "module" | "other", name, start, end, e, args);
    }
  }

  private gpuOp(
    cat: "kernel" | "gpu_memcpy" | "gpu_memset",
    name: string,
    start: number,
    end: number,
    e: Record<string, unknown>,
    args: Record<string, unknown>,
  ): void {
    const kind = cat === "kernel" ? "kernel" : cat === "gpu_memcpy" ? "memcpy" : "memset";
    const op: GpuOp = {
      kind,
      name: this.intern(name),
      start,
      end,
      device: wholeNum(args[ARG.device]) ?? wholeNum(e.pid) ?? 0,
      stream: wholeNum(args[ARG.stream]) ?? wholeNum(e.tid) ?? 0,
    };
    const corr = this.id(args, ARG.correlation, e);
    if (corr !== undefined) op.correlation = corr;
    const ext = this.id(args, ARG.externalId, e);
    if (ext !== undefined) op.externalId = ext;
    // An InferScope trace's GPU lane under the process that ran it (event-args.ts)
    const lanePid = wholeNum(e.pid);
    if (lanePid !== undefined && (wholeNum(e.tid) ?? 0) >= GPU_LANE_TID) op.pid = lanePid;
    const bytes = wholeNum(args[ARG.bytes]);
    if (bytes !== undefined) op.bytes = bytes;
    if (kind === "kernel") {
      const grid = this.triples.get(args[ARG.grid]);
      if (grid) op.grid = grid;
      const block = this.triples.get(args[ARG.block]);
      if (block) op.block = block;
      const regs = wholeNum(args[ARG.registers]);
      if (regs !== undefined) op.registers = regs;
      const smem = wholeNum(args[ARG.sharedMemory]);
      if (smem !== undefined) op.sharedMemory = smem;
      const graph = this.id(args, ARG.graphId, e);
      if (graph !== undefined) op.graphId = graph;
    } else if (kind === "memcpy") {
      let parsed = this.memcpyNames.get(op.name);
      if (!parsed) {
        parsed = parseMemcpyName(op.name);
        this.memcpyNames.set(op.name, parsed);
      }
      op.copyKind = args[ARG.copyKind] !== undefined ? copyKind(args[ARG.copyKind]) : parsed.copyKind;
      op.srcMem = args[ARG.srcKind] !== undefined ? memKind(args[ARG.srcKind]) : parsed.srcMem;
      op.dstMem = args[ARG.dstKind] !== undefined ? memKind(args[ARG.dstKind]) : parsed.dstMem;
      const async = args[ARG.async];
      if (typeof async === "boolean") op.async = async;
    } else {
      const m = MEMSET_NAME.exec(op.name);
      op.dstMem = args[ARG.dstKind] !== undefined ? memKind(args[ARG.dstKind]) : memKind(m?.[1]);
    }
    const launcher = launcherFromArgs(args);
    if (launcher) op.launcher = launcher;
    this.trace.gpu.push(op);
    this.window?.added();
  }

  private apiCall(
    cat: "cuda_runtime" | "cuda_driver",
    name: string,
    start: number,
    end: number,
    e: Record<string, unknown>,
    args: Record<string, unknown>,
  ): void {
    if (!this.lane(e)) return;
    const { pid, tid } = this;
    let known = this.apiNames.get(name);
    if (known === undefined) {
      known = { name: this.intern(cudaCallName(name)), kind: cudaCallKind(name) };
      this.apiNames.set(name, known);
    }
    name = known.name;
    let kind = args[ARG.apiKind] as ApiKind;
    if (typeof kind !== "string" || !API_KINDS.has(kind)) kind = known.kind;
    const call: ApiCall = {
      api: cat === "cuda_driver" ? "driver" : "runtime",
      kind,
      name,
      start,
      end,
      pid,
      tid,
      correlation: this.id(args, ARG.correlation, e) ?? -1,
    };
    const ext = this.id(args, ARG.externalId, e);
    if (ext !== undefined) call.externalId = ext;
    this.trace.api.push(call);
    this.window?.added();
  }

  private span(
    cat: "cpu_op" | "user_annotation" | "python_function" | "python" | "scope" | "module" | "wait" | "other",
    name: string,
    start: number,
    end: number,
    e: Record<string, unknown>,
    args: Record<string, unknown>,
  ): void {
    if (!this.lane(e)) return;
    const { pid, tid } = this;
    let span: CpuSpan;
    const instance = cat === "python_function" ? kinetoModuleInstance(name) : null;
    if (instance !== null) {
      span = { cat: "module", name: instance, moduleType: this.intern(instanceClass(instance)), start, end, pid, tid };
      this.kinetoModules.push(span);
    } else if (cat === "module") {
      span = { cat: "module", name: this.intern(name), start, end, pid, tid };
      const type = str(args[ARG.moduleType]);
      if (type !== undefined) span.moduleType = this.intern(type);
    } else if (cat === "python_function") {
      const m = PY_FUNCTION_NAME.exec(name);
      span = m
        ? { cat: "python", name: this.intern(m[3]!), start, end, pid, tid, file: this.intern(m[1]!), line: Number(m[2]) }
        : { cat: "python", name: this.intern(name), start, end, pid, tid };
    } else if (cat === "python") {
      span = { cat: "python", name: this.intern(name), start, end, pid, tid };
      const file = str(args[ARG.file]);
      if (file !== undefined) span.file = this.intern(file);
      const line = wholeNum(args[ARG.line]);
      if (line !== undefined) span.line = line;
    } else {
      span = { cat, name: this.intern(name), start, end, pid, tid };
      if (cat === "scope" || cat === "other") {
        if (args !== EMPTY && Object.keys(args).length > 0) span.args = args;
      } else if (cat === "cpu_op" && args[ARG.inputDims] !== undefined) {
        // the shapes a GEMM's work is computed from (analyze/gemm.ts)
        span.args = { [ARG.inputDims]: args[ARG.inputDims], [ARG.inputType]: args[ARG.inputType] };
      }
    }
    const ext = this.id(args, ARG.externalId, e);
    if (ext !== undefined) span.externalId = ext;
    if (cat === "cpu_op") {
      const hierarchy = str(args[ARG.moduleHierarchy]);
      const callStack = str(args[ARG.callStack]);
      if (hierarchy !== undefined || callStack !== undefined) {
        const f: OpStackFields = { span };
        if (hierarchy) f.hierarchy = this.intern(hierarchy);
        if (callStack) f.callStack = this.intern(callStack);
        this.opStacks.push(f);
      }
    }
    const hidden = num(args.hidden_ns);
    if (hidden !== undefined && hidden > 0 && (span.cat === "python" || span.cat === "cpu_op")) span.hiddenNs = hidden;
    this.trace.spans.push(span);
    this.window?.added();
  }

  private sync(name: string, start: number, end: number, e: Record<string, unknown>, args: Record<string, unknown>): void {
    const t = str(args[ARG.syncType]) ?? name;
    const w: SyncWait = {
      type: SYNC_TYPES[t.toLowerCase()] ?? "unknown",
      start,
      end,
      pid: num(e.pid) ?? -1,
      tid: num(e.tid) ?? -1,
    };
    const stream = wholeNum(args[ARG.stream]);
    if (stream !== undefined) w.stream = stream;
    const corr = this.id(args, ARG.correlation, e);
    if (corr !== undefined) w.correlation = corr;
    this.trace.syncs.push(w);
    this.window?.added();
  }

  private metadata(e: Record<string, unknown>): void {
    const args = e.args as Record<string, unknown> | undefined;
    const value = args && typeof args.name === "string" ? args.name : undefined;
    if (value === undefined) return;
    if (e.name === "process_name") {
      const pid = num(e.pid);
      if (pid !== undefined) this.trace.processNames.set(pid, value);
    } else if (e.name === "thread_name") {
      const tid = num(e.tid);
      if (tid !== undefined) this.trace.threadNames.set(tid, value);
    }
  }

  private instant(e: Record<string, unknown>): void {
    const pid = num(e.pid);
    const tid = num(e.tid);
    const ts = num(e.ts);
    // Kineto's global instants ("Iteration Start", "Record Window End") sit on string lanes.
    if (pid === undefined || tid === undefined || ts === undefined) return;
    if (Math.abs(ts) > MAX_TS_US) {
      this.malformed.note("events with an impossible time", () => `${eventLabel(e)}: ts ${ts} µs`);
      return;
    }
    this.contentCount++;
    if (this.window && !this.window.admit(usToNs(ts))) return;
    const inst: Instant = { name: typeof e.name === "string" ? e.name : "", ts: usToNs(ts), pid, tid };
    if (e.args !== null && typeof e.args === "object" && !Array.isArray(e.args)) inst.args = e.args as Record<string, unknown>;
    this.trace.instants.push(inst);
    this.window?.added();
  }

  private counter(e: Record<string, unknown>): void {
    if (typeof e.name !== "string") {
      this.malformed.note("counter events without a name", () => eventLabel(e));
      return;
    }
    if (!this.times(e)) return;
    this.contentCount++;
    if (this.window && !this.window.admit(this.start)) return;
    const values: Record<string, number> = {};
    const args = e.args as Record<string, unknown> | undefined;
    if (args && typeof args === "object") {
      for (const k in args) {
        const v = args[k];
        if (typeof v === "number" && Number.isFinite(v)) values[k] = v;
      }
    }
    const sample: CounterSample = { track: e.name, ts: this.start, values };
    this.trace.counters.push(sample);
    this.window?.added();
  }

  /** What was ignored, in a few words ("1 X events without cat"), or null. */
  ignoredSummary(): string | null {
    const parts = [...this.skipped].map(([k, n]) => `${n} ${k.startsWith("ph ") || k.startsWith("cat ") ? `events with ${k}` : k}`);
    const malformed = this.malformed.summary("malformed events");
    if (malformed) parts.push(malformed.replace(/^ignored /, ""));
    return parts.length ? parts.join("; ") : null;
  }

  /** Warnings about what was not understood; call once, at the end. */
  finishWarnings(): void {
    const malformed = this.malformed.summary("malformed events");
    if (malformed) this.trace.warnings.push(malformed);
    const ids = this.badIds.summary("ids that are not whole numbers ≥ 0 (the events are kept without them)");
    if (ids) this.trace.warnings.push(ids);
    const cut = this.window?.warning("this trace");
    if (cut) this.trace.warnings.push(cut);
    if (this.skipped.size > 0) {
      const list = [...this.skipped].map(([k, n]) => `${k} ×${n}`).join(", ");
      this.trace.warnings.push(`ignored events of unknown kinds: ${list}`);
    }
  }
}

/** The launcher an InferScope writer stored in a GPU op's args, if any. */
function launcherFromArgs(args: Record<string, unknown>): Launcher | undefined {
  const tid = num(args[ARG.launchTid]);
  if (tid === undefined) return undefined;
  const l: Launcher = { tid };
  const api = str(args[ARG.launchApi]);
  if (api !== undefined) l.api = api;
  const fn = str(args[ARG.launchFunction]);
  if (fn !== undefined) l.function = fn;
  const file = str(args[ARG.launchFile]);
  if (file !== undefined) l.file = file;
  const line = num(args[ARG.launchLine]);
  if (line !== undefined) l.line = line;
  const scope = str(args[ARG.launchScope]);
  if (scope !== undefined) l.scope = scope;
  return l;
}

function versionOf(v: unknown): string | undefined {
  // Kineto writes CUDA versions as 13000 → "13.0"
  if (typeof v === "number" && v > 1000) return `${Math.floor(v / 1000)}.${Math.floor((v % 1000) / 10)}`;
  if (typeof v === "string") return v;
  return undefined;
}

/** Finish a Kineto (or generic Chrome) trace: header → meta. */
export function kinetoTrace(conv: EventConverter, header: TraceHeader): Trace {
  conv.finishWarnings();
  const trace = conv.trace;
  finishKinetoModules(trace, conv.kinetoModules, conv.opStacks);
  trace.format = "kineto";
  const meta = trace.meta;
  meta.producer = "torch.profiler (Kineto)";
  meta.clock = "kineto";
  // Kept apart from meta.baseTimeNs: Kineto's ts are not relative to it (see the file comment).
  const base = num(header.baseTimeNanoseconds);
  if (base !== undefined) meta.kinetoBaseTimeNanoseconds = base;
  const cuda = versionOf(header.cuda_runtime_version);
  if (cuda) meta.cudaVersion = cuda;
  if (header.cupti_version !== undefined) meta.cuptiVersion = header.cupti_version;
  if (header.cuda_driver_version !== undefined) meta.cudaDriverVersion = versionOf(header.cuda_driver_version);
  const props = header.deviceProperties;
  if (Array.isArray(props)) {
    for (const p of props) {
      if (p === null || typeof p !== "object") continue;
      meta.devices.push(deviceFromRecord(p as Record<string, unknown>, meta.devices.length, "kineto"));
    }
  }
  meta.eventCount = conv.eventCount;
  return trace;
}
