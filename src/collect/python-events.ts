// Reads what the Python tracer (src/tracer/inferscope/_tracer.py) wrote for one process,
// `python-<pid>.isc`, and the torch ops of the same process (`ops-<pid>.isc`, ffi/itt.c), and
// rebuilds the CPU spans (Python calls, torch ops, waits in blocking builtins, scopes) and
// instants (marks) of the event model. The format is described at the top of _tracer.py.
//
// Per thread, Python events and ops are merged by time (ops run inside the Python call that
// issued them) and replayed on a stack. Short calls (a Python call or an op shorter than
// minDurationNs with no span kept inside it) are not kept as spans: they are summed per
// function and 100 ms bucket in `summaries`, and their time is added to the enclosing span's
// hiddenNs, so hot functions (calls, self, total) stay exact while the trace stays small.
//
// A recording may be gigabytes: the file is read a chunk at a time, and with maxEvents only the
// events that start before a cutoff time are kept (src/trace/window.ts), so memory stays bounded.
import { type CallSummary, type CodeShape, type CpuSpan, type Instant, SUMMARY_BUCKET_NS } from "../trace/model.ts";
import { cutoffFor } from "../trace/window.ts";
import { ARG } from "../trace/event-args.ts";
import { grown } from "../core/typed-arrays.ts";
import { chunkSide, chunkWords, type IscFile, KIND_BITS, readIscFile, type Source, tsAt, withFileSource } from "./isc-file.ts";

const K_PY_START = 0;
const K_PY_END = 1;
const K_SCOPE_BEGIN = 2;
const K_SCOPE_END = 3;
const K_MARK = 4;
const K_ATTRS = 5;
const K_WAIT_BEGIN = 6;
const K_WAIT_END = 7;
/** Between an op's name and its input shapes in the ops file's names (--op-shapes). */
const SHAPES_SEP = "\u0001";
// ops-<pid>.isc words: name id << 3 | 0 (begin) or 1 (end); merged in as these kinds
const K_OP_BEGIN = 8;
const K_OP_END = 9;

/** The tracer's end record (written at exit; absent when the process died first). */
export interface PythonMeta {
  pid: number;
  python: string;
  implementation?: string;
  executable?: string;
  /** "sys.monitoring" or "setprofile", "+c" when the C hot path (ffi/pytrace.c) recorded; "none". */
  backend: string;
  toolId?: number | null;
  calls: "all" | "user" | "none";
  buffer: { policy: "spill" | "wrap"; sizeMb: number; chunkWords: number };
  /** Events (call starts, scope begins, marks, waits) lost to the wrap policy: exact. */
  dropped: number;
  droppedChunks: number;
  /** The waits among `dropped` (absent from tracers before it was counted). */
  droppedWaits?: number;
  spilledChunks: number;
  tStart: number;
  tEnd: number;
  /** "exit", "SIGTERM", "os._exit(3)", or "exec" (then `exec` names the call). */
  reason: string;
  exec?: string;
  clock: string;
  threads: { tid: number; name: string | null }[];
  warnings: string[];
  torch?: string;
  cuda?: string;
  /** Whether blocking builtins were recorded as waits (the C hot path). */
  waits?: boolean;
  /** Who the process is (see _process_info in _tracer.py). */
  process?: { ppid: number; root: boolean; forked: boolean; argv: string[]; cpus?: number; mpName?: string; dataloaderWorker?: number };
  torchThreads?: number;
  torchInteropThreads?: number;
  /** Op records written by the torch-op collector (begin and end count one each). */
  torchOps?: number;
  /** Calls of outermost nn.Modules (forward passes), and those made with autograd on (_modules.py). */
  forwards?: { calls: number; withGrad: number };
  /** Capture windows (_window.py), when anything chose one: [start ns, end ns, opened by, closed by]. */
  capture?: PythonCapture;
}

export interface PythonCapture {
  windows: [number, number | null, string, string | null][];
  delay: number;
  duration: number;
  mode: "auto" | "manual";
  signals: boolean;
}

