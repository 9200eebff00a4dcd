// Reads what the Python tracer (src/tracer/inferscope/_tracer.py) wrote: `python-<pid>.isc`,
// a sequence of records (tables, chunks of per-thread (word, ts) int64 pairs, an end record),
// and rebuilds the CPU spans (Python calls, scopes) and instants (marks) of the event model.
// The format is described at the top of _tracer.py.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import type { CpuSpan, Instant } from "../trace/model.ts";
import { cutoffFor } from "../trace/window.ts";

const MAGIC = 0x31435349; // "ISC1" little endian
const REC_TABLES = 1;
const REC_CHUNK = 2;
const REC_END = 3;
// Record kinds, in the low KIND_BITS of a word: the tracer's K_* (_tracer.py), also named in
// ffi/pytrace.c; test/collect/record-kinds.test.ts keeps the three equal.
const KIND_BITS = 3;
const K_PY_START = 0;
const K_PY_END = 1;
const K_SCOPE_BEGIN = 2;
const K_SCOPE_END = 3;
const K_MARK = 4;
const K_ATTRS = 5;

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
  /** Events (call starts, scope begins, marks) lost to the wrap policy: exact. */
  dropped: number;
  droppedChunks: number;
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
  /** Events read (call starts, scope begins, marks), before the min-duration filter. */
  events: number;
  /** Python calls shorter than minDurationNs that were left out. */
  filtered: number;
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
}

interface Open {
  id: number;
  start: number;
  attrs?: Record<string, unknown>;
  /** Started after the window's cutoff: matched with its end, then dropped. */
  skip?: boolean;
}

interface ThreadState {
  py: Open[];
  scopes: Open[];
  pendingAttrs?: Record<string, unknown>;
  last: number;
  /** Index of the next capture window whose end this thread has not passed. */
  window: number;
}

export interface ReadPythonOptions {
  pid: number;
  /** Drop Python calls shorter than this (scopes and marks are always kept). */
  minDurationNs?: number;
  /** Keep at most about this many events: the earliest (src/trace/window.ts). */
  maxEvents?: number;
  /** Called after each chunk with the bytes of records read so far, the file's size, and the events seen. */
  onProgress?: (done: number, total: number, events: number) => void;
}

/** Where the records are read from: the file, a piece at a time (it may be gigabytes), or memory. */
interface Source {
  size: number;
  read(off: number, len: number): Uint8Array;
}

function memorySource(bytes: Uint8Array): Source {
  return { size: bytes.length, read: (off, len) => bytes.subarray(off, off + len) };
}

/** Reads the tracer's record file without holding it in memory: one chunk (≤ 1 MiB) at a time. */
export function readPythonFile(path: string, opts: ReadPythonOptions): PythonRecording {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    let buf = new Uint8Array(1 << 16);
    const src: Source = {
      size,
      read(off, len) {
        if (len > buf.length) buf = new Uint8Array(Math.max(len, buf.length * 2));
        const n = readSync(fd, buf, 0, len, off);
        return buf.subarray(0, n);
      },
    };
    return readRecords(src, opts);
  } finally {
    closeSync(fd);
  }
}

export function readPythonEvents(bytes: Uint8Array, opts: ReadPythonOptions): PythonRecording {
  return readRecords(memorySource(bytes), opts);
}

const viewOf = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

