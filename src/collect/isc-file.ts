// One collector file in the ISC1 record format (described at the top of
// src/tracer/inferscope/_tracer.py): python-<pid>.isc from the Python tracer and ops-<pid>.isc
// from the torch-op collector (ffi/itt.c). Records: tables (JSON), chunks of one thread's
// (word, timestamp) int64 pairs with an optional side table (JSON), and an end record (JSON).
// This only frames and decodes them; what the words mean is the caller's.
//
// A recording may be gigabytes: the file is read through a Source, a piece at a time. The first
// pass (readIscFile) reads the headers, tables and end record and only locates the chunks; their
// words are read one chunk at a time by whoever walks them (chunkWords).
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

const MAGIC = 0x31435349; // "ISC1" little endian
/** A record's kind is in the low KIND_BITS of its word; the rest is an id. */
export const KIND_BITS = 3;
export const REC_TABLES = 1;
export const REC_CHUNK = 2;
export const REC_END = 3;
/** The Python tracer's attribute record (no timestamp of its own): skipped when a chunk's first time is read. */
const K_ATTRS = 5;

/** Where the records are read from: a file, a piece at a time, or memory. A read's bytes are valid until the next read. */
export interface Source {
  size: number;
  read(off: number, len: number): Uint8Array;
}

export function memorySource(bytes: Uint8Array): Source {
  return { size: bytes.length, read: (off, len) => bytes.subarray(off, off + len) };
}

/** Calls f with the file as a Source (one growing buffer, ≥ 64 KiB), and closes it. */
export function withFileSource<T>(path: string, f: (src: Source) => T): T {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    let buf = new Uint8Array(1 << 16);
    return f({
      size,
      read(off, len) {
        if (len > buf.length) buf = new Uint8Array(Math.max(len, buf.length * 2));
        const n = readSync(fd, buf, 0, len, off);
        return buf.subarray(0, n);
      },
    });
  } finally {
    closeSync(fd);
  }
}

export interface IscChunk {
  tid: number;
  /** Byte offset of the first word in the file, and the number of int64 words. */
  off: number;
  words: number;
  /** The side table (JSON) after the words: offset and length in bytes. */
  sideOff: number;
  sideLen: number;
  /** The chunk's first timestamp (attribute records carry none), for ordering; 0 when empty. */
  first: number;
}

export interface IscFile {
  src: Source;
  tables: Record<string, unknown>[];
  /** Per thread in time order (a thread's chunks can reach the file out of order: see below). */
  chunks: IscChunk[];
  end: Record<string, unknown> | null;
  /** Bytes at the end that are not a whole record (the process died mid-write). */
  cutOff: number;
  /** Where a bad record header stopped the reading, or -1. */
  badHeaderAt: number;
}

export const viewOf = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

export function readIscFile(input: Source | Uint8Array): IscFile {
  const src = input instanceof Uint8Array ? memorySource(input) : input;
  const text = new TextDecoder();
  const out: IscFile = { src, tables: [], chunks: [], end: null, cutOff: 0, badHeaderAt: -1 };
  let off = 0;
  while (off + 16 <= src.size) {
    const hv = viewOf(src.read(off, 16));
    if (hv.getUint32(0, true) !== MAGIC) {
      out.badHeaderAt = off;
      out.cutOff = src.size - off;
      break;
    }
    const type = hv.getUint32(4, true);
    const len = Number(hv.getBigUint64(8, true));
    const p = off + 16;
    if (p + len > src.size) break;
    off = p + len;
    if (type === REC_TABLES) {
      out.tables.push(JSON.parse(text.decode(src.read(p, len))) as Record<string, unknown>);
    } else if (type === REC_CHUNK) {
      // the chunk header and its first few pairs (for its first timestamp)
      const head = src.read(p, Math.min(len, 16 + 64));
      const cv = viewOf(head);
      const words = cv.getUint32(4, true);
      out.chunks.push({ tid: cv.getInt32(0, true), off: p + 16, words, sideOff: p + 16 + words * 8, sideLen: cv.getUint32(8, true), first: chunkStart(cv, 16, Math.min(words, (head.length - 16) / 8)) });
    } else if (type === REC_END) {
      out.end = JSON.parse(text.decode(src.read(p, len))) as Record<string, unknown>;
    }
  }
  if (out.badHeaderAt < 0 && off < src.size) out.cutOff = src.size - off;
  // A thread's chunks in time order: the periodic flush (another thread) can write a thread's
  // newest records while that thread is still handing over its previous full chunk.
  out.chunks.sort((a, b) => a.tid - b.tid || a.first - b.first);
  return out;
}

/** A chunk's side table (attribute objects, indexed by the K_ATTRS records' ids). */
export function chunkSide(f: IscFile, c: IscChunk): unknown[] {
  return c.sideLen ? (JSON.parse(new TextDecoder().decode(f.src.read(c.sideOff, c.sideLen))) as unknown[]) : [];
}

/** A chunk's words (valid until the next read of the file). */
export function chunkWords(f: IscFile, c: IscChunk): DataView {
  return viewOf(f.src.read(c.off, c.words * 8));
}

function chunkStart(dv: DataView, off: number, words: number): number {
  for (let i = 0, o = off; i + 1 < words; i += 2, o += 16) {
    if ((dv.getUint32(o, true) & ((1 << KIND_BITS) - 1)) === K_ATTRS) continue;
    return tsAt(dv, o);
  }
  return 0;
}

export function tsAt(view: DataView, o: number): number {
  return view.getUint32(o + 8, true) + view.getInt32(o + 12, true) * 4294967296;
}