export interface PythonRecording {
  spans: CpuSpan[];
  instants: Instant[];
  threadNames: Map<number, string>;
  meta: PythonMeta | null;
  /** Events read (call starts, scope begins, marks, op begins). */
  events: number;
  /** torch ops read. */
  ops: number;
  /** Calls summed instead of kept as spans (see the header). */
  filtered: number;
  summaries: CallSummary[];
  /** Ends whose start was not recorded (calls already running when tracing began, or lost). */
  unmatched: number;
  /** Spans still open at the end, closed at the last timestamp. */
  unfinished: number;
  /** Spans still open when a capture window closed, ended there (`args.window_end`). */
  windowCut: number;
  /** Bytes at the end that did not form a whole record (the process died mid-write). */
  truncatedBytes: number;
  /** With maxEvents: the events left out (the recording's later part), those kept, and the window kept (ns). */
  window?: { skipped: number; kept: number; ns: number };
  warnings: string[];
  /** The bytecode shape of each recorded function (from the tracer's code table). */
  codeShapes: CodeShape[];
}

export interface ReadPythonOptions {
  pid: number;
  /** Summarize Python calls and ops shorter than this with nothing kept inside (0: keep all). */
  minDurationNs?: number;
  /** false: every op is kept (a GPU run: kernels are attributed to the op that launched them). */
  summarizeOps?: boolean;
  /** The process's ops-<pid>.isc, if any. */
  ops?: Uint8Array | Source | null;
  /** Keep at most about this many events (Python and op records): the earliest (src/trace/window.ts). */
  maxEvents?: number;
  /** Called after each chunk with the bytes of records read so far, the files' size, and the events seen. */
  onProgress?: (done: number, total: number, events: number) => void;
}

interface Open {
  kind: number; // K_PY_START, K_OP_BEGIN or K_WAIT_BEGIN
  id: number;
  start: number;
  hidden: number;
  kept: boolean;
}

interface OpenScope {
  id: number;
  start: number;
  attrs?: Record<string, unknown>;
}

interface Code {
  name: string;
  file: string;
  line: number;
}

const NAME_IDS = 2097152; // 2^21: scope words hold token << 21 | name id

/** Events of one thread from both files, in time order. */
interface ThreadEvents {
  kind: Uint8Array;
  id: Float64Array;
  ts: Float64Array;
  attr: Int32Array; // index into attrs, -1 none
  n: number;
}

/** Reads the tracer's record file (and opsPath, if given) without holding it in memory. */
export function readPythonFile(path: string, opts: ReadPythonOptions & { opsPath?: string | null }): PythonRecording {
  return withFileSource(path, (src) => (opts.opsPath ? withFileSource(opts.opsPath, (ops) => readRecords(src, { ...opts, ops })) : readRecords(src, opts)));
}

export function readPythonEvents(bytes: Uint8Array, opts: ReadPythonOptions): PythonRecording {
  return readRecords(bytes, opts);
}

