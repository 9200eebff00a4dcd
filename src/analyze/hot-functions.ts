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
//     C code and CUDA API calls it made is its own), split into running (on the CPU) and
//     waiting: time in a blocking builtin it called (a `wait` span: time.sleep, lock.acquire,
//     select/epoll, a pipe read …) is its waiting time, not its running time.
// Short calls summed by the reader (Trace.summaries) add their calls, self and total time, and
// the time they took is taken out of the enclosing span's self time (its hiddenNs).
// An import (the tracer's `import X` span, importlib's _find_and_load) is start-up work, not a
// function: it and everything inside it are summed apart (`imports`), out of every self time.
import { FunctionIds, TORCH_OP } from "../core/function-ids.ts";
import { grown } from "../core/typed-arrays.ts";
import { importedModule, isImport } from "./imports.ts";
import type { CallSummary, CpuSpan } from "../trace/model.ts";

export interface HotFunction {
  kind: "python" | "cpu_op";
  function: string;
  file?: string;
  line?: number;
  calls: number;
  totalNs: number;
  /** Self time running: the ranking key. */
  selfNs: number;
  /** Self time waiting in blocking builtins it called. */
  waitNs: number;
  /** A torch op recorded with --op-shapes: its calls and self time per set of input shapes
   * (JSON text), most self time first. The op stays one row: shapes add detail, never move it. */
  shapes?: OpShapes[];
}

export interface OpShapes {
  inputDims: string;
  calls: number;
  selfNs: number;
}

export interface ThreadHot {
  /** Σ self time on this thread: the time with at least one function on its stack. */
  codeNs: number;
  /** The part of codeNs spent waiting (wait spans), and waits outside any traced function. */
  waitNs: number;
  /** Pid of the thread's process. */
  pid: number;
  /** The function with the most self time on this thread, and that self time (on this thread). */
  top: HotFunction | null;
  topSelfNs: number;
}

