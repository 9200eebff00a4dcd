// What was on a CPU thread's stack at a given instant: the innermost Python frame, the outermost
// torch cpu_op and the innermost user scope / record_function annotation. Answered for many
// instants at once by one sweep per thread over its spans (sorted by start, longest first), so
// the cost is O((spans + queries) log) whatever the stack depth.
import type { CpuSpan } from "../trace/model.ts";

export interface StackContext {
  /** Innermost Python frame (InferScope `python`, or Kineto `python_function` with with_stack). */
  python: CpuSpan | null;
  /** Outermost torch op (Kineto `cpu_op`): the op the Python code called, e.g. aten::linear. */
  op: CpuSpan | null;
  /** Innermost user scope (`scope`) or record_function annotation (`user_annotation`). */
  scope: CpuSpan | null;
}

const NONE: StackContext = Object.freeze({ python: null, op: null, scope: null }) as StackContext;

export function isScopeSpan(s: CpuSpan): boolean {
  return s.cat === "scope" || s.cat === "user_annotation";
}

/** Spans that represent code (functions, ops), as opposed to user scopes. */
export function isCodeSpan(s: CpuSpan): boolean {
  return s.cat === "python" || s.cat === "cpu_op";
}

function bySpanOrder(a: CpuSpan, b: CpuSpan): number {
  return a.start - b.start || b.end - a.end;
}

/** Sort spans by (start ascending, end descending): parents before their children. */
export function sortSpans(spans: CpuSpan[]): void {
  for (let i = 1; i < spans.length; i++) {
    if (bySpanOrder(spans[i - 1]!, spans[i]!) > 0) {
      spans.sort(bySpanOrder);
      return;
    }
  }
}

/** Spans grouped by thread id, each group sorted (parents first). */
export function spansByThread(spans: CpuSpan[]): Map<number, CpuSpan[]> {
  const m = new Map<number, CpuSpan[]>();
  // one thread (the common case): the sorted array itself
  if (spans.length > 0 && spans.every((s) => s.tid === spans[0]!.tid)) {
    sortSpans(spans);
    m.set(spans[0]!.tid, spans);
    return m;
  }
  for (const s of spans) {
    let a = m.get(s.tid);
    if (!a) {
      a = [];
      m.set(s.tid, a);
    }
    a.push(s);
  }
  for (const a of m.values()) sortSpans(a);
  return m;
}

/**
 * For each query i, the stack context on thread `tids[i]` at instant `times[i]` (a span encloses t
 * when start <= t < end). The result is aligned with the queries; consecutive queries under the
 * same stack share one context object.
 */
export function resolveStacks(byThread: Map<number, CpuSpan[]>, tids: ArrayLike<number>, times: ArrayLike<number>): StackContext[] {
  const n = tids.length;
  const out: StackContext[] = new Array(n);
  const perThread = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const tid = tids[i]!;
    if (!byThread.has(tid)) {
      out[i] = NONE;
      continue;
    }
    let a = perThread.get(tid);
    if (!a) perThread.set(tid, (a = []));
    a.push(i);
  }
  for (const [tid, idx] of perThread) {
    const spans = byThread.get(tid)!;
    let sorted = true;
    for (let i = 1; i < idx.length; i++) {
      if (times[idx[i]!]! < times[idx[i - 1]!]!) {
        sorted = false;
        break;
      }
    }
    if (!sorted) idx.sort((x, y) => times[x]! - times[y]! || x - y);
    sweep(spans, idx, times, out);
  }
  return out;
}

function sweep(spans: CpuSpan[], idx: number[], times: ArrayLike<number>, out: StackContext[]): void {
  const n = spans.length;
  const stack: CpuSpan[] = [];
  // per level: index (in stack) of the innermost python, outermost op, innermost scope at or below it
  const py: number[] = [];
  const op: number[] = [];
  const sc: number[] = [];
  let depth = 0;
  let j = 0;
  let lastCtx: StackContext = NONE;
  let lastDepth = -1;
  let lastTop: CpuSpan | null = null;
  for (const qi of idx) {
    const t = times[qi]!;
    while (j < n && spans[j]!.start <= t) {
      const s = spans[j++]!;
      while (depth > 0 && stack[depth - 1]!.end <= s.start) depth--;
      const below = depth - 1;
      stack[depth] = s;
      py[depth] = s.cat === "python" ? depth : below >= 0 ? py[below]! : -1;
      op[depth] = below >= 0 && op[below]! >= 0 ? op[below]! : s.cat === "cpu_op" ? depth : -1;
      sc[depth] = isScopeSpan(s) ? depth : below >= 0 ? sc[below]! : -1;
      depth++;
    }
    while (depth > 0 && stack[depth - 1]!.end <= t) depth--;
    if (depth === 0) {
      out[qi] = NONE;
      continue;
    }
    const top = stack[depth - 1]!;
    if (depth === lastDepth && top === lastTop) {
      out[qi] = lastCtx; // same stack as the previous query: share the object
      continue;
    }
    const lvl = depth - 1;
    const ctx: StackContext = {
      python: py[lvl]! >= 0 ? stack[py[lvl]!]! : null,
      op: op[lvl]! >= 0 ? stack[op[lvl]!]! : null,
      scope: sc[lvl]! >= 0 ? stack[sc[lvl]!]! : null,
    };
    out[qi] = ctx;
    lastCtx = ctx;
    lastDepth = depth;
    lastTop = top;
  }
}

/** `step#3` → `step`: record_function / ProfilerStep instances are grouped under one scope name. */
export function scopeName(name: string): string {
  const i = name.lastIndexOf("#");
  if (i > 0 && i < name.length - 1) {
    for (let k = i + 1; k < name.length; k++) {
      const c = name.charCodeAt(k);
      if (c < 48 || c > 57) return name;
    }
    return name.slice(0, i);
  }
  return name;
}