function readRecords(input: Uint8Array | Source, opts: ReadPythonOptions): PythonRecording {
  const out: PythonRecording = {
    spans: [],
    instants: [],
    threadNames: new Map(),
    meta: null,
    events: 0,
    ops: 0,
    filtered: 0,
    summaries: [],
    unmatched: 0,
    unfinished: 0,
    windowCut: 0,
    truncatedBytes: 0,
    warnings: [],
    codeShapes: [],
  };
  const py = readIscFile(input);
  if (py.badHeaderAt >= 0) out.warnings.push(`python events: bad record header at byte ${py.badHeaderAt}; the rest of the file was ignored`);
  out.truncatedBytes = py.cutOff;
  out.meta = py.end as PythonMeta | null;
  const codes = new Map<number, Code>();
  const names = new Map<number, string>();
  for (const t of py.tables) {
    for (const [id, name, file, line, instructions, loop] of (t.codes as [number, string, string, number, number?, number?][] | undefined) ?? []) {
      codes.set(id, { name, file, line });
      if (typeof instructions === "number" && (loop === 0 || loop === 1)) out.codeShapes.push({ name, file, line, instructions, loop: loop === 1 });
    }
    for (const [id, name] of (t.names as [number, string][] | undefined) ?? []) names.set(id, name);
  }
  const opsInput = opts.ops ?? null;
  const opsFile = opsInput && (opsInput instanceof Uint8Array ? opsInput.length : opsInput.size) ? readIscFile(opsInput) : null;
  const opNames = new Map<number, string>();
  const opDims = new Map<number, string>();
  if (opsFile) {
    for (const t of opsFile.tables) {
      for (const [id, name] of (t.ops as [number, string][] | undefined) ?? []) {
        // op shapes (--op-shapes): "aten::addmm\x01[[4, 16], [16, 32], []]" (src/tracer/inferscope/_torch_ops.py)
        const sep = name.indexOf(SHAPES_SEP);
        opNames.set(id, sep < 0 ? name : name.slice(0, sep));
        if (sep >= 0) opDims.set(id, name.slice(sep + 1));
      }
    }
    if (!opsFile.end) out.warnings.push("torch ops: the collector's final record is missing (the process was killed): ops after its last written chunk are lost");
  }

  const attrs: Record<string, unknown>[] = [];
  // Bounded memory: a recording of more events than maxEvents keeps its earliest ones.
  const cutoff = opts.maxEvents ? startCutoff([py, opsFile], opts.maxEvents) : Infinity;
  const read = { out, cutoff, skipped: 0, firstStart: Infinity, done: 0, total: py.src.size + (opsFile?.src.size ?? 0), onProgress: opts.onProgress };
  read.done = read.total - chunkBytes(py) - (opsFile ? chunkBytes(opsFile) : 0); // headers and tables: read in the first pass
  const threads = collectThreads(py, opsFile, attrs, read);
  const pid = out.meta?.pid ?? opts.pid;
  const ctx: Ctx = { out, codes, names, opNames, opDims, dimsParsed: new Map(), attrs, pid, minDur: opts.minDurationNs ?? 0, summarizeOps: opts.summarizeOps !== false };
  let lastTs = out.meta?.tEnd ?? 0;
  for (const ev of threads.values()) if (ev.n > 0 && ev.ts[ev.n - 1]! > lastTs) lastTs = ev.ts[ev.n - 1]!;
  for (const [tid, ev] of threads) replayThread(ctx, tid, ev, lastTs);

  for (const t of out.meta?.threads ?? []) if (t.name) out.threadNames.set(t.tid, t.name);
  for (const tid of threads.keys()) if (!out.threadNames.has(tid)) out.threadNames.set(tid, `thread ${tid}`);
  if (read.skipped > 0) out.window = { skipped: read.skipped, kept: out.events + out.ops - read.skipped, ns: cutoff - read.firstStart };
  const cut = py.cutOff > 0 && py.badHeaderAt < 0 ? ` (the file ends inside a record: ${py.cutOff} bytes cut off)` : "";
  if (!out.meta) {
    out.warnings.push(`the Python tracer's final record is missing (the process was killed, or crashed): the Python events after its last periodic flush (at most about a second) are lost${cut}`);
  } else if (out.meta.reason === "exec") {
    const secs = ((out.meta.tEnd - out.meta.tStart) / 1e9).toFixed(3);
    out.warnings.push(`the script replaced itself with another program (${out.meta.exec ?? "os.exec*"}) ${secs} s after the tracer started: what ran after the exec was not profiled`);
  } else if (cut) out.warnings.push(`python events: the file ends inside a record after the final one (${py.cutOff} bytes cut off); the events in it are lost`);
  return out;
}

const chunkBytes = (f: IscFile) => f.chunks.reduce((n, c) => n + c.words * 8 + c.sideLen, 0);

/** Begin records: each starts one event (a call, an op, a wait, a scope) or is one (a mark). */
const isStart = (k: number, isOps: boolean) => (isOps ? k === 0 : k === K_PY_START || k === K_SCOPE_BEGIN || k === K_MARK || k === K_WAIT_BEGIN);

/**
 * Only for a recording bigger than the budget: reads every chunk once for the start times of its
 * events and returns the time before which about `maxEvents` of them start.
 */
function startCutoff(files: (IscFile | null)[], maxEvents: number): number {
  let pairs = 0;
  for (const f of files) for (const c of f?.chunks ?? []) pairs += c.words / 2;
  if (pairs <= maxEvents) return Infinity; // an event takes one or two pairs
  const starts = (visit: (t: number) => void) => {
    files.forEach((f, i) => {
      for (const c of f?.chunks ?? []) {
        const dv = chunkWords(f!, c);
        for (let o = 0; o + 16 <= c.words * 8; o += 16) if (isStart(dv.getUint32(o, true) & ((1 << KIND_BITS) - 1), i === 1)) visit(tsAt(dv, o));
      }
    });
  };
  let n = 0;
  starts(() => n++);
  return cutoffFor(starts, n, maxEvents);
}

