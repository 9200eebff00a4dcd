// The native JSON reader (src/trace/json-tape.ts) against JSON.parse on one input: the trace
// model both build, or the message both give. Used by test/analyze/native-reader.test.ts and by
// the fuzz test's long mode (bench/fuzz.ts).
import { TraceJsonParser } from "../../src/trace/json-framer.ts";
import { newTapeReader, tapeLibrary, type TapeReader } from "../../src/trace/json-tape.ts";
import { EVENT_FIELDS } from "../../src/trace/kineto.ts";
import type { Trace } from "../../src/trace/model.ts";

export interface BothWays {
  native: Trace | string;
  js: Trace | string;
  /** The native reader used: how many batches it took and refused. */
  reader: TapeReader;
}

/** The trace of `bytes` (or the message) through the native reader and through JSON.parse alone. */
export async function bothWays(bytes: Uint8Array, label: string): Promise<BothWays> {
  const reader = newTapeReader(await tapeLibrary(), EVENT_FIELDS);
  if (!reader) throw new Error("the shim's JSON reader did not load (build/libinferscope.so: run `bun run build`)");
  const run = (tape: TapeReader | null): Trace | string => {
    try {
      const p = new TraceJsonParser(label, { tape });
      p.feed(bytes, true);
      return p.finish();
    } catch (e) {
      return (e as Error).message;
    }
  };
  const r = { native: run(reader), js: run(null), reader };
  reader.close();
  return r;
}

/** null when both readers agree, else what differs, in a line. */
export function parityProblem(r: BothWays): string | null {
  if (Bun.deepEquals(r.native, r.js, true)) return null;
  const what = (x: Trace | string) => (typeof x === "string" ? JSON.stringify(x) : "a trace");
  return `native reader ${what(r.native)} ≠ JSON.parse ${what(r.js)}`;
}