function readRecords(src: Source, opts: ReadPythonOptions): PythonRecording {
  const NAME_IDS = 2097152; // 2^21: scope words hold token << 21 | name id
  const out: PythonRecording = {
    spans: [],
    instants: [],
    threadNames: new Map(),
    meta: null,
    events: 0,
    filtered: 0,
    unmatched: 0,
    unfinished: 0,
    windowCut: 0,
    truncatedBytes: 0,
    warnings: [],
  };
  const text = new TextDecoder();
  const codes = new Map<number, { name: string; file: string; line: number }>();
  const names = new Map<number, string>();
  // Pass 1: the record headers, the tables and the end record; chunks are only located.
  const chunks: { tid: number; off: number; words: number; sideOff: number; sideLen: number; first: number }[] = [];
  let off = 0;
  while (off + 16 <= src.size) {
    const hv = viewOf(src.read(off, 16));
    if (hv.getUint32(0, true) !== MAGIC) {
      out.warnings.push(`python events: bad record header at byte ${off}; the rest of the file was ignored`);
      out.truncatedBytes = src.size - off;
      break;
    }
    const type = hv.getUint32(4, true);
    const len = Number(hv.getBigUint64(8, true));
    const p = off + 16;
    if (p + len > src.size) break;
    off = p + len;
    if (type === REC_TABLES) {
      const t = JSON.parse(text.decode(src.read(p, len))) as { codes?: [number, string, string, number][]; names?: [number, string][] };
      for (const [id, name, file, line] of t.codes ?? []) codes.set(id, { name, file, line });
      for (const [id, name] of t.names ?? []) names.set(id, name);
    } else if (type === REC_CHUNK) {
      // the chunk header and its first few pairs (for its first timestamp)
      const head = src.read(p, Math.min(len, 16 + 64));
      const cv = viewOf(head);
      const words = cv.getUint32(4, true);
      chunks.push({
        tid: cv.getInt32(0, true),
        off: p + 16,
        words,
        sideOff: p + 16 + words * 8,
        sideLen: cv.getUint32(8, true),
        first: chunkStart(cv, 16, Math.min(words, (head.length - 16) / 8)),
      });
    } else if (type === REC_END) {
      out.meta = JSON.parse(text.decode(src.read(p, len))) as PythonMeta;
    }
  }
  // a record cut off at the end (the bad-header case has said so already)
  const cutOff = off < src.size && out.truncatedBytes === 0 ? src.size - off : 0;
  if (cutOff > 0) out.truncatedBytes = cutOff;

  // A thread's chunks in time order: the periodic flush (another thread) can write a thread's
  // newest records while that thread is still handing over its previous full chunk.
  chunks.sort((a, b) => a.tid - b.tid || a.first - b.first);

  // Bounded memory: a recording of more events than maxEvents keeps its earliest ones.
  const cutoff = opts.maxEvents ? startCutoff(src, chunks, opts.maxEvents) : { cutoff: Infinity, total: 0 };
  let skipped = 0;
  let firstStart = Infinity;

  const pid = out.meta?.pid ?? opts.pid;
  const minDur = opts.minDurationNs ?? 0;
  const threads = new Map<number, ThreadState>();
  // Ends of closed capture windows, in order: what is open on a thread when one passes was cut
  // there (the tracer recorded nothing more until the next window).
  const windowEnds = (out.meta?.capture?.windows ?? [])
    .filter((w) => typeof w[1] === "number" && w[3] !== "end")
    .map((w) => w[1] as number);
  const cutAt = (st: ThreadState, tid: number, ts: number) => {
    while (st.window < windowEnds.length && windowEnds[st.window]! < ts) {
      const end = windowEnds[st.window++]!;
      for (const o of st.py.reverse()) if (!o.skip) pushPy(out, codes, o, end, pid, tid, minDur, "window_end");
      for (const o of st.scopes.reverse()) if (!o.skip) pushScope(out, names, o, end, pid, tid, "window_end", NAME_IDS);
      st.py = [];
      st.scopes = [];
    }
  };
  let lastTs = 0;
  let done = src.size - chunks.reduce((n, c) => n + c.words * 8 + c.sideLen, 0); // headers and tables: read in pass 1
  for (const c of chunks) {
    let st = threads.get(c.tid);
    if (!st) threads.set(c.tid, (st = { py: [], scopes: [], last: 0, window: 0 }));
    const tid = c.tid;
    const side = c.sideLen ? (JSON.parse(text.decode(src.read(c.sideOff, c.sideLen))) as unknown[]) : [];
    const dv = viewOf(src.read(c.off, c.words * 8));
    for (let i = 0, o = 0; i + 1 < c.words; i += 2, o += 16) {
      const lo = dv.getUint32(o, true);
      const hi = dv.getInt32(o + 4, true);
      const ts = dv.getUint32(o + 8, true) + dv.getInt32(o + 12, true) * 4294967296;
      const kind = lo & ((1 << KIND_BITS) - 1);
      const id = hi * 2 ** (32 - KIND_BITS) + (lo >>> KIND_BITS);
      if (kind === K_ATTRS) {
        const a = side[id];
        st.pendingAttrs = a !== null && typeof a === "object" ? (a as Record<string, unknown>) : undefined;
        continue;
      }
      if (ts > st.last) st.last = ts;
      if (st.window < windowEnds.length) cutAt(st, tid, ts);
      switch (kind) {
        case K_PY_START:
          out.events++;
          if (ts >= cutoff.cutoff) {
            skipped++;
            st.py.push({ id, start: ts, skip: true });
          } else {
            if (ts < firstStart) firstStart = ts;
            st.py.push({ id, start: ts });
          }
          break;
        case K_PY_END: {
          const stack = st.py;
          let k = stack.length - 1;
          while (k >= 0 && stack[k]!.id !== id) k--;
          if (k < 0) {
            out.unmatched++;
            break;
          }
          // Calls above the match lost their end (should not happen): close them here.
          while (stack.length > k) {
            const o = stack.pop()!;
            if (!o.skip) pushPy(out, codes, o, ts, pid, tid, minDur, null);
          }
          break;
        }
        case K_SCOPE_BEGIN: {
          out.events++;
          const o: Open = { id, start: ts };
          if (ts >= cutoff.cutoff) {
            skipped++;
            o.skip = true;
          }
          if (st.pendingAttrs) o.attrs = st.pendingAttrs;
          st.pendingAttrs = undefined;
          st.scopes.push(o);
          break;
        }
        case K_SCOPE_END: {
          // With-blocks nest per thread (token 0: matched by name from the top); decorated
          // coroutines/generators interleave, and carry a token that pairs them exactly.
          const stack = st.scopes;
          let k = stack.length - 1;
          while (k >= 0 && stack[k]!.id !== id) k--;
          if (k < 0) {
            out.unmatched++;
            break;
          }
          const o = stack.splice(k, 1)[0]!;
          if (!o.skip) pushScope(out, names, o, ts, pid, tid, null, NAME_IDS);
          break;
        }
        case K_MARK: {
          out.events++;
          if (ts >= cutoff.cutoff) {
            skipped++;
            st.pendingAttrs = undefined;
            break;
          }
          const inst: Instant = { name: names.get(id) ?? `mark#${id}`, ts, pid, tid };
          if (st.pendingAttrs) inst.args = st.pendingAttrs;
          st.pendingAttrs = undefined;
          out.instants.push(inst);
          break;
        }
        default:
          break;
      }
    }
    if (st.last > lastTs) lastTs = st.last;
    done += c.words * 8 + c.sideLen;
    opts.onProgress?.(done, src.size, out.events);
  }
  const end = Math.max(out.meta?.tEnd ?? 0, lastTs);
  for (const [tid, st] of threads) {
    cutAt(st, tid, end + 1);
    for (const o of st.py.reverse()) if (!o.skip) pushPy(out, codes, o, end, pid, tid, minDur, "unfinished");
    for (const o of st.scopes.reverse()) if (!o.skip) pushScope(out, names, o, end, pid, tid, "unfinished", NAME_IDS);
  }
  for (const t of out.meta?.threads ?? []) if (t.name) out.threadNames.set(t.tid, t.name);
  for (const tid of threads.keys()) if (!out.threadNames.has(tid)) out.threadNames.set(tid, `thread ${tid}`);
  if (skipped > 0) out.window = { skipped, kept: out.events - skipped, ns: cutoff.cutoff - firstStart };
  const cut = cutOff > 0 ? ` (the file ends inside a record: ${cutOff} bytes cut off)` : "";
  if (!out.meta) {
    out.warnings.push(
      `the Python tracer's final record is missing (the process was killed, or crashed): the Python events after its last periodic flush (at most about a second) are lost${cut}`,
    );
  } else if (out.meta.reason === "exec") {
    const secs = ((out.meta.tEnd - out.meta.tStart) / 1e9).toFixed(3);
    out.warnings.push(`the script replaced itself with another program (${out.meta.exec ?? "os.exec*"}) ${secs} s after the tracer started: what ran after the exec was not profiled`);
  }
  else if (cut) out.warnings.push(`python events: the file ends inside a record after the final one (${cutOff} bytes cut off); the events in it are lost`);
  return out;
}

