// Open a trace (a file, .json or .json.gz, or "-" for stdin) and feed its bytes to the streaming
// JSON framer (json-framer.ts), which detects the format and builds the event model. Every input
// a user can get wrong ends in one UserError line that names the file and what is wrong.
//
// The JSON is streamed whatever the size, so that a trace too big for one JavaScript string
// (10 M Kineto events are 2.2 GB; a string holds at most 2^31 − 1 characters) still reads in
// bounded memory.
import { constants as fsConstants } from "node:fs";
import { open, stat } from "node:fs/promises";
import { createGunzip } from "node:zlib";
import { showPath } from "../core/raw-path.ts";
import { grown } from "../core/typed-arrays.ts";
import { fail, ioProblem } from "../errors.ts";
import { log } from "../log.ts";
import { BATCH_BYTES, PASS_A_TRACE, TraceJsonParser } from "./json-framer.ts";
import { loadedTapeLibrary, newTapeReader, tapeLibrary, type TapeReader } from "./json-tape.ts";
import { EVENT_FIELDS } from "./kineto.ts";
import type { Trace } from "./model.ts";

/** Inputs above this size log progress on stderr. */
export const PROGRESS_MIN_BYTES = 50 * 1024 * 1024;

export interface ReadOptions {
  /** Called with (bytes read so far, total bytes or null when unknown: stdin, gzip). */
  onProgress?: (done: number, total: number | null) => void;
  /** Log a progress line on stderr for big inputs (default true). */
  progress?: boolean;
  /** Where progress lines go (default: log.info), how often at most, from what size (for tests). */
  progressLine?: (line: string) => void;
  progressEveryMs?: number;
  progressMinBytes?: number;
  /** Events kept in memory (the config key maxEvents); a bigger trace is analyzed over its first part (window.ts). */
  maxEvents?: number;
  /** "js": JSON.parse reads every batch, even where the native reader (json-tape.ts) could (tests compare the two). */
  reader?: "native" | "js";
}

/** ReadOptions with the reader of this trace resolved. */
interface ReadWith extends ReadOptions {
  tape: TapeReader | null;
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

/** The one line for a file that cannot be opened or read. */
function cannotRead(label: string, e: unknown): never {
  fail(`${label}: ${describeErrno(e) ?? `cannot read it (${(e as Error).message})`}`);
}

/**
 * Read a trace file ("-" = stdin) into the model. Throws UserError on bad input. A Buffer path is
 * a file name that is not valid UTF-8 (src/cli/raw-argv.ts). A FIFO or a device (process
 * substitution: `analyze <(zcat t.json.gz)`) is streamed like stdin.
 */
export async function readTrace(path: string | Buffer, options: ReadOptions = {}): Promise<Trace> {
  const tape = options.reader === "js" ? null : newTapeReader(await tapeLibrary(), EVENT_FIELDS);
  try {
    return await readWith(path, { ...options, tape });
  } finally {
    tape?.close();
  }
}

async function readWith(path: string | Buffer, opts: ReadWith): Promise<Trace> {
  if (path === "-") return readStream("<stdin>", stdinChunks(), null, opts, { sniffGzip: true });
  const label = showPath(path);
  let size: number;
  try {
    const st = await stat(path);
    if (st.isDirectory()) fail(`${label}: is a directory, not a trace file; pass a .json or .json.gz trace`);
    if (st.isFIFO() || st.isCharacterDevice() || st.isSocket()) return readStream(label, streamChunks(label, path), null, opts, { sniffGzip: true });
    if (!st.isFile()) fail(`${label}: not a regular file; pass a .json or .json.gz trace`);
    size = st.size;
  } catch (e) {
    if ((e as Error).name === "UserError") throw e;
    cannotRead(label, e);
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
    cannotRead(label, e);
  }
  if (size === 0) fail(`${label}: empty file; ${PASS_A_TRACE}`);
  const gz = head.length === 2 && head[0] === GZIP_MAGIC_0 && head[1] === GZIP_MAGIC_1;
  if (!gz && /\.gz$/i.test(label)) {
    fail(`${label}: not gzip data although the name ends in .gz; decompress it properly or rename it to .json`);
  }
  if (wantLogFor(opts, size)) log.info(`reading ${label} (${(size / 1048576).toFixed(0)} MB${gz ? " compressed" : ""})`);
  if (gz) {
    // through a handle: node:fs's createReadStream takes no Buffer path (a name not valid UTF-8)
    let fh;
    try {
      fh = await open(path, fsConstants.O_RDONLY);
    } catch (e) {
      cannotRead(label, e);
    }
    const source = fh.createReadStream({ highWaterMark: GUNZIP_CHUNK_BYTES });
    const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES });
    let compressedRead = 0;
    source.on("data", (c: Buffer | string) => {
      compressedRead += c.length;
    });
    source.pipe(gunzip);
    source.on("error", (e) => gunzip.destroy(e));
    return readStream(label, gunzipChunks(label, gunzip), size, opts, { compressedRead: () => compressedRead });
  }
  return readFileStream(label, path, size, opts);
}

