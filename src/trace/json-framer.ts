// The streaming JSON reader of a Chrome trace: {"k": v, …, "traceEvents": [e, e, …], …} or
// [e, …], fed byte chunks of any size (read.ts opens the files and feeds it).
//
// The bytes of the traceEvents array are cut into batches of whole events, each batch is parsed
// with JSON.parse and converted to the model at once, and the parsed objects are dropped, so a
// trace too big for one JavaScript string still reads in bounded memory. A cut is placed after
// the last `}` `,` `{` of a batch without scanning the bytes; when that guess lands inside a
// string or a nested object the batch cannot parse (its brackets or quotes do not balance), and
// only then is the batch scanned exactly. So the cost stays close to one JSON.parse of the file
// (docs/benchmarks.md). With the native reader (json-tape.ts), a batch goes to C first; JSON.parse
// reads what it refuses, so the values and the messages stay JSON.parse's.
//
// A state machine over the top level of the document, one method per state:
//   start  before the first byte: `{` (an object with keys) or `[` (the bare event array)
//   keys   between the top-level keys: a header value, or the start of "traceEvents"
//   events inside the traceEvents array: batches of whole events
//   done   after the closing bracket: only whitespace may follow
// Each method consumes what it can from `pos` and returns the new position; it sets `stalled`
// when it needs bytes that have not arrived yet.
import { fail } from "../errors.ts";
import { EventConverter, kinetoTrace, type TraceHeader } from "./kineto.ts";
import { inferscopeTrace, isInferScopeHeader } from "./inferscope-reader.ts";
import type { TapeReader } from "./json-tape.ts";
import type { Trace } from "./model.ts";

/**
 * Bytes of JSON handed to one JSON.parse call. 512 KB read a 1 M-event trace about a quarter
 * faster than 2 MB, with a fifth fewer page faults (each batch's string is a fresh allocation, and
 * smaller ones are apparently reused instead of mapped afresh); 256 KB was no better
 * (docs/benchmarks.md).
 */
export const BATCH_BYTES = 512 * 1024;

/** The end of every "this is not a trace" message: what to pass instead. */
export const PASS_A_TRACE = "pass a trace written by 'inferscope run' or torch.profiler's export_chrome_trace";

/**
 * UTF-8 bytes → string, as TextDecoder would (invalid sequences become U+FFFD). Buffer's
 * utf8Slice: 2–5× faster than TextDecoder.decode on a trace's 2 MB batches (docs/benchmarks.md).
 */
const utf8Slice = (Buffer.prototype as unknown as { utf8Slice: (this: Uint8Array, start: number, end: number) => string }).utf8Slice;
function utf8(b: Uint8Array, from: number, to: number): string {
  return utf8Slice.call(b, from, to);
}

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

