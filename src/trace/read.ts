// Open a trace (a file, .json or .json.gz, or "-" for stdin), detect its format and read it into
// the event model. Every input a user can get wrong ends in one UserError line that names the
// file and what is wrong.
//
// The JSON is read by a streaming parser, whatever the size, so that a trace too big for one
// JavaScript string (10 M Kineto events are 2.2 GB; a string holds at most 2^31 − 1 characters)
// still works in bounded memory: the bytes of the traceEvents array are cut into batches of
// whole events, each batch is parsed with JSON.parse and converted to the model at once, and the
// parsed objects are dropped. A cut is placed after the last `}` `,` `{` of a batch without
// scanning the bytes; when that guess lands inside a string or a nested object the batch cannot
// parse (its brackets or quotes do not balance), and only then is the batch scanned exactly. So
// the cost stays close to one JSON.parse of the file (docs/benchmarks.md).
import { constants as fsConstants, createReadStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import { createGunzip } from "node:zlib";
import { fail } from "../errors.ts";
import { log } from "../log.ts";
import { EventConverter, kinetoTrace, type TraceHeader } from "./kineto.ts";
import { inferscopeTrace, isInferScopeHeader } from "./inferscope-reader.ts";
import type { Trace } from "./model.ts";

/** Bytes of JSON handed to one JSON.parse call by the streaming parser. */
export const BATCH_BYTES = 2 * 1024 * 1024;

/** Inputs above this size log progress on stderr. */
export const PROGRESS_MIN_BYTES = 50 * 1024 * 1024;

export interface ReadOptions {
  /** Called with (bytes read so far, total bytes or null when unknown: stdin, gzip). */
  onProgress?: (done: number, total: number | null) => void;
  /** Log a progress line on stderr for big inputs (default true). */
  progress?: boolean;
}

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

function describeErrno(e: unknown): string | undefined {
  const code = (e as { code?: string }).code;
  switch (code) {
    case "ENOENT":
    case "ENOTDIR":
      return "no such file; check the path";
    case "EACCES":
    case "EPERM":
      return "permission denied (cannot read it; check the file's permissions)";
    case "EISDIR":
      return "is a directory, not a trace file; pass a .json or .json.gz trace";
    case "ELOOP":
      return "too many levels of symbolic links";
    default:
      return undefined;
  }
}

/** Read a trace file ("-" = stdin) into the model. Throws UserError on bad input. */
export async function readTrace(path: string, opts: ReadOptions = {}): Promise<Trace> {
  if (path === "-") return readStream("<stdin>", stdinChunks(), null, opts);
  const label = path;
  let size: number;
  try {
    const st = await stat(path);
    if (st.isDirectory()) fail(`${label}: is a directory, not a trace file; pass a .json or .json.gz trace`);
    if (!st.isFile()) fail(`${label}: not a regular file; pass a .json or .json.gz trace`);
    size = st.size;
  } catch (e) {
    if ((e as Error).name === "UserError") throw e;
    const why = describeErrno(e);
    fail(`${label}: ${why ?? `cannot read it (${(e as Error).message})`}`);
  }
  let head: Uint8Array;
  try {
    const fh = await open(path, fsConstants.O_RDONLY);
    try {
      const b = new Uint8Array(Math.min(size, 2));
      const { bytesRead } = await fh.read(b, 0, b.length, 0);
      head = b.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (e) {
    const why = describeErrno(e);
    fail(`${label}: ${why ?? `cannot read it (${(e as Error).message})`}`);
  }
  if (size === 0) fail(`${label}: empty file; pass a trace written by 'inferscope run' or torch.profiler's export_chrome_trace`);
  const gz = head.length === 2 && head[0] === GZIP_MAGIC_0 && head[1] === GZIP_MAGIC_1;
  if (!gz && /\.gz$/i.test(path)) {
    fail(`${label}: not gzip data although the name ends in .gz; decompress it properly or rename it to .json`);
  }
  if (wantLogFor(opts, size)) log.info(`reading ${label} (${(size / 1048576).toFixed(0)} MB${gz ? " compressed" : ""})`);
  if (gz) {
    const source = createReadStream(path);
    const gunzip = createGunzip();
    let compressedRead = 0;
    source.on("data", (c: Buffer | string) => {
      compressedRead += c.length;
    });
    source.pipe(gunzip);
    source.on("error", (e) => gunzip.destroy(e));
    return readStream(label, gunzipChunks(label, gunzip), size, opts, () => compressedRead);
  }
  return readFileStream(label, path, size, opts);
}

/**
 * A plain file, read in BATCH_BYTES pieces into buffers the parser owns, each starting with the
 * previous piece's unconsumed tail (so no piece is copied again).
 */
async function readFileStream(label: string, path: string, size: number, opts: ReadOptions): Promise<Trace> {
  const parser = new TraceJsonParser(label);
  const progress = progressReporter(label, size, opts, () => parser.eventCount);
  let fh;
  try {
    fh = await open(path, fsConstants.O_RDONLY);
  } catch (e) {
    fail(`${label}: ${describeErrno(e) ?? `cannot read it (${(e as Error).message})`}`);
  }
  try {
    let read = 0;
    for (;;) {
      const carry = parser.takeRest();
      const buf = new Uint8Array(carry.length + BATCH_BYTES);
      buf.set(carry, 0);
      let n: number;
      try {
        ({ bytesRead: n } = await fh.read(buf, carry.length, BATCH_BYTES, null));
      } catch (e) {
        fail(`${label}: ${describeErrno(e) ?? `cannot read it (${(e as Error).message})`}`);
      }
      read += n;
      const final = n === 0 || read >= size;
      parser.feed(buf.subarray(0, carry.length + n), final, true);
      progress(read);
      if (final) break;
    }
  } finally {
    await fh.close();
  }
  return parser.finish();
}

function wantLogFor(opts: ReadOptions, size: number): boolean {
  return opts.progress !== false && size >= PROGRESS_MIN_BYTES;
}

function gzipError(label: string, e: unknown): never {
  const msg = (e as Error).message ?? String(e);
  if (/unexpected end/i.test(msg)) fail(`${label}: truncated gzip data (${msg}); the file was not completely written — re-export it`);
  const why = describeErrno(e);
  if (why) fail(`${label}: ${why}`);
  fail(`${label}: corrupt gzip data (${msg}); re-export the trace`);
}

/**
 * Parse a trace held in memory (a whole JSON text or its bytes). Measured: one JSON.parse of the
 * whole text plus the conversion is slower than the batched parser (the converter then runs with
 * the whole parsed document alive on the heap) and needs twice the memory, so this streams too.
 */
export function parseTrace(input: string | Uint8Array, label = "<memory>"): Trace {
  const bytes = typeof input === "string" ? new TextEncoder().encode(input) : input;
  if (bytes.length === 0) fail(`${label}: empty file; pass a trace written by 'inferscope run' or torch.profiler's export_chrome_trace`);
  const p = new TraceJsonParser(label);
  p.feed(bytes, true);
  return p.finish();
}

async function* gunzipChunks(label: string, gunzip: ReturnType<typeof createGunzip>): AsyncGenerator<Uint8Array> {
  try {
    for await (const c of gunzip) yield c as Uint8Array;
  } catch (e) {
    gzipError(label, e);
  }
}

async function* stdinChunks(): AsyncGenerator<Uint8Array> {
  // Bun.stdin.stream() yields Uint8Array chunks
  for await (const c of Bun.stdin.stream()) yield c as Uint8Array;
}

/** A function to call with the bytes read so far: onProgress, and a stderr line at most every second for big inputs. */
function progressReporter(label: string, total: number | null, opts: ReadOptions, events: () => number): (done: number) => void {
  const wantLog = opts.progress !== false;
  let nextLogAt = performance.now() + 1000;
  const started = performance.now();
  return (done: number) => {
    opts.onProgress?.(done, total);
    if (!wantLog || (total ?? done) < PROGRESS_MIN_BYTES) return;
    const now = performance.now();
    if (now < nextLogAt) return;
    nextLogAt = now + 1000;
    const mb = (done / 1048576).toFixed(0);
    const pct = total ? ` (${Math.min(100, Math.round((done / total) * 100))} %)` : "";
    log.info(`reading ${label}: ${mb} MB${pct}, ${events().toLocaleString("en-US")} events, ${((now - started) / 1000).toFixed(1)} s`);
  };
}

async function readStream(
  label: string,
  chunks: AsyncIterable<Uint8Array>,
  total: number | null,
  opts: ReadOptions,
  progressBytes?: () => number,
): Promise<Trace> {
  const parser = new TraceJsonParser(label);
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let read = 0;
  let first = true;
  let gzipped: boolean | null = null;
  const progress = progressReporter(label, total, opts, () => parser.eventCount);
  const report = () => progress(progressBytes ? progressBytes() : read);
  for await (const chunk of chunks) {
    if (chunk.length === 0) continue;
    if (first && label === "<stdin>") {
      first = false;
      gzipped = chunk[0] === GZIP_MAGIC_0 && chunk[1] === GZIP_MAGIC_1;
      if (gzipped) {
        // stdin carried gzip: decompress the rest of the stream through zlib
        return readStream(label, gunzipChunks(label, pipeGzip(chunk, chunks)), null, opts);
      }
    }
    first = false;
    read += chunk.length;
    pending.push(chunk);
    pendingBytes += chunk.length;
    if (pendingBytes >= BATCH_BYTES) {
      parser.feed(concat(pending, pendingBytes), false);
      pending = [];
      pendingBytes = 0;
      report();
    }
  }
  if (read === 0) fail(`${label}: empty input; pass a trace written by 'inferscope run' or torch.profiler's export_chrome_trace`);
  parser.feed(concat(pending, pendingBytes), true);
  report();
  return parser.finish();
}

function pipeGzip(first: Uint8Array, rest: AsyncIterable<Uint8Array>): ReturnType<typeof createGunzip> {
  const gunzip = createGunzip();
  (async () => {
    gunzip.write(first);
    for await (const c of rest) {
      if (!gunzip.write(c)) await new Promise((r) => gunzip.once("drain", r));
    }
    gunzip.end();
  })().catch((e) => gunzip.destroy(e as Error));
  return gunzip;
}

function concat(parts: Uint8Array[], bytes: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(bytes);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The streaming JSON reader of a Chrome trace: {"k": v, …, "traceEvents": [e, e, …], …} or [e, …]

const WS = new Uint8Array(256);
WS[0x20] = WS[0x09] = WS[0x0a] = WS[0x0d] = 1;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;

/** Index after the closing quote of a string whose body starts at i, or -1 if it does not end in b. */
function skipString(b: Uint8Array, i: number, end: number): number {
  for (;;) {
    const q = b.indexOf(QUOTE, i);
    if (q < 0 || q >= end) return -1;
    let k = q - 1;
    let n = 0;
    while (b[k] === BACKSLASH) {
      n++;
      k--;
    }
    if ((n & 1) === 0) return q + 1;
    i = q + 1;
  }
}

/**
 * Index after the JSON value starting at i (i at its first byte), or -1 when the value does not end
 * before `end`. Validates nothing beyond brackets and strings: JSON.parse does that afterwards.
 */
function skipValue(b: Uint8Array, i: number, end: number): number {
  const c0 = b[i];
  if (c0 === QUOTE) return skipString(b, i + 1, end);
  if (c0 !== LBRACE && c0 !== LBRACKET) {
    // number, true, false, null: up to the next delimiter
    while (i < end) {
      const c = b[i]!;
      if (c === COMMA || c === RBRACE || c === RBRACKET || WS[c]) return i;
      i++;
    }
    return -1;
  }
  let depth = 0;
  while (i < end) {
    const c = b[i]!;
    if (c === QUOTE) {
      i = skipString(b, i + 1, end);
      if (i < 0) return -1;
      continue;
    }
    if (c === LBRACE || c === LBRACKET) depth++;
    else if (c === RBRACE || c === RBRACKET) {
      depth--;
      if (depth === 0) return i + 1;
    }
    i++;
  }
  return -1;
}

type State = "start" | "keys" | "array" | "done";

/** Feeds on byte chunks of one JSON document; see the file comment. */
export class TraceJsonParser {
  private readonly conv = new EventConverter();
  private readonly decoder = new TextDecoder();
  private readonly header: TraceHeader = {};
  private state: State = "start";
  private topIsArray = false;
  private sawTraceEvents = false;
  /** Unconsumed bytes (from an element boundary on). */
  private rest: Uint8Array = new Uint8Array(0);
  /** Bytes of the document consumed before `rest`. */
  private offset = 0;
  private firstBytes: Uint8Array | null = null;
  /** Whether the buffer being parsed may be written to. */
  private owned = false;
  /** Bytes of the document seen so far (consumed or not). */
  private seen = 0;

  constructor(private readonly label: string) {}

  get eventCount(): number {
    return this.conv.eventCount;
  }

  /**
   * The unconsumed tail (a partial event), handed back to a reader that will put it in front of
   * the next chunk itself (readFileStream does, to avoid copying every chunk).
   */
  takeRest(): Uint8Array {
    const r = this.rest;
    this.rest = new Uint8Array(0);
    return r;
  }

  /**
   * Feed the next bytes of the document. `owned`: the parser may write into `chunk` (restoring it)
   * to frame a batch as a JSON array in place, instead of building a new string around it.
   */
  feed(chunk: Uint8Array, final: boolean, owned = false): void {
    if (this.firstBytes === null && chunk.length > 0) this.firstBytes = chunk.slice(0, 64);
    let b: Uint8Array;
    this.owned = owned && this.rest.length === 0;
    if (this.rest.length === 0) b = chunk;
    else if (chunk.length === 0) b = this.rest;
    else {
      b = new Uint8Array(this.rest.length + chunk.length);
      b.set(this.rest, 0);
      b.set(chunk, this.rest.length);
      this.owned = true;
    }
    this.seen = this.offset + b.length;
    const pos = this.run(b, final);
    this.offset += pos;
    // copy the remainder: keeping a subarray would pin the whole chunk
    this.rest = pos >= b.length ? new Uint8Array(0) : b.slice(pos);
  }

  private truncated(where: string): never {
    fail(`${this.label}: truncated JSON: the data ends ${where} (after ${this.seen} bytes); the trace was not completely written — re-export it`);
  }

  private invalid(pos: number, what: string): never {
    fail(`${this.label}: invalid JSON near byte ${this.offset + pos}: ${what}`);
  }

  private notJson(): never {
    const b = this.firstBytes ?? new Uint8Array(0);
    const printable = Array.from(b.subarray(0, 16), (c) => (c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : ".")).join("");
    fail(`${this.label}: not JSON (it starts with "${printable}"); pass a Chrome-trace JSON file from 'inferscope run' or torch.profiler's export_chrome_trace`);
  }

  private notTrace(what: string): never {
    fail(`${this.label}: JSON but not a trace (${what}); pass a Chrome-trace JSON file from 'inferscope run' or torch.profiler's export_chrome_trace`);
  }

  private parseJson(b: Uint8Array, from: number, to: number): unknown {
    try {
      return JSON.parse(this.decoder.decode(b.subarray(from, to)));
    } catch (e) {
      this.invalid(from, (e as Error).message.replace(/^JSON Parse error: /, ""));
    }
  }

  private addBatch(b: Uint8Array, from: number, to: number): void {
    const text = this.decoder.decode(b.subarray(from, to));
    let arr: unknown[];
    try {
      arr = JSON.parse(`[${text}]`) as unknown[];
    } catch (e) {
      this.invalid(from, `in "traceEvents": ${(e as Error).message.replace(/^JSON Parse error: /, "")}`);
    }
    this.conv.addAll(arr);
  }

  /** Consume what can be consumed of b; returns the index of the first unconsumed byte. */
  private run(b: Uint8Array, final: boolean): number {
    const end = b.length;
    let pos = 0;
    for (;;) {
      switch (this.state) {
        case "start": {
          if (this.offset === 0 && pos === 0 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) pos = 3; // BOM
          while (pos < end && WS[b[pos]!]) pos++;
          if (pos >= end) {
            if (final) fail(`${this.label}: empty input (only whitespace); pass a trace written by 'inferscope run' or torch.profiler's export_chrome_trace`);
            return pos;
          }
          const c = b[pos]!;
          if (c === LBRACE) {
            this.state = "keys";
            pos++;
          } else if (c === LBRACKET) {
            this.state = "array";
            this.topIsArray = true;
            this.sawTraceEvents = true;
            pos++;
          } else {
            // A JSON scalar is JSON, but not a trace; anything else is not JSON.
            if (final && end - pos < 1 << 20) {
              try {
                const v: unknown = JSON.parse(this.decoder.decode(b.subarray(pos)));
                this.notTrace(`a ${v === null ? "null" : typeof v}, not an object with "traceEvents"`);
              } catch (e) {
                if ((e as Error).name === "UserError") throw e;
              }
            }
            this.notJson();
          }
          break;
        }
        case "keys": {
          while (pos < end && (WS[b[pos]!] || b[pos] === COMMA)) pos++;
          if (pos >= end) {
            if (final) this.truncated("inside the top-level object");
            return pos;
          }
          const c = b[pos]!;
          if (c === RBRACE) {
            this.state = "done";
            pos++;
            break;
          }
          if (c !== QUOTE) this.invalid(pos, `expected a key or "}" in the top-level object, found "${String.fromCharCode(c)}"`);
          const keyEnd = skipString(b, pos + 1, end);
          if (keyEnd < 0) {
            if (final) this.truncated("inside a key of the top-level object");
            return pos;
          }
          let p = keyEnd;
          while (p < end && WS[b[p]!]) p++;
          if (p >= end) {
            if (final) this.truncated("inside the top-level object");
            return pos;
          }
          if (b[p] !== COLON) this.invalid(p, `expected ":" after a key of the top-level object`);
          p++;
          while (p < end && WS[b[p]!]) p++;
          if (p >= end) {
            if (final) this.truncated("inside the top-level object");
            return pos;
          }
          const key = this.parseJson(b, pos, keyEnd) as string;
          if (key === "traceEvents" && b[p] === LBRACKET) {
            this.sawTraceEvents = true;
            this.state = "array";
            pos = p + 1;
            break;
          }
          const vEnd = skipValue(b, p, end);
          if (vEnd < 0 || (vEnd === end && !final && b[p] !== QUOTE && b[p] !== LBRACE && b[p] !== LBRACKET)) {
            if (final) this.truncated(`inside the value of "${key}"`);
            return pos;
          }
          this.header[key] = this.parseJson(b, p, vEnd);
          pos = vEnd;
          break;
        }
        case "array": {
          while (pos < end && WS[b[pos]!]) pos++;
          if (pos < end && b[pos] === COMMA) {
            pos++;
            while (pos < end && WS[b[pos]!]) pos++;
          }
          if (pos >= end) {
            if (final) this.truncated(`inside the "traceEvents" array`);
            return pos;
          }
          if (b[pos] === RBRACKET) {
            pos++;
            this.state = this.topIsArray ? "done" : "keys";
            break;
          }
          // Fast path: guess the cut after the last "}," in the next BATCH_BYTES.
          const limit = Math.min(end, pos + BATCH_BYTES);
          const cut = lastCut(b, pos, limit);
          if (cut > pos) {
            let arr: unknown[] | null = null;
            if (this.owned && pos > 0) {
              // frame the batch as "[…]" in place: no second copy of 8 MB of text
              const before = b[pos - 1]!;
              const after = b[cut]!;
              b[pos - 1] = LBRACKET;
              b[cut] = RBRACKET;
              try {
                arr = JSON.parse(this.decoder.decode(b.subarray(pos - 1, cut + 1))) as unknown[];
              } catch {
                arr = null; // the guess was wrong (or the JSON is bad): scan exactly below
              } finally {
                b[pos - 1] = before;
                b[cut] = after;
              }
            } else {
              try {
                arr = JSON.parse(`[${this.decoder.decode(b.subarray(pos, cut))}]`) as unknown[];
              } catch {
                arr = null;
              }
            }
            if (arr !== null) {
              this.conv.addAll(arr);
              pos = cut;
              if (limit === end && !final) return pos; // the rest is a partial event: wait for more
              break;
            }
          }
          // Exact path: walk whole elements (up to about BATCH_BYTES of them).
          let p = pos;
          let last = pos;
          let closed = false;
          for (;;) {
            while (p < end && WS[b[p]!]) p++;
            if (p >= end) break;
            const c = b[p]!;
            if (c === RBRACKET) {
              closed = true;
              break;
            }
            if (p !== pos) {
              if (c !== COMMA) this.invalid(p, `expected "," or "]" between events in "traceEvents", found "${String.fromCharCode(c)}"`);
              p++;
              while (p < end && WS[b[p]!]) p++;
              if (p >= end) break;
            }
            const e0 = b[p]!;
            if (e0 === COMMA || e0 === RBRACKET || e0 === RBRACE || e0 === COLON) this.invalid(p, `unexpected "${String.fromCharCode(e0)}" in "traceEvents"`);
            const vEnd = skipValue(b, p, end);
            if (vEnd < 0) break;
            p = vEnd;
            last = p;
            if (p - pos >= BATCH_BYTES) break;
          }
          if (last > pos) {
            this.addBatch(b, pos, last);
            pos = last;
            break;
          }
          if (closed) {
            pos = p;
            break;
          }
          if (final) this.truncated(`inside the "traceEvents" array`);
          return pos;
        }
        case "done": {
          while (pos < end && WS[b[pos]!]) pos++;
          if (pos < end) this.invalid(pos, `unexpected data after the end of the JSON document`);
          return pos;
        }
      }
    }
  }

  finish(): Trace {
    if (this.state !== "done") this.truncated(this.state === "array" ? `inside the "traceEvents" array` : "inside the top-level object");
    if (!this.sawTraceEvents) {
      const keys = Object.keys(this.header);
      const te = this.header.traceEvents;
      if (te !== undefined) this.notTrace(`"traceEvents" is a ${te === null ? "null" : typeof te}, not an array`);
      this.notTrace(`no "traceEvents" array; its keys: ${keys.slice(0, 6).map((k) => JSON.stringify(k)).join(", ") || "none"}`);
    }
    const conv = this.conv;
    if (conv.eventCount === 0) fail(`${this.label}: the trace has no events ("traceEvents" is empty); the profiler recorded nothing — check that the profiled code ran inside the profiler`);
    if (conv.contentCount === 0) {
      fail(`${this.label}: the trace has no events: none of its ${conv.eventCount} entries is a complete ("X"), instant or counter event; check that the profiled code ran inside the profiler`);
    }
    return isInferScopeHeader(this.header) ? inferscopeTrace(conv, this.header) : kinetoTrace(conv, this.header);
  }
}

/**
 * The index just after the last `}` that is followed by `,` and then `{` (whitespace allowed
 * around the comma) within b[from, limit): a probable boundary between two event objects; -1 when
 * there is none. Kernel names such as `…{lambda(float, float)#1}, unsigned int…` contain "},"
 * but rarely "},{", and a wrong guess only costs an exact scan of the batch.
 */
function lastCut(b: Uint8Array, from: number, limit: number): number {
  let i = limit - 1;
  while (i > from) {
    const comma = b.lastIndexOf(COMMA, i);
    if (comma <= from) return -1;
    let k = comma - 1;
    while (k > from && WS[b[k]!]) k--;
    if (b[k] === RBRACE) {
      let j = comma + 1;
      while (j < limit && WS[b[j]!]) j++;
      if (j < limit && b[j] === LBRACE) return k + 1;
    }
    i = comma - 1;
  }
  return -1;
}