/**
 * Decompressed bytes per chunk of a .gz (and the compressed bytes read at a time): zlib's default
 * 16 KB made the 220 MB of a 1 M-event trace 13 783 chunks, each a turn of the stream's machinery;
 * 1 MB ones decompress it in less than half the time and CPU (docs/benchmarks.md).
 */
const GUNZIP_CHUNK_BYTES = 1 << 20;

/**
 * Bytes read from a plain file at a time: many batches, so that C parses each next one on its
 * thread while JavaScript walks the one before (json-tape.ts prefetch); the overlap stops at the
 * end of what was read.
 */
const READ_BYTES = 16 * BATCH_BYTES;

/**
 * A plain file, read in READ_BYTES pieces into one buffer the parser may write into, reused
 * for every piece: the unconsumed tail (a partial event) moves to its front and the next piece is
 * read after it. Allocating a fresh buffer per piece cost measurable time in allocation and
 * garbage collection with a million events alive (docs/benchmarks.md).
 */
async function readFileStream(label: string, path: string | Buffer, size: number, opts: ReadWith): Promise<Trace> {
  const parser = new TraceJsonParser(label, opts);
  const progress = progressReporter(label, size, opts, () => parser.eventCount);
  let fh;
  try {
    fh = await open(path, fsConstants.O_RDONLY);
  } catch (e) {
    cannotRead(label, e);
  }
  try {
    let read = 0;
    let buf = new Uint8Array(READ_BYTES + BATCH_BYTES);
    let held = 0; // bytes at the front of buf not consumed yet
    for (;;) {
      if (buf.length - held < READ_BYTES) {
        // one event longer than a batch: grow (rare)
        buf = grown(buf.subarray(0, held), held + READ_BYTES + BATCH_BYTES);
      }
      let n: number;
      try {
        ({ bytesRead: n } = await fh.read(buf, held, READ_BYTES, null));
      } catch (e) {
        cannotRead(label, e);
      }
      read += n;
      const final = n === 0 || read >= size;
      const len = held + n;
      const used = parser.feedInPlace(buf.subarray(0, len), final);
      buf.copyWithin(0, used, len);
      held = len - used;
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
export function parseTrace(input: string | Uint8Array, label = "<memory>", reader: "native" | "js" = "native"): Trace {
  const bytes = typeof input === "string" ? new TextEncoder().encode(input) : input;
  if (bytes.length === 0) fail(`${label}: empty file; ${PASS_A_TRACE}`);
  // synchronous: the native reader only once readTrace has loaded it
  const tape = reader === "js" ? null : newTapeReader(loadedTapeLibrary(), EVENT_FIELDS);
  try {
    const p = new TraceJsonParser(label, { tape });
    p.feed(bytes, true);
    return p.finish();
  } finally {
    tape?.close();
  }
}

async function* gunzipChunks(label: string, gunzip: ReturnType<typeof createGunzip>): AsyncGenerator<Uint8Array> {
  try {
    for await (const c of gunzip) yield c as Uint8Array;
  } catch (e) {
    gzipError(label, e);
  }
}

async function* stdinChunks(): AsyncGenerator<Uint8Array> {
  try {
    // Bun.stdin.stream() yields Uint8Array chunks
    for await (const c of Bun.stdin.stream()) yield c as Uint8Array;
  } catch (e) {
    // stdin redirected from a directory, or a descriptor open for writing only
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EISDIR") fail("<stdin>: is a directory; pipe a trace in, or pass its path instead of -");
    if (code === "EBADF") fail("<stdin>: not open for reading; pipe a trace in, or pass its path instead of -");
    fail(`<stdin>: cannot read it (${ioProblem(e)}); pipe a trace in, or pass its path instead of -`);
  }
}

/** A FIFO or device, read as it comes (its size is unknown). */
async function* streamChunks(label: string, path: string | Buffer): AsyncGenerator<Uint8Array> {
  try {
    const fh = await open(path, fsConstants.O_RDONLY); // a handle: a Buffer path works too
    for await (const c of fh.createReadStream()) yield c as Uint8Array;
  } catch (e) {
    cannotRead(label, e);
  }
}

/**
 * A function to call with the bytes of JSON read so far: onProgress, and a stderr line at most
 * every 5 s for big inputs. For gzip, `compressed` gives the bytes of the file read: the
 * percentage comes from it, the size shown is the decompressed JSON (a 21 MB .json.gz may hold
 * 6 GB of JSON: judged by its compressed size it showed no progress at all).
 */
function progressReporter(label: string, total: number | null, opts: ReadOptions, events: () => number, compressed?: () => number): (done: number) => void {
  const wantLog = opts.progress !== false;
  const every = opts.progressEveryMs ?? 5000;
  const line = opts.progressLine ?? ((l: string) => log.info(l));
  let nextLogAt = performance.now() + every;
  const started = performance.now();
  return (done: number) => {
    const fileBytes = compressed ? compressed() : done;
    opts.onProgress?.(fileBytes, total);
    if (!wantLog || Math.max(total ?? 0, done) < (opts.progressMinBytes ?? PROGRESS_MIN_BYTES)) return;
    const now = performance.now();
    if (now < nextLogAt) return;
    nextLogAt = now + every;
    const mb = (done / 1048576).toFixed(0);
    const pct = total ? ` (${Math.min(100, Math.round((fileBytes / total) * 100))} % of the ${compressed ? "compressed " : ""}file)` : "";
    line(`reading ${label}: ${mb} MB of JSON${pct}, ${events().toLocaleString("en-US")} events, ${((now - started) / 1000).toFixed(1)} s`);
  };
}

async function readStream(
  label: string,
  chunks: AsyncIterable<Uint8Array>,
  total: number | null,
  opts: ReadWith,
  how: { sniffGzip?: boolean; compressedRead?: () => number } = {},
): Promise<Trace> {
  const parser = new TraceJsonParser(label, opts);
  // one reused buffer, as readFileStream's: the chunks are copied in, the unconsumed tail moves to the front
  let buf = new Uint8Array(READ_BYTES + BATCH_BYTES);
  let held = 0;
  let read = 0;
  let first = true;
  let gzipped: boolean | null = null;
  const progress = progressReporter(label, total, opts, () => parser.eventCount, how.compressedRead);
  const report = () => progress(read);
  for await (const chunk of chunks) {
    if (chunk.length === 0) continue;
    if (first && how.sniffGzip) {
      first = false;
      gzipped = chunk[0] === GZIP_MAGIC_0 && chunk[1] === GZIP_MAGIC_1;
      if (gzipped) {
        // the stream carried gzip: decompress the rest of it through zlib
        return readStream(label, gunzipChunks(label, pipeGzip(chunk, chunks)), null, opts);
      }
    }
    first = false;
    read += chunk.length;
    if (held + chunk.length > buf.length) buf = grown(buf.subarray(0, held), Math.max(2 * buf.length, held + chunk.length));
    buf.set(chunk, held);
    held += chunk.length;
    if (held >= READ_BYTES) {
      const used = parser.feedInPlace(buf.subarray(0, held), false);
      buf.copyWithin(0, used, held);
      held -= used;
      report();
    }
  }
  if (read === 0) fail(`${label}: empty input; ${PASS_A_TRACE}`);
  parser.feedInPlace(buf.subarray(0, held), true);
  report();
  return parser.finish();
}

function pipeGzip(first: Uint8Array, rest: AsyncIterable<Uint8Array>): ReturnType<typeof createGunzip> {
  const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES });
  (async () => {
    gunzip.write(first);
    for await (const c of rest) {
      if (!gunzip.write(c)) await new Promise((r) => gunzip.once("drain", r));
    }
    gunzip.end();
  })().catch((e) => gunzip.destroy(e as Error));
  return gunzip;
}