function skipWs(b: Uint8Array, pos: number, end: number): number {
  while (pos < end && WS[b[pos]!]) pos++;
  return pos;
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

/** Past the whitespace and the comma after an element of "traceEvents": the next one's first byte (or "]"). */
function nextElement(b: Uint8Array, pos: number): number {
  const end = b.length;
  pos = skipWs(b, pos, end);
  return pos < end && b[pos] === COMMA ? skipWs(b, pos + 1, end) : pos;
}

/** The guessed end of a batch from pos: about BATCH_BYTES of whole events (lastCut), or -1. */
function guessCut(b: Uint8Array, pos: number): number {
  return lastCut(b, pos, Math.min(b.length, pos + BATCH_BYTES));
}

type State = "start" | "keys" | "events" | "done";

/** Feeds on byte chunks of one JSON document; see the file comment. */
export class TraceJsonParser {
  private readonly conv: EventConverter;
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
  /** Set by a state method that needs more bytes than the buffer holds. */
  private stalled = false;

  /** The native reader (json-tape.ts), or null: JSON.parse reads every batch. */
  private readonly tape: TapeReader | null;
  private readonly addEvent: (e: unknown) => void;

  constructor(
    private readonly label: string,
    opts: { maxEvents?: number; tape?: TapeReader | null } = {},
  ) {
    this.conv = new EventConverter(opts);
    this.tape = opts.tape ?? null;
    this.addEvent = (e) => this.conv.add(e);
  }

  get eventCount(): number {
    return this.conv.eventCount;
  }

  /**
   * Feed bytes the caller will hand again, from the returned index on, in front of its next ones
   * (readFileStream does, in one reused buffer): nothing is copied. The parser may write into
   * `b` (restoring it) to frame a batch as a JSON array in place.
   */
  feedInPlace(b: Uint8Array, final: boolean): number {
    if (this.rest.length > 0) throw new Error("feedInPlace after feed left bytes");
    if (this.firstBytes === null && b.length > 0) this.firstBytes = b.slice(0, 64);
    this.owned = true;
    this.seen = this.offset + b.length;
    const pos = this.run(b, final);
    this.offset += pos;
    return pos;
  }

  /** Feed the next bytes of the document (a chunk the parser does not own: it is not written to). */
  feed(chunk: Uint8Array, final: boolean): void {
    if (this.firstBytes === null && chunk.length > 0) this.firstBytes = chunk.slice(0, 64);
    let b: Uint8Array;
    this.owned = false;
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

  finish(): Trace {
    if (this.state !== "done") this.truncated(this.state === "events" ? `inside the "traceEvents" array` : "inside the top-level object");
    if (!this.sawTraceEvents) {
      const keys = Object.keys(this.header);
      const te = this.header.traceEvents;
      if (te !== undefined) this.notTrace(`"traceEvents" is a ${te === null ? "null" : typeof te}, not an array`);
      this.notTrace(`no "traceEvents" array; its keys: ${keys.slice(0, 6).map((k) => JSON.stringify(k)).join(", ") || "none"}`);
    }
    const conv = this.conv;
    if (conv.eventCount === 0) fail(`${this.label}: the trace has no events ("traceEvents" is empty); the profiler recorded nothing — check that the profiled code ran inside the profiler`);
    if (conv.contentCount === 0) {
      const why = conv.ignoredSummary();
      fail(
        `${this.label}: the trace has no usable events: ${why ? `of its ${conv.eventCount} entries, ${why}` : `none of its ${conv.eventCount} entries is a complete ("X"), instant or counter event`}; check that the profiled code ran inside the profiler`,
      );
    }
    return isInferScopeHeader(this.header) ? inferscopeTrace(conv, this.header) : kinetoTrace(conv, this.header);
  }

  /** Consume what can be consumed of b; returns the index of the first unconsumed byte. */
  private run(b: Uint8Array, final: boolean): number {
    this.stalled = false;
    try {
      return this.steps(b, 0, final);
    } finally {
      // a parse started on these bytes and not collected: the caller may reuse them now
      this.tape?.settle();
    }
  }

  private steps(b: Uint8Array, pos: number, final: boolean): number {
    while (!this.stalled) {
      switch (this.state) {
        case "start":
          pos = this.atStart(b, pos, final);
          break;
        case "keys":
          pos = this.inKeys(b, pos, final);
          break;
        case "events":
          pos = this.inEvents(b, pos, final);
          break;
        case "done":
          pos = this.atEnd(b, pos);
          break;
      }
    }
    return pos;
  }

  /** Wait for more bytes, or fail when there are none to come. */
  private stall(pos: number, final: boolean, where: string): number {
    if (final) this.truncated(where);
    this.stalled = true;
    return pos;
  }

  // ---- states ---------------------------------------------------------------------------------

  /** The first byte of the document: `{` or `[` (after a BOM and whitespace). */
  private atStart(b: Uint8Array, pos: number, final: boolean): number {
    const end = b.length;
    if (this.offset === 0 && pos === 0 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) pos = 3; // BOM
    pos = skipWs(b, pos, end);
    if (pos >= end) {
      if (final) fail(`${this.label}: empty input (only whitespace); ${PASS_A_TRACE}`);
      this.stalled = true;
      return pos;
    }
    const c = b[pos]!;
    if (c === LBRACE) {
      this.state = "keys";
      return pos + 1;
    }
    if (c === LBRACKET) {
      this.state = "events";
      this.topIsArray = true;
      this.sawTraceEvents = true;
      return pos + 1;
    }
    // A JSON scalar is JSON, but not a trace; anything else is not JSON.
    if (final && end - pos < 1 << 20) {
      try {
        const v: unknown = JSON.parse(utf8(b, pos, b.length));
        this.notTrace(`a ${v === null ? "null" : typeof v}, not an object with "traceEvents"`);
      } catch (e) {
        if ((e as Error).name === "UserError") throw e;
      }
    }
    this.notJson();
  }

  /** One key of the top-level object and its value (kept in the header), or the start of "traceEvents". */
  private inKeys(b: Uint8Array, pos: number, final: boolean): number {
    const end = b.length;
    while (pos < end && (WS[b[pos]!] || b[pos] === COMMA)) pos++;
    if (pos >= end) return this.stall(pos, final, "inside the top-level object");
    const c = b[pos]!;
    if (c === RBRACE) {
      this.state = "done";
      return pos + 1;
    }
    if (c !== QUOTE) this.invalid(pos, `expected a key or "}" in the top-level object, found "${String.fromCharCode(c)}"`);
    const keyEnd = skipString(b, pos + 1, end);
    if (keyEnd < 0) return this.stall(pos, final, "inside a key of the top-level object");
    let p = skipWs(b, keyEnd, end);
    if (p >= end) return this.stall(pos, final, "inside the top-level object");
    if (b[p] !== COLON) this.invalid(p, `expected ":" after a key of the top-level object`);
    p = skipWs(b, p + 1, end);
    if (p >= end) return this.stall(pos, final, "inside the top-level object");
    const key = this.parseJson(b, pos, keyEnd) as string;
    if (key === "traceEvents" && b[p] === LBRACKET) {
      this.sawTraceEvents = true;
      this.state = "events";
      return p + 1;
    }
    const vEnd = skipValue(b, p, end);
    // a number that reaches the end of the buffer may go on in the next chunk
    if (vEnd < 0 || (vEnd === end && !final && b[p] !== QUOTE && b[p] !== LBRACE && b[p] !== LBRACKET)) {
      return this.stall(pos, final, `inside the value of "${key}"`);
    }
    this.header[key] = this.parseJson(b, p, vEnd);
    return vEnd;
  }

  /** A batch of events: the guessed cut first, the exact scan when the guess fails. */
  private inEvents(b: Uint8Array, pos: number, final: boolean): number {
    const end = b.length;
    pos = nextElement(b, pos);
    if (pos >= end) return this.stall(pos, final, `inside the "traceEvents" array`);
    if (b[pos] === RBRACKET) {
      this.state = this.topIsArray ? "done" : "keys";
      return pos + 1;
    }
    const cut = guessCut(b, pos);
    if (cut > pos && this.tryBatch(b, pos, cut)) {
      if (pos + BATCH_BYTES >= end && !final) this.stalled = true; // the rest is a partial event: wait for more
      return cut;
    }
    return this.exactBatch(b, pos, final);
  }

  /** After the document: whitespace only. */
  private atEnd(b: Uint8Array, pos: number): number {
    pos = skipWs(b, pos, b.length);
    if (pos < b.length) this.invalid(pos, `unexpected data after the end of the JSON document`);
    this.stalled = true;
    return pos;
  }

  // ---- batches --------------------------------------------------------------------------------

  /** Parse b[from, cut) as events if it is whole JSON; false when the guessed cut was wrong. */
  private tryBatch(b: Uint8Array, from: number, cut: number): boolean {
    // the native reader refuses a batch cut inside a string or an object, as JSON.parse would
    if (this.tape) {
      const n = this.tape.parse(b, from, cut);
      if (n < 0) return false;
      // C parses the next batch (as inEvents will guess it) while this one is walked
      const next = this.nextGuess(b, cut);
      if (next) this.tape.prefetch(b, next[0], next[1]);
      this.tape.walk(n, this.addEvent);
      return true;
    }
    let arr: unknown[];
    if (this.owned && from > 0) {
      // frame the batch as "[…]" in place: no second copy of 8 MB of text
      const before = b[from - 1]!;
      const after = b[cut]!;
      b[from - 1] = LBRACKET;
      b[cut] = RBRACKET;
      try {
        arr = JSON.parse(utf8(b, from - 1, cut + 1)) as unknown[];
      } catch {
        return false; // the guess was wrong (or the JSON is bad): the caller scans exactly
      } finally {
        b[from - 1] = before;
        b[cut] = after;
      }
    } else {
      try {
        arr = JSON.parse(`[${utf8(b, from, cut)}]`) as unknown[];
      } catch {
        return false;
      }
    }
    this.conv.addAll(arr);
    return true;
  }

  /** The batch inEvents will try after `pos` (the same guess), or null when it will not guess one. */
  private nextGuess(b: Uint8Array, pos: number): [number, number] | null {
    pos = nextElement(b, pos);
    if (pos >= b.length || b[pos] === RBRACKET) return null;
    const cut = guessCut(b, pos);
    return cut > pos ? [pos, cut] : null;
  }

  /** Walk whole elements from pos (up to about BATCH_BYTES of them) and parse them as one batch. */
  private exactBatch(b: Uint8Array, pos: number, final: boolean): number {
    const end = b.length;
    let p = pos;
    let last = pos;
    let closed = false;
    for (;;) {
      p = skipWs(b, p, end);
      if (p >= end) break;
      const c = b[p]!;
      if (c === RBRACKET) {
        closed = true;
        break;
      }
      if (p !== pos) {
        if (c !== COMMA) this.invalid(p, `expected "," or "]" between events in "traceEvents", found "${String.fromCharCode(c)}"`);
        p = skipWs(b, p + 1, end);
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
      return last;
    }
    if (closed) return p;
    return this.stall(pos, final, `inside the "traceEvents" array`);
  }

  private addBatch(b: Uint8Array, from: number, to: number): void {
    if (this.tape?.read(b, from, to, this.addEvent)) return;
    const text = utf8(b, from, to);
    let arr: unknown[];
    try {
      arr = JSON.parse(`[${text}]`) as unknown[];
    } catch (e) {
      this.invalid(from, `in "traceEvents": ${(e as Error).message.replace(/^JSON Parse error: /, "")}`);
    }
    this.conv.addAll(arr);
  }

  private parseJson(b: Uint8Array, from: number, to: number): unknown {
    try {
      return JSON.parse(utf8(b, from, to));
    } catch (e) {
      this.invalid(from, (e as Error).message.replace(/^JSON Parse error: /, ""));
    }
  }

  // ---- errors ---------------------------------------------------------------------------------

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
}
