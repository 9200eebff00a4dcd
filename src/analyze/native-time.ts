// Own Python or native code? A Python function's self time is its own bytecode plus the native
// code that bytecode calls without the tracer seeing it: C functions, operators on NumPy arrays
// (`x @ w` runs a BLAS GEMM), C extensions (zlib, a tokenizer library). A function without a loop
// runs each of its instructions at most once per call, so its own bytecode costs at most about
// 1 µs per instruction (a simple one takes 10–50 ns); self time far above that was spent in native
// code. A function with a loop is not judged: nothing bounds how often its bytecode runs.
import type { CodeShape, Trace } from "../trace/model.ts";
import type { HotFunction } from "./hot-functions.ts";

/** A generous cost of one bytecode instruction run once, ns. */
export const NS_PER_INSTRUCTION = 1000;
/** Self time per call at least this many times the bytecode bound: native code holds it. */
export const NATIVE_FACTOR = 10;

export interface NativeTime {
  instructions: number;
  /** Self time per call, ns. */
  perCallNs: number;
  /** The most its own bytecode can take per call, ns. */
  boundNs: number;
}

const byTrace = new WeakMap<Trace, Map<string, CodeShape>>();
const key = (name: string, file: string, line: number) => `${name}\0${file}\0${line}`;

function shapes(trace: Trace): Map<string, CodeShape> {
  let m = byTrace.get(trace);
  if (!m) {
    m = new Map();
    for (const c of trace.meta.codeShapes ?? []) m.set(key(c.name, c.file, c.line), c);
    byTrace.set(trace, m);
  }
  return m;
}

/** The recorded bytecode shape of a Python function, or null (not recorded: older traces, Kineto's). */
export function codeShape(trace: Trace, fn: HotFunction): CodeShape | null {
  if (fn.kind !== "python" || fn.file === undefined || fn.line === undefined) return null;
  return shapes(trace).get(key(fn.function, fn.file, fn.line)) ?? null;
}

/** When a loop-free Python function's self time is almost all native code it called: the figures; else null. */
export function nativeTime(trace: Trace, fn: HotFunction): NativeTime | null {
  if (fn.calls <= 0) return null;
  const shape = codeShape(trace, fn);
  if (!shape || shape.loop || shape.instructions <= 0) return null;
  const perCallNs = fn.selfNs / fn.calls;
  const boundNs = shape.instructions * NS_PER_INSTRUCTION;
  return perCallNs >= NATIVE_FACTOR * boundNs ? { instructions: shape.instructions, perCallNs, boundNs } : null;
}
