// Hot functions: where the CPU time went, per function, like py-spy's or torch.profiler's
// self-time tables (docs/analysis.md, "Hot functions"). A function is a Python call (name, file,
// line) or a torch op (`cpu_op`, by name); scopes, annotations and other spans are not functions
// and are transparent (a call inside a scope inside a function is that function's child).
//
// Per thread, one sweep over its spans (sorted parents first) with a stack of the open calls kept
// in typed arrays: no object per span or per frame. A call's interval is clipped to its parent's
// (a child that outlives its parent in a malformed trace cannot make time count twice), so on a
// thread the self times add up to the time with at least one function on the stack.
//   - calls: every call, recursive ones included;
//   - total (inclusive): while the function was on the stack; a recursive function is credited
//     once, for its outermost call;
//   - self (exclusive): while it was the innermost function on the stack (time in untraced code,
//     C code and CUDA API calls it made is its own).
import { FunctionIds, TORCH_OP } from "../core/function-ids.ts";
import { grown } from "../core/typed-arrays.ts";
import type { CpuSpan } from "../trace/model.ts";

export interface HotFunction {
  kind: "python" | "cpu_op";
  function: string;
  file?: string;
  line?: number;
  calls: number;
  totalNs: number;
  selfNs: number;
}

export interface ThreadHot {
  /** Σ self time on this thread: the time with at least one function on its stack. */
  codeNs: number;
  /** The function with the most self time on this thread, and that self time (on this thread). */
  top: HotFunction | null;
  topSelfNs: number;
}

export interface HotFunctions {
  /** Every function seen, by self time, then total time, calls, name, file, line. */
  functions: HotFunction[];
  /** Per thread that has at least one function call. */
  threads: Map<number, ThreadHot>;
}

/** Order of the table: self time first; ties broken so that the order is deterministic. */
export function compareHot(a: HotFunction, b: HotFunction): number {
  if (a.selfNs !== b.selfNs) return b.selfNs - a.selfNs;
  if (a.totalNs !== b.totalNs) return b.totalNs - a.totalNs;
  if (a.calls !== b.calls) return b.calls - a.calls;
  if (a.function !== b.function) return a.function < b.function ? -1 : 1;
  const fa = a.file ?? "";
  const fb = b.file ?? "";
  if (fa !== fb) return fa < fb ? -1 : 1;
  return (a.line ?? -1) - (b.line ?? -1);
}

/**
 * `byThread`: spans per thread, each list sorted by (start ascending, end descending), as the
 * merger gives them.
 */
export function hotFunctions(byThread: Map<number, CpuSpan[]>): HotFunctions {
  // Function ids: consecutive calls of the same function (a generator expression called 300 000
  // times in a row) skip the lookup through the last-span cache.
  const ids = new FunctionIds();
  const rep: CpuSpan[] = []; // one span per id: its kind, name, file, line
  let cap = 256;
  let calls = new Float64Array(cap);
  let total = new Float64Array(cap);
  let self = new Float64Array(cap);
  let threadSelf = new Float64Array(cap); // self time on the current thread
  let active = new Int32Array(cap); // open calls on the current stack (recursion)
  let mark = new Int32Array(cap); // 1 + number of the last thread that touched the id
  const grow = () => {
    cap *= 2;
    calls = grown(calls, cap);
    total = grown(total, cap);
    self = grown(self, cap);
    threadSelf = grown(threadSelf, cap);
    active = grown(active, cap);
    mark = grown(mark, cap);
  };
  const idOf = (s: CpuSpan): number => {
    const id = s.cat === "cpu_op" ? ids.id(s.name, TORCH_OP, undefined) : ids.id(s.name, s.file, s.line);
    if (id === rep.length) {
      if (id === cap) grow();
      rep.push(s);
    }
    return id;
  };

  // the stack of open calls, in parallel typed arrays
  let scap = 256;
  let stStart = new Float64Array(scap);
  let stEnd = new Float64Array(scap); // clipped to the parent's end
  let stChild = new Float64Array(scap); // time in direct child calls (clipped)
  let stId = new Int32Array(scap);
  let stOuter = new Uint8Array(scap); // 1: the outermost open call of its function
  const growStack = () => {
    scap *= 2;
    stStart = grown(stStart, scap);
    stEnd = grown(stEnd, scap);
    stChild = grown(stChild, scap);
    stId = grown(stId, scap);
    stOuter = grown(stOuter, scap);
  };

  const perThread: { tid: number; codeNs: number; best: number; bestNs: number }[] = [];
  const touched: number[] = [];
  let threadNo = 0;
  for (const [tid, spans] of byThread) {
    threadNo++;
    touched.length = 0;
    let depth = 0;
    let codeNs = 0;
    let lastName: string | null = null;
    let lastFile: string | undefined;
    let lastLine: number | undefined;
    let lastCat = "";
    let lastId = -1;
    const pop = () => {
      depth--;
      const id = stId[depth]!;
      const d = stEnd[depth]! - stStart[depth]!;
      const own = d - stChild[depth]!;
      self[id]! += own;
      threadSelf[id]! += own;
      active[id]!--;
      if (stOuter[depth] === 1) total[id]! += d;
    };
    for (let k = 0; k < spans.length; k++) {
      const s = spans[k]!;
      const cat = s.cat;
      if (cat !== "python" && cat !== "cpu_op") continue;
      const start = s.start;
      while (depth > 0 && stEnd[depth - 1]! <= start) pop();
      let end = s.end < start ? start : s.end;
      if (depth > 0) {
        const pe = stEnd[depth - 1]!;
        if (end > pe) end = pe;
        stChild[depth - 1]! += end - start;
      } else codeNs += end - start;
      let id: number;
      if (s.name === lastName && s.file === lastFile && s.line === lastLine && cat === lastCat) id = lastId;
      else {
        id = idOf(s);
        lastName = s.name;
        lastFile = s.file;
        lastLine = s.line;
        lastCat = cat;
        lastId = id;
      }
      if (mark[id] !== threadNo) {
        mark[id] = threadNo;
        touched.push(id);
      }
      calls[id]!++;
      if (depth === scap) growStack();
      stStart[depth] = start;
      stEnd[depth] = end;
      stChild[depth] = 0;
      stId[depth] = id;
      stOuter[depth] = active[id] === 0 ? 1 : 0;
      active[id]!++;
      depth++;
    }
    while (depth > 0) pop();
    if (touched.length === 0) continue;
    let best = -1;
    for (const id of touched) {
      if (best < 0 || threadSelf[id]! > threadSelf[best]! || (threadSelf[id] === threadSelf[best] && id < best)) best = id;
    }
    perThread.push({ tid, codeNs, best, bestNs: threadSelf[best]! });
    for (const id of touched) threadSelf[id] = 0;
  }

  const functions: HotFunction[] = new Array(rep.length);
  for (let id = 0; id < rep.length; id++) {
    const s = rep[id]!;
    const f: HotFunction = { kind: s.cat === "cpu_op" ? "cpu_op" : "python", function: s.name, calls: calls[id]!, totalNs: total[id]!, selfNs: self[id]! };
    if (s.cat === "python") {
      if (s.file !== undefined) f.file = s.file;
      if (s.line !== undefined) f.line = s.line;
    }
    functions[id] = f;
  }
  const threads = new Map<number, ThreadHot>();
  for (const t of perThread) threads.set(t.tid, { codeNs: t.codeNs, top: functions[t.best]!, topSelfNs: t.bestNs });
  functions.sort(compareHot);
  return { functions, threads };
}
