// The native JSON reader of `analyze` (ffi/json_tape.c): a batch of trace events goes to C as
// bytes and comes back as a tape of doubles, which this turns into the very values JSON.parse
// would give. It skips the decoding of every batch into a fresh string and the parse of every
// repeated name: C interns the strings, and each one is decoded here once (docs/benchmarks.md).
//
// Whatever C refuses (bad JSON, deep nesting) the caller parses with JSON.parse, so values and
// error messages stay JSON.parse's. Without the shim (it cannot be extracted or loaded) the reader
// is simply absent and every batch goes through JSON.parse.
import { dlopen, type Library, type Pointer } from "bun:ffi";
import { log } from "../log.ts";

const symbols = {
  is_tape_new: { args: [], returns: "ptr" },
  is_tape_free: { args: ["ptr"], returns: "void" },
  is_tape_parse: { args: ["ptr", "ptr", "i64", "ptr", "i64"], returns: "i64" },
  is_tape_start: { args: ["ptr", "ptr", "i64", "ptr", "i64"], returns: "i32" },
  is_tape_join: { args: ["ptr"], returns: "i64" },
  is_tape_forget: { args: ["ptr"], returns: "void" },
  is_tape_shape: { args: ["ptr", "u32", "ptr", "i32"], returns: "i32" },
  is_tape_string: { args: ["ptr", "u32", "ptr", "i64"], returns: "i64" },
  is_tape_fields: { args: ["ptr", "ptr", "i64", "ptr", "i64", "ptr", "i64"], returns: "i32" },
} as const;

type TapeLibrary = Library<typeof symbols>;

// Tags of the tape (ffi/json_tape.c): low 4 bits of a slot; a count or string id above them.
const T_NUM = 0;
const T_STR = 1;
const T_STR_NEW = 2;
const T_STR_RAW = 3;
const T_STR_ESC = 4;
const T_TRUE = 5;
const T_FALSE = 6;
const T_NULL = 7;
const T_OBJ = 8;
const T_ARR = 9;
const T_NUM_RAW = 10;
const T_FLOW = 11;
const T_SHAPED = 12;
const T_EVENT = 13;
/** ffi/json_tape.c's TOP_FIELDS: an EVENT's fields 0–6; argument keys follow. */
const TOP_FIELDS = ["ph", "cat", "name", "ts", "dur", "pid", "tid"] as const;

/**
 * Complete events of these categories come field by field, into one reused object (no object per
 * event): the converter reads the fields named and keeps neither the event nor its args.
 */
export interface EventFields {
  /** Categories of "X" events read field by field. */
  cats: readonly string[];
  /** The argument keys the converter reads (others are skipped). */
  args: readonly string[];
  /** Argument keys whose presence sends the event as a whole object (the converter keeps its args). */
  whole: readonly string[];
}

/** The reused event: its fields set from the tape, the rest undefined, as absent keys read. */
interface FieldEvent {
  ph: string;
  args: Record<string, unknown>;
  [k: string]: unknown;
}

/** Bigger batches go to JSON.parse. */
const MAX_BATCH_BYTES = 16 << 20;
/** ffi/json_tape.c's MAX_SHAPE_KEYS */
const MAX_SHAPE_KEYS = 64;

/** Builds one object of a shape, its values read from the tape in key order. */
type Maker = (r: TapeReader) => unknown;

/** What a flow event ("ph" s, f or t) becomes: the converter reads nothing else of it. */
export const FLOW_EVENT: Readonly<Record<string, unknown>> = Object.freeze({ ph: "s" });

const utf8Slice = (Buffer.prototype as unknown as { utf8Slice: (this: Uint8Array, start: number, end: number) => string }).utf8Slice;

/** One reader per trace: it holds the strings seen so far. */
export class TapeReader {
  private handle: Pointer | null;
  /** At most one slot per byte of JSON (ffi/json_tape.c); reused, so sized for the framer's batches at once (fresh pages are slow to fault in). */
  private tape = new Float64Array(1 << 20);
  /** The tape C's thread writes the next batch into (prefetch), swapped with `tape` when collected. */
  private spare = new Float64Array(0);
  /** The batch being parsed on C's thread: its bytes (kept alive and untouched until collected) and range. */
  private pending: { b: Uint8Array; from: number; to: number } | null = null;
  private readonly strings: string[] = [];
  private readonly makers: Maker[] = [];
  /** Batches read here, and batches refused (JSON.parse read them). */
  taken = 0;
  refused = 0;
  /** The batch being walked and the next slot. */
  private b: Uint8Array = new Uint8Array(0);
  private i = 0;

  private readonly event: FieldEvent | null = null;
  private readonly setField: ((e: FieldEvent, field: number, v: unknown) => void) | null = null;
  private readonly clearEvent: ((e: FieldEvent) => void) | null = null;

