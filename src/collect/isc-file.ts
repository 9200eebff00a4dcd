// One collector file in the ISC1 record format (described at the top of
// src/tracer/inferscope/_tracer.py): python-<pid>.isc from the Python tracer and ops-<pid>.isc
// from the torch-op collector (ffi/itt.c). Records: tables (JSON), chunks of one thread's
// (word, timestamp) int64 pairs with an optional side table (JSON), and an end record (JSON).
// This only frames and decodes them; what the words mean is the caller's.

const MAGIC = 0x31435349; // "ISC1" little endian
/** A record's kind is in the low KIND_BITS of its word; the rest is an id. */
export const KIND_BITS = 3;
export const REC_TABLES = 1;
export const REC_CHUNK = 2;
export const REC_END = 3;

export interface IscChunk {
  tid: number;
  /** Byte offset of the first word in the file, and the number of int64 words. */
  off: number;
  words: number;
  side: unknown[];
}

export interface IscFile {
  bytes: Uint8Array;
  view: DataView;
  tables: Record<string, unknown>[];
  chunks: IscChunk[];
  end: Record<string, unknown> | null;
  /** Bytes at the end that are not a whole record (the process died mid-write). */
  cutOff: number;
  /** Where a bad record header stopped the reading, or -1. */
  badHeaderAt: number;
}

export function readIscFile(bytes: Uint8Array): IscFile {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = new TextDecoder();
  const out: IscFile = { bytes, view, tables: [], chunks: [], end: null, cutOff: 0, badHeaderAt: -1 };
  let off = 0;
  while (off + 16 <= bytes.length) {
    if (view.getUint32(off, true) !== MAGIC) {
      out.badHeaderAt = off;
      out.cutOff = bytes.length - off;
      return out;
    }
    const type = view.getUint32(off + 4, true);
    const len = Number(view.getBigUint64(off + 8, true));
    const p = off + 16;
    if (p + len > bytes.length) break;
    off = p + len;
    if (type === REC_TABLES) {
      out.tables.push(JSON.parse(text.decode(bytes.subarray(p, p + len))) as Record<string, unknown>);
    } else if (type === REC_CHUNK) {
      const tid = view.getInt32(p, true);
      const words = view.getUint32(p + 4, true);
      const sideLen = view.getUint32(p + 8, true);
      const sideOff = p + 16 + words * 8;
      const side = sideLen ? (JSON.parse(text.decode(bytes.subarray(sideOff, sideOff + sideLen))) as unknown[]) : [];
      out.chunks.push({ tid, off: p + 16, words, side });
    } else if (type === REC_END) {
      out.end = JSON.parse(text.decode(bytes.subarray(p, p + len))) as Record<string, unknown>;
    }
  }
  if (off < bytes.length) out.cutOff = bytes.length - off;
  return out;
}

/** The low 3 bits of a word (its kind) and the rest (an id), from the little-endian int64 at `o`. */
export function wordAt(view: DataView, o: number): { kind: number; id: number } {
  const lo = view.getUint32(o, true);
  const hi = view.getInt32(o + 4, true);
  return { kind: lo & ((1 << KIND_BITS) - 1), id: hi * 2 ** (32 - KIND_BITS) + (lo >>> KIND_BITS) };
}

export function tsAt(view: DataView, o: number): number {
  return view.getUint32(o + 8, true) + view.getInt32(o + 12, true) * 4294967296;
}