interface ReadState {
  out: PythonRecording;
  /** Events that start at or after this time are left out (Infinity: none). */
  cutoff: number;
  skipped: number;
  firstStart: number;
  done: number;
  total: number;
  onProgress?: (done: number, total: number, events: number) => void;
}

/** Both files' chunks → per-thread event arrays, merged by time; counts the events read. */
function collectThreads(py: IscFile, ops: IscFile | null, attrs: Record<string, unknown>[], rs: ReadState): Map<number, ThreadEvents> {
  const { out, cutoff } = rs;
  const counts = new Map<number, number>();
  const count = (f: IscFile) => {
    for (const c of f.chunks) counts.set(c.tid, (counts.get(c.tid) ?? 0) + (c.words >> 1));
  };
  count(py);
  if (ops) count(ops);
  const byTid = new Map<number, ThreadEvents>();
  // Without a cutoff every pair is an event (attributes aside); with one, the arrays grow as needed.
  const capped = Number.isFinite(cutoff);
  for (const [tid, total] of counts) {
    const n = capped ? Math.min(total, 4096) : total;
    byTid.set(tid, { kind: new Uint8Array(n), id: new Float64Array(n), ts: new Float64Array(n), attr: new Int32Array(n), n: 0 });
  }
  const opStart = new Map<number, number>(); // where each thread's ops begin in its arrays
  const fill = (f: IscFile, isOps: boolean) => {
    // Per thread, what was left out and is still open: its end is left out too (ends carry no
    // start time). Calls, ops and waits nest within a file; scopes are matched by id.
    const skippedOpen = new Map<number, { kind: number[]; id: number[] }>();
    const skippedScopes = new Map<number, Map<number, number>>();
    for (const c of f.chunks) {
      const ev = byTid.get(c.tid)!;
      if (isOps && !opStart.has(c.tid)) opStart.set(c.tid, ev.n);
      let skipStack = skippedOpen.get(c.tid);
      if (!skipStack) skippedOpen.set(c.tid, (skipStack = { kind: [], id: [] }));
      let skipScopes = skippedScopes.get(c.tid);
      if (!skipScopes) skippedScopes.set(c.tid, (skipScopes = new Map()));
      const side = isOps ? [] : chunkSide(f, c);
      const v = chunkWords(f, c);
      let pending = -1;
      for (let i = 0, o = 0; i + 1 < c.words; i += 2, o += 16) {
        const lo = v.getUint32(o, true);
        const hi = v.getInt32(o + 4, true);
        const k = lo & ((1 << KIND_BITS) - 1);
        const id = hi * 2 ** (32 - KIND_BITS) + (lo >>> KIND_BITS);
        if (!isOps && k === K_ATTRS) {
          const a = side[id];
          if (a !== null && typeof a === "object") {
            attrs.push(a as Record<string, unknown>);
            pending = attrs.length - 1;
          }
          continue;
        }
        const ts = tsAt(v, o);
        const kind = isOps ? (k === 0 ? K_OP_BEGIN : K_OP_END) : k;
        if (kind === K_OP_BEGIN) out.ops++;
        else if (kind === K_PY_START || kind === K_SCOPE_BEGIN || kind === K_MARK) out.events++;
        if (capped && ts >= cutoff) {
          if (kind === K_PY_START || kind === K_OP_BEGIN || kind === K_WAIT_BEGIN) {
            skipStack.kind.push(kind);
            skipStack.id.push(id);
            rs.skipped++;
            continue;
          }
          if (kind === K_SCOPE_BEGIN || kind === K_MARK) {
            if (kind === K_SCOPE_BEGIN) skipScopes.set(id, (skipScopes.get(id) ?? 0) + 1);
            rs.skipped++;
            pending = -1;
            continue;
          }
          if (kind === K_SCOPE_END) {
            const open = skipScopes.get(id) ?? 0;
            if (open > 0) {
              skipScopes.set(id, open - 1);
              continue;
            }
          } else {
            // the end of the innermost left-out entry, or (none left) of one kept before the cutoff
            const top = skipStack.kind.length - 1;
            const begin = kind === K_PY_END ? K_PY_START : kind === K_OP_END ? K_OP_BEGIN : K_WAIT_BEGIN;
            if (top >= 0 && skipStack.kind[top] === begin && (kind === K_OP_END || skipStack.id[top] === id)) {
              skipStack.kind.pop();
              skipStack.id.pop();
              continue;
            }
          }
        } else if (kind === K_PY_START || kind === K_OP_BEGIN || kind === K_WAIT_BEGIN || kind === K_SCOPE_BEGIN || kind === K_MARK) {
          if (ts < rs.firstStart) rs.firstStart = ts;
        }
        if (ev.n === ev.kind.length) {
          const cap = Math.min(counts.get(c.tid)!, ev.n * 2);
          ev.kind = grown(ev.kind, cap);
          ev.id = grown(ev.id, cap);
          ev.ts = grown(ev.ts, cap);
          ev.attr = grown(ev.attr, cap);
        }
        const j = ev.n++;
        ev.kind[j] = kind;
        ev.id[j] = id;
        ev.ts[j] = ts;
        ev.attr[j] = -1;
        if (pending >= 0 && (k === K_SCOPE_BEGIN || k === K_MARK)) {
          ev.attr[j] = pending;
          pending = -1;
        }
      }
      rs.done += c.words * 8 + c.sideLen;
      rs.onProgress?.(rs.done, rs.total, out.events + out.ops);
    }
  };
  fill(py, false);
  if (ops) fill(ops, true);
  // Each file is in time order per thread: merge the two runs of a thread that has both.
  for (const [tid, ev] of byTid) {
    const split = opStart.get(tid);
    if (split === undefined || split === 0 || split === ev.n) continue;
    mergeRuns(ev, split);
  }
  return byTid;
}