export interface HotFunctions {
  /** Every function seen, by self time, then total time, calls, name, file, line. */
  functions: HotFunction[];
  /** Outermost imports, per module, by time (not functions: start-up work wherever it happens). */
  imports: { module: string; ns: number }[];
  /** Σ of `imports`. */
  importNs: number;
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
export function hotFunctions(byThread: Map<number, CpuSpan[]>, summaries: CallSummary[] = []): HotFunctions {
  // Function ids: consecutive calls of the same function (a generator expression called 300 000
  // times in a row) skip the lookup through the last-span cache.
  const ids = new FunctionIds();
  const rep: { cat: string; name: string; file?: string; line?: number }[] = []; // one per id: its kind, name, file, line
  let cap = 256;
  let calls = new Float64Array(cap);
  let total = new Float64Array(cap);
  let self = new Float64Array(cap);
  let wait = new Float64Array(cap);
  let threadSelf = new Float64Array(cap); // self time on the current thread
  let active = new Int32Array(cap); // open calls on the current stack (recursion)
  let mark = new Int32Array(cap); // 1 + number of the last thread that touched the id
  const grow = () => {
    cap *= 2;
    calls = grown(calls, cap);
    total = grown(total, cap);
    self = grown(self, cap);
    wait = grown(wait, cap);
    threadSelf = grown(threadSelf, cap);
    active = grown(active, cap);
    mark = grown(mark, cap);
  };
  const shapesOf = new Map<number, Map<string, OpShapes>>(); // op id → its input shapes
  const shapeEntry = (id: number, dims: string): OpShapes => {
    let m = shapesOf.get(id);
    if (!m) shapesOf.set(id, (m = new Map()));
    let e = m.get(dims);
    if (!e) m.set(dims, (e = { inputDims: dims, calls: 0, selfNs: 0 }));
    return e;
  };
  const idOf = (s: { cat: string; name: string; file?: string; line?: number }): number => {
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
  let stChild = new Float64Array(scap); // time in direct child calls (clipped), hidden time included
  let stWait = new Float64Array(scap); // time in waits it made directly (clipped)
  let stId = new Int32Array(scap);
  let stOuter = new Uint8Array(scap); // 1: the outermost open call of its function
  const stDims: (OpShapes | undefined)[] = []; // an op's shapes entry (--op-shapes)
  const growStack = () => {
    scap *= 2;
    stStart = grown(stStart, scap);
    stEnd = grown(stEnd, scap);
    stChild = grown(stChild, scap);
    stWait = grown(stWait, scap);
    stId = grown(stId, scap);
    stOuter = grown(stOuter, scap);
  };

  const sumsByTid = new Map<number, CallSummary[]>();
  for (const x of summaries) {
    let a = sumsByTid.get(x.tid);
    if (!a) sumsByTid.set(x.tid, (a = []));
    a.push(x);
  }
  const addSummary = (x: CallSummary): number => {
    const id = idOf({ cat: x.kind, name: x.name, file: x.file, line: x.line });
    calls[id]! += x.calls;
    self[id]! += x.selfNs;
    total[id]! += x.totalNs;
    if (x.inputDims !== undefined) {
      const e = shapeEntry(id, x.inputDims);
      e.calls += x.calls;
      e.selfNs += x.selfNs;
    }
    return id;
  };
  const perThread: { tid: number; pid: number; codeNs: number; waitNs: number; best: number; bestNs: number }[] = [];
  const importNs = new Map<string, number>();
  const addImport = (module: string, ns: number) => importNs.set(module, (importNs.get(module) ?? 0) + ns);
  const touched: number[] = [];
  let threadNo = 0;
  for (const [tid, spans] of byThread) {
    threadNo++;
    touched.length = 0;
    let depth = 0;
    let codeNs = 0;
    let threadWait = 0;
    const pid = spans[0]?.pid ?? -1;
    let lastName: string | null = null;
    let lastFile: string | undefined;
    let lastLine: number | undefined;
    let lastCat = "";
    let lastId = -1;
    const pop = () => {
      depth--;
      const id = stId[depth]!;
      const d = stEnd[depth]! - stStart[depth]!;
      const w = stWait[depth]!;
      const own = Math.max(0, d - stChild[depth]! - w);
      self[id]! += own;
      const sh = stDims[depth];
      if (sh !== undefined) sh.selfNs += own;
      wait[id]! += w;
      threadSelf[id]! += own;
      active[id]!--;
      if (stOuter[depth] === 1) total[id]! += d;
    };
    for (let k = 0; k < spans.length; k++) {
      const s = spans[k]!;
      const cat = s.cat;
      if (cat === "wait") {
        while (depth > 0 && stEnd[depth - 1]! <= s.start) pop();
        const wEnd = depth > 0 ? Math.min(s.end, stEnd[depth - 1]!) : s.end;
        const dw = Math.max(0, wEnd - s.start);
        if (depth > 0) stWait[depth - 1]! += dw;
        threadWait += dw;
        continue;
      }
      if (cat !== "python" && cat !== "cpu_op") continue;
      const start = s.start;
      while (depth > 0 && stEnd[depth - 1]! <= start) pop();
      let end = s.end < start ? start : s.end;
      if (depth > 0) {
        const pe = stEnd[depth - 1]!;
        if (end > pe) end = pe;
        stChild[depth - 1]! += end - start;
      } else codeNs += end - start;
      if (cat === "python" && isImport(s)) {
        // the import and what ran inside it (nested imports, module code) are the import's
        addImport(importedModule(s), end - start);
        while (k + 1 < spans.length && spans[k + 1]!.start < end) k++;
        continue;
      }
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
      stChild[depth] = Math.min(s.hiddenNs ?? 0, end - start);
      stWait[depth] = 0;
      stId[depth] = id;
      stOuter[depth] = active[id] === 0 ? 1 : 0;
      let sh: OpShapes | undefined;
      if (s.inputDims !== undefined) {
        sh = shapeEntry(id, s.inputDims);
        sh.calls++;
      }
      stDims[depth] = sh;
      active[id]!++;
      depth++;
    }
    while (depth > 0) pop();
    for (const x of sumsByTid.get(tid) ?? []) {
      if (x.kind === "python" && isImport({ cat: x.kind, name: x.name, file: x.file })) {
        addImport(importedModule(x), x.selfNs);
        continue;
      }
      const id = addSummary(x);
      threadSelf[id]! += x.selfNs;
      if (mark[id] !== threadNo) {
        mark[id] = threadNo;
        touched.push(id);
      }
    }
    sumsByTid.delete(tid);
    if (touched.length === 0) continue;
    let best = -1;
    for (const id of touched) {
      if (best < 0 || threadSelf[id]! > threadSelf[best]! || (threadSelf[id] === threadSelf[best] && id < best)) best = id;
    }
    perThread.push({ tid, pid, codeNs, waitNs: threadWait, best, bestNs: threadSelf[best]! });
    for (const id of touched) threadSelf[id] = 0;
  }

  // threads without spans
  for (const rest of sumsByTid.values()) {
    for (const x of rest) {
      if (x.kind === "python" && isImport({ cat: x.kind, name: x.name, file: x.file })) addImport(importedModule(x), x.selfNs);
      else addSummary(x);
    }
  }

  const functions: HotFunction[] = new Array(rep.length);
  for (let id = 0; id < rep.length; id++) {
    const s = rep[id]!;
    const f: HotFunction = { kind: s.cat === "cpu_op" ? "cpu_op" : "python", function: s.name, calls: Math.round(calls[id]!), totalNs: total[id]!, selfNs: self[id]!, waitNs: wait[id]! };
    if (s.cat === "python") {
      if (s.file !== undefined) f.file = s.file;
      if (s.line !== undefined) f.line = s.line;
    }
    const sh = shapesOf.get(id);
    if (sh) f.shapes = [...sh.values()].sort((a, b) => b.selfNs - a.selfNs || b.calls - a.calls || (a.inputDims < b.inputDims ? -1 : 1));
    functions[id] = f;
  }
  const threads = new Map<number, ThreadHot>();
  for (const t of perThread) threads.set(t.tid, { codeNs: t.codeNs, waitNs: t.waitNs, pid: t.pid, top: functions[t.best]!, topSelfNs: t.bestNs });
  functions.sort(compareHot);
  const imports = [...importNs].map(([module, ns]) => ({ module, ns })).sort((a, b) => b.ns - a.ns || (a.module < b.module ? -1 : 1));
  return { functions, threads, imports, importNs: imports.reduce((a, x) => a + x.ns, 0) };
}