  constructor(
    private readonly lib: TapeLibrary,
    fields?: EventFields,
  ) {
    this.handle = lib.symbols.is_tape_new() as Pointer | null;
    if (!this.handle) throw new Error("is_tape_new failed");
    if (!fields) return;
    const args = [...new Set(fields.args)];
    const list = (xs: readonly string[]) => Buffer.from(xs.join("\0"));
    const [a, c, w] = [list(args), list(fields.cats), list(fields.whole)];
    if (lib.symbols.is_tape_fields(this.handle, a, a.length, c, c.length, w, w.length) !== 0) throw new Error("is_tape_fields failed");
    // generated once: a switch of plain property stores, not a store by computed key per field
    const all = [...TOP_FIELDS, ...args];
    const target = (f: number) => (f < TOP_FIELDS.length ? `e[${JSON.stringify(all[f])}]` : `e.args[${JSON.stringify(all[f])}]`);
    this.setField = new Function("e", "f", "v", `switch (f) {${all.map((_, f) => `case ${f}: ${target(f)} = v; return;`).join(" ")}}`) as (e: FieldEvent, f: number, v: unknown) => void;
    this.clearEvent = new Function("e", all.slice(1).map((_, k) => `${target(k + 1)} = undefined;`).join(" ")) as (e: FieldEvent) => void;
    const undef = (keys: readonly string[]) => keys.map((k) => `${JSON.stringify(k)}: undefined`).join(", ");
    this.event = new Function(`return {${undef(TOP_FIELDS)}, args: {${undef(args)}}};`)() as FieldEvent;
    this.event.ph = "X";
  }

  /**
   * The values of b[from, to) (`v, v, …`) handed to `add` one by one, or false (nothing handed)
   * when C does not take these bytes: the caller parses them with JSON.parse instead.
   */
  read(b: Uint8Array, from: number, to: number, add: (v: unknown) => void): boolean {
    const n = this.parse(b, from, to);
    if (n < 0) return false;
    this.walk(n, add);
    return true;
  }

  /**
   * Parse b[from, to) onto the tape (collecting the prefetched parse when it is of these bytes):
   * the slots to walk, or -1 when C does not take them.
   */
  parse(b: Uint8Array, from: number, to: number): number {
    // a batch this big is one huge event: JSON.parse takes it (its tape would be 8 bytes a byte)
    if (this.handle === null || to - from > MAX_BATCH_BYTES) return -1;
    const bytes = b.subarray(from, to);
    let n = -2;
    const p = this.pending;
    if (p !== null && p.b === b && p.from === from && p.to === to) {
      this.pending = null;
      n = Number(this.lib.symbols.is_tape_join(this.handle));
      if (n >= 0) [this.tape, this.spare] = [this.spare, this.tape];
    } else {
      this.settle(); // parsed ahead for another cut: forgotten
    }
    // not prefetched, or its tape was too small (-2): parse here
    while (n === -2) {
      if (this.tape.length < bytes.length + 16) this.tape = new Float64Array(Math.max(bytes.length + 16, this.tape.length * 2));
      n = Number(this.lib.symbols.is_tape_parse(this.handle, bytes, bytes.length, this.tape, this.tape.length));
      if (n !== -2) break;
      if (this.tape.length > 4 * MAX_BATCH_BYTES) return -1;
      this.tape = new Float64Array(this.tape.length * 2);
    }
    if (n < 0) {
      this.refused++;
      return -1;
    }
    this.taken++;
    this.b = bytes;
    return n;
  }

  /**
   * Start parsing b[from, to) on C's thread, for the next parse() of the same bytes to collect:
   * the caller walks the batch before meanwhile. `b` must not change until then.
   */
  prefetch(b: Uint8Array, from: number, to: number): void {
    if (this.handle === null || to - from > MAX_BATCH_BYTES) return;
    this.settle();
    if (this.spare.length < to - from + 16) this.spare = new Float64Array(Math.max(to - from + 16, this.tape.length));
    if (this.lib.symbols.is_tape_start(this.handle, b.subarray(from, to), to - from, this.spare, this.spare.length) === 0) this.pending = { b, from, to };
  }

  /** Forget a prefetched parse not collected (before the caller's bytes change). */
  settle(): void {
    if (this.pending === null || this.handle === null) return;
    this.pending = null;
    this.lib.symbols.is_tape_forget(this.handle);
  }

  /** Hand the `n` slots of the tape parse() filled to `add`, value by value. */
  walk(n: number, add: (v: unknown) => void): void {
    this.i = 0;
    try {
      while (this.i < n) add(this.next());
    } finally {
      this.b = new Uint8Array(0);
    }
  }