function mergeRuns(ev: ThreadEvents, split: number): void {
  const n = ev.n;
  const kind = new Uint8Array(n);
  const id = new Float64Array(n);
  const ts = new Float64Array(n);
  const attr = new Int32Array(n);
  let a = 0;
  let b = split;
  for (let k = 0; k < n; k++) {
    const takeA = b >= n || (a < split && ev.ts[a]! <= ev.ts[b]!);
    const j = takeA ? a++ : b++;
    kind[k] = ev.kind[j]!;
    id[k] = ev.id[j]!;
    ts[k] = ev.ts[j]!;
    attr[k] = ev.attr[j]!;
  }
  ev.kind = kind;
  ev.id = id;
  ev.ts = ts;
  ev.attr = attr;
}

interface Ctx {
  out: PythonRecording;
  codes: Map<number, Code>;
  names: Map<number, string>;
  opNames: Map<number, string>;
  /** Input shapes of ops recorded with --op-shapes, by op id: JSON text. */
  opDims: Map<number, string>;
  dimsParsed: Map<number, unknown>;
  attrs: Record<string, unknown>[];
  pid: number;
  minDur: number;
  summarizeOps: boolean;
}

function replayThread(ctx: Ctx, tid: number, ev: ThreadEvents, lastTs: number): void {
  const { out, minDur } = ctx;
  const stack: Open[] = [];
  const scopes: OpenScope[] = [];
  const active = new Map<number, number>(); // function key → open calls (recursion counted once)
  const sums = new Map<number, Map<number, CallSummary>>(); // function key → bucket → summary
  const fnKey = (o: Open) => (o.kind === K_OP_BEGIN ? o.id * 2 + 1 : o.id * 2);
  const innermostFunction = (): Open | undefined => {
    for (let k = stack.length - 1; k >= 0; k--) if (stack[k]!.kind !== K_WAIT_BEGIN) return stack[k];
    return undefined;
  };
  const markKept = () => {
    const p = stack[stack.length - 1];
    if (p) p.kept = true;
  };

  // Ends of closed capture windows, in order: what is open on the thread when one passes was cut
  // there (the tracer, the wait hooks and the op collector recorded nothing more until the next).
  const windowEnds = (out.meta?.capture?.windows ?? []).filter((w) => typeof w[1] === "number" && w[3] !== "end").map((w) => w[1] as number);
  let window = 0;
  const cutAt = (ts: number) => {
    while (window < windowEnds.length && windowEnds[window]! < ts) {
      const end = windowEnds[window++]!;
      while (stack.length) close(stack.pop()!, end, "window_end");
      for (const o of scopes.reverse()) out.spans.push(scopeSpan(ctx, o, end, tid, "window_end"));
      scopes.length = 0;
    }
  };

  const close = (o: Open, end: number, unfinished: Cut) => {
    const key = fnKey(o);
    if (o.kind !== K_WAIT_BEGIN) active.set(key, (active.get(key) ?? 1) - 1);
    const dur = end - o.start;
    const summable = o.kind === K_PY_START || (o.kind === K_OP_BEGIN && ctx.summarizeOps);
    if (summable && !unfinished && !o.kept && dur < minDur) {
      out.filtered++;
      const bucket = Math.floor(o.start / SUMMARY_BUCKET_NS) * SUMMARY_BUCKET_NS;
      let byBucket = sums.get(key);
      if (!byBucket) sums.set(key, (byBucket = new Map()));
      let s = byBucket.get(bucket);
      if (!s) {
        s = summaryOf(ctx, o, tid, bucket);
        byBucket.set(bucket, s);
      }
      s.calls++;
      s.selfNs += dur - o.hidden;
      if ((active.get(key) ?? 0) === 0) s.totalNs += dur;
      const parent = innermostFunction();
      if (parent) parent.hidden += dur;
      return;
    }
    out.spans.push(spanOf(ctx, o, end, tid, unfinished));
    markKept();
  };

  for (let i = 0; i < ev.n; i++) {
    const kind = ev.kind[i]!;
    const id = ev.id[i]!;
    const ts = ev.ts[i]!;
    if (window < windowEnds.length && kind !== K_ATTRS) cutAt(ts);
    switch (kind) {
      case K_PY_START:
      case K_OP_BEGIN:
      case K_WAIT_BEGIN: {
        const o: Open = { kind, id, start: ts, hidden: 0, kept: false };
        if (kind !== K_WAIT_BEGIN) active.set(fnKey(o), (active.get(fnKey(o)) ?? 0) + 1);
        stack.push(o);
        break;
      }
      case K_PY_END:
      case K_OP_END:
      case K_WAIT_END: {
        const want = kind === K_PY_END ? K_PY_START : kind === K_OP_END ? K_OP_BEGIN : K_WAIT_BEGIN;
        let k = stack.length - 1;
        // an op end carries no name: the innermost open op is the one
        while (k >= 0 && !(stack[k]!.kind === want && (kind === K_OP_END || stack[k]!.id === id))) k--;
        if (k < 0) {
          out.unmatched++;
          break;
        }
        // Entries above the match lost their end (should not happen): close them here.
        while (stack.length > k) close(stack.pop()!, ts, null);
        break;
      }
      case K_SCOPE_BEGIN: {
        const o: OpenScope = { id, start: ts };
        if (ev.attr[i]! >= 0) o.attrs = ctx.attrs[ev.attr[i]!];
        scopes.push(o);
        markKept();
        break;
      }
      case K_SCOPE_END: {
        // With-blocks nest per thread (token 0: matched by name from the top); decorated
        // coroutines/generators interleave, and carry a token that pairs them exactly.
        let k = scopes.length - 1;
        while (k >= 0 && scopes[k]!.id !== id) k--;
        if (k < 0) {
          out.unmatched++;
          break;
        }
        out.spans.push(scopeSpan(ctx, scopes.splice(k, 1)[0]!, ts, tid, null));
        break;
      }
      case K_MARK: {
        const inst: Instant = { name: ctx.names.get(id) ?? `mark#${id}`, ts, pid: ctx.pid, tid };
        if (ev.attr[i]! >= 0) inst.args = ctx.attrs[ev.attr[i]!];
        out.instants.push(inst);
        markKept();
        break;
      }
      default:
        break;
    }
  }
  cutAt(lastTs + 1);
  while (stack.length) close(stack.pop()!, lastTs, "unfinished");
  for (const o of scopes.reverse()) out.spans.push(scopeSpan(ctx, o, lastTs, tid, "unfinished"));
  for (const byBucket of sums.values()) for (const s of byBucket.values()) out.summaries.push(s);
}