/**
 * Pass 2, only for a recording bigger than the budget: reads every chunk once for the start
 * times of its events and returns the time before which about `maxEvents` of them start.
 */
function startCutoff(src: Source, chunks: { off: number; words: number }[], maxEvents: number): { cutoff: number; total: number } {
  let pairs = 0;
  for (const c of chunks) pairs += c.words / 2;
  if (pairs <= maxEvents) return { cutoff: Infinity, total: pairs }; // an event takes one or two pairs
  const starts = (visit: (t: number) => void) => {
    for (const c of chunks) {
      const dv = viewOf(src.read(c.off, c.words * 8));
      for (let o = 0; o + 16 <= c.words * 8; o += 16) {
        const kind = dv.getUint32(o, true) & ((1 << KIND_BITS) - 1);
        if (kind === K_PY_START || kind === K_SCOPE_BEGIN || kind === K_MARK) visit(dv.getUint32(o + 8, true) + dv.getInt32(o + 12, true) * 4294967296);
      }
    }
  };
  let n = 0;
  starts(() => n++);
  return { cutoff: cutoffFor(starts, n, maxEvents), total: n };
}

/** The first timestamp of a chunk (attribute records carry none), for ordering; 0 when empty. */
function chunkStart(dv: DataView, off: number, words: number): number {
  for (let i = 0, o = off; i + 1 < words; i += 2, o += 16) {
    if ((dv.getUint32(o, true) & ((1 << KIND_BITS) - 1)) === K_ATTRS) continue;
    return dv.getUint32(o + 8, true) + dv.getInt32(o + 12, true) * 4294967296;
  }
  return 0;
}