  /**
   * The function that builds the objects of a shape: an object literal of its keys in order, each
   * value the next on the tape. Same result as JSON.parse: a later duplicate key overwrites the
   * value in the first one's place, and "__proto__" is an own property (a computed key; a
   * literal one would set the prototype).
   */
  private maker(shape: number): Maker {
    const ids = new Uint32Array(MAX_SHAPE_KEYS);
    const n = this.lib.symbols.is_tape_shape(this.handle, shape, ids, ids.length);
    if (n < 0) throw new Error(`json tape: no shape ${shape}`);
    const props = Array.from(ids.subarray(0, n), (id) => {
      const key = this.stringOf(id);
      return `${key === "__proto__" ? `["__proto__"]` : JSON.stringify(key)}: r.next()`;
    });
    const make = new Function("r", `return {${props.join(", ")}};`) as Maker;
    this.makers[shape] = make;
    return make;
  }

  /** String id, fetched from C when the tape has not brought it yet (a key of a shape). */
  private stringOf(id: number): string {
    const known = this.strings[id];
    if (known !== undefined) return known;
    let buf = new Uint8Array(256);
    let len = Number(this.lib.symbols.is_tape_string(this.handle, id, buf, buf.length));
    if (len > buf.length) {
      buf = new Uint8Array(len);
      len = Number(this.lib.symbols.is_tape_string(this.handle, id, buf, buf.length));
    }
    if (len < 0) throw new Error(`json tape: no string ${id}`);
    const s = utf8Slice.call(buf, 0, len);
    this.strings[id] = s;
    return s;
  }

  close(): void {
    // is_tape_free stops C's thread (waiting for a parse in flight, which writes into `spare`)
    if (this.handle !== null) this.lib.symbols.is_tape_free(this.handle);
    this.handle = null;
    this.pending = null;
  }

  private text(): string {
    const off = this.tape[this.i]!;
    const len = this.tape[this.i + 1]!;
    this.i += 2;
    return utf8Slice.call(this.b, off, off + len);
  }

  /** The next value on the tape (the shapes' compiled functions call it). */
  next(): unknown {
    const slot = this.tape[this.i++]!;
    const tag = slot & 15;
    switch (tag) {
      case T_NUM:
        return this.tape[this.i++]!;
      case T_STR:
        return this.strings[slot >>> 4]!;
      case T_STR_NEW: {
        const s = this.text();
        this.strings[slot >>> 4] = s;
        return s;
      }
      case T_STR_RAW:
        return this.text();
      case T_STR_ESC:
        return JSON.parse(this.text()) as string;
      case T_TRUE:
        return true;
      case T_FALSE:
        return false;
      case T_NULL:
        return null;
      case T_OBJ: {
        const o: Record<string, unknown> = {};
        for (let k = slot >>> 4; k > 0; k--) {
          const key = this.next() as string;
          const v = this.next();
          // JSON.parse makes "__proto__" an own property; an assignment would set the prototype
          if (key === "__proto__") Object.defineProperty(o, key, { value: v, writable: true, enumerable: true, configurable: true });
          else o[key] = v;
        }
        return o;
      }
      case T_ARR: {
        const a: unknown[] = [];
        for (let k = slot >>> 4; k > 0; k--) a.push(this.next());
        return a;
      }
      case T_NUM_RAW:
        return Number(this.text());
      case T_FLOW:
        return FLOW_EVENT;
      case T_SHAPED:
        return (this.makers[slot >>> 4] ?? this.maker(slot >>> 4))(this);
      case T_EVENT: {
        // only at the top level: the converter is done with the previous event
        const e = this.event!;
        this.clearEvent!(e);
        const tape = this.tape;
        for (let k = slot >>> 4; k > 0; k--) {
          const f = tape[this.i++]!;
          // numbers and known strings inline: most fields are one of them
          const v = tape[this.i]!;
          if (v === T_NUM) {
            this.setField!(e, f, tape[this.i + 1]!);
            this.i += 2;
          } else if ((v & 15) === T_STR) {
            this.setField!(e, f, this.strings[v >>> 4]!);
            this.i++;
          } else {
            this.setField!(e, f, this.next());
          }
        }
        return e;
      }
      default:
        throw new Error(`json tape: unknown tag ${tag}`);
    }
  }
}

let lib: TapeLibrary | null | undefined;

/** The shim's reader functions, or null when the shim cannot be loaded (logged at debug level). */
export async function tapeLibrary(): Promise<TapeLibrary | null> {
  if (lib !== undefined) return lib;
  try {
    const { extractRuntime } = await import("../collect/extract.ts");
    const rt = await extractRuntime();
    lib = dlopen(rt.shimPath, symbols);
  } catch (e) {
    log.debug(`the native JSON reader is not available (${(e as Error).message}): reading with JSON.parse`);
    lib = null;
  }
  return lib;
}

/** The library when it was loaded already (parseTrace is synchronous). */
export function loadedTapeLibrary(): TapeLibrary | null {
  return lib ?? null;
}

/** A reader for one trace, or null (JSON.parse then reads every batch). */
export function newTapeReader(l: TapeLibrary | null, fields?: EventFields): TapeReader | null {
  if (!l) return null;
  try {
    return new TapeReader(l, fields);
  } catch {
    return null;
  }
}