function summaryOf(ctx: Ctx, o: Open, tid: number, bucket: number): CallSummary {
  if (o.kind === K_OP_BEGIN) {
    const s: CallSummary = { pid: ctx.pid, tid, kind: "cpu_op", name: ctx.opNames.get(o.id) ?? `op#${o.id}`, start: bucket, calls: 0, selfNs: 0, totalNs: 0 };
    const dims = ctx.opDims.get(o.id);
    if (dims !== undefined) s.inputDims = dims;
    return s;
  }
  const c = ctx.codes.get(o.id);
  const s: CallSummary = { pid: ctx.pid, tid, kind: "python", name: c?.name ?? `code#${o.id}`, start: bucket, calls: 0, selfNs: 0, totalNs: 0 };
  if (c) {
    s.file = c.file;
    s.line = c.line;
  }
  return s;
}

function spanOf(ctx: Ctx, o: Open, end: number, tid: number, cut: Cut): CpuSpan {
  let span: CpuSpan;
  if (o.kind === K_WAIT_BEGIN) {
    span = { cat: "wait", name: ctx.names.get(o.id) ?? `wait#${o.id}`, start: o.start, end, pid: ctx.pid, tid };
  } else if (o.kind === K_OP_BEGIN) {
    span = { cat: "cpu_op", name: ctx.opNames.get(o.id) ?? `op#${o.id}`, start: o.start, end, pid: ctx.pid, tid };
    const dims = ctx.opDims.get(o.id);
    if (dims !== undefined) {
      span.inputDims = dims;
      span.args = { [ARG.inputDims]: parsedDims(ctx, o.id, dims) };
    }
  } else {
    const c = ctx.codes.get(o.id);
    span = { cat: "python", name: c?.name ?? `code#${o.id}`, start: o.start, end, pid: ctx.pid, tid };
    if (c) {
      span.file = c.file;
      span.line = c.line;
    }
  }
  if (o.hidden > 0) span.hiddenNs = o.hidden;
  if (cut) {
    span.args = { ...span.args, [cut]: true };
    countCut(ctx.out, cut);
  }
  return span;
}