function pushPy(
  out: PythonRecording,
  codes: Map<number, { name: string; file: string; line: number }>,
  o: Open,
  end: number,
  pid: number,
  tid: number,
  minDur: number,
  cut: Cut,
): void {
  if (end - o.start < minDur) {
    out.filtered++;
    return;
  }
  const c = codes.get(o.id);
  const span: CpuSpan = { cat: "python", name: c?.name ?? `code#${o.id}`, start: o.start, end, pid, tid };
  if (c) {
    span.file = c.file;
    span.line = c.line;
  }
  if (cut) {
    span.args = { [cut]: true };
    countCut(out, cut);
  }
  out.spans.push(span);
}

/** Why a span ended without its end record: open at the end of the recording, or when a capture window closed. */
type Cut = "unfinished" | "window_end" | null;

function countCut(out: PythonRecording, cut: Cut): void {
  if (cut === "unfinished") out.unfinished++;
  else if (cut === "window_end") out.windowCut++;
}

/** Scope names of nn.Module calls (src/tracer/inferscope/_modules.py): prefix, path, NUL, class. */
const MODULE_PREFIX = "\0module\0";

function pushScope(out: PythonRecording, names: Map<number, string>, o: Open, end: number, pid: number, tid: number, cut: Cut, nameIds: number): void {
  const nid = o.id % nameIds;
  const name = names.get(nid) ?? `scope#${nid}`;
  let span: CpuSpan;
  if (name.startsWith(MODULE_PREFIX)) {
    const sep = name.indexOf("\0", MODULE_PREFIX.length);
    const path = sep < 0 ? name.slice(MODULE_PREFIX.length) : name.slice(MODULE_PREFIX.length, sep);
    span = { cat: "module", name: path, start: o.start, end, pid, tid };
    if (sep >= 0) span.moduleType = name.slice(sep + 1);
  } else span = { cat: "scope", name, start: o.start, end, pid, tid };
  const args = o.attrs ? { ...o.attrs } : {};
  if (cut) {
    args[cut] = true;
    countCut(out, cut);
  }
  if (Object.keys(args).length) span.args = args;
  out.spans.push(span);
}