/** The shapes as data for the trace's args (Kineto's "Input Dims"), parsed once per op id. */
function parsedDims(ctx: Ctx, id: number, dims: string): unknown {
  let v = ctx.dimsParsed.get(id);
  if (v === undefined) {
    try {
      v = JSON.parse(dims);
    } catch {
      v = dims;
    }
    ctx.dimsParsed.set(id, v);
  }
  return v;
}

/** Why a span ended without its end record: open at the end of the recording, or when a capture window closed. */
type Cut = "unfinished" | "window_end" | null;

function countCut(out: PythonRecording, cut: Cut): void {
  if (cut === "unfinished") out.unfinished++;
  else if (cut === "window_end") out.windowCut++;
}

/** Scope names of nn.Module calls (src/tracer/inferscope/_modules.py): prefix, path, NUL, class. */
const MODULE_PREFIX = "\0module\0";

function scopeSpan(ctx: Ctx, o: OpenScope, end: number, tid: number, cut: Cut): CpuSpan {
  const nid = o.id % NAME_IDS;
  const name = ctx.names.get(nid) ?? `scope#${nid}`;
  let span: CpuSpan;
  if (name.startsWith(MODULE_PREFIX)) {
    const sep = name.indexOf("\0", MODULE_PREFIX.length);
    const path = sep < 0 ? name.slice(MODULE_PREFIX.length) : name.slice(MODULE_PREFIX.length, sep);
    span = { cat: "module", name: path, start: o.start, end, pid: ctx.pid, tid };
    if (sep >= 0) span.moduleType = name.slice(sep + 1);
  } else span = { cat: "scope", name, start: o.start, end, pid: ctx.pid, tid };
  const args = o.attrs ? { ...o.attrs } : {};
  if (cut) {
    args[cut] = true;
    countCut(ctx.out, cut);
  }
  if (Object.keys(args).length) span.args = args;
  return span;
}
