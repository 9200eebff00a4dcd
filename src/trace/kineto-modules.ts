// nn.Module calls and Python stacks in PyTorch-profiler (Kineto) traces, as module and Python spans
// of the event model (the form InferScope's own tracer writes), so one analysis serves both.
// Verified on traces written by torch 2.13 (CPU; the GPU parts of a trace do not change these):
// - eager mode with `with_stack=True`: each module call is a `python_function` event named
//   `nn.Module: Linear_3` (class and a per-class instance number) that encloses the module's
//   `_call_impl` and `forward` frames. The model's attribute names are not in the trace, so a
//   module's path is built from the instance names of the modules around it, below the outermost:
//   `Block_2.Linear_5` (the outermost module is named by its instance name, `Net_0`).
// - TorchScript with `with_modules=True` / `with_stack=True`: each `cpu_op` carries
//   `Module Hierarchy` (`TOP(Net)::forward.0(Block)::forward.fc1(Linear)::forward.`) and `Call stack`
//   (`…/linear.py(134): forward;/app/k1.py(5): forward;`, innermost first). Consecutive ops that
//   share a prefix of these stacks become one module / Python span from the first op's start to
//   the last op's end (time between the ops included), within one outermost op (a call of a
//   scripted module is one op, `forward`); the same module called twice in a row within it is one
//   call. Python frames from `Call stack` carry the line being run,
//   not the function's first line, so they are named by function and file only.
import type { CpuSpan, Trace } from "./model.ts";

/** `nn.Module: Linear_3` → `Linear_3`, or null for any other name. */
export function kinetoModuleInstance(name: string): string | null {
  return name.startsWith("nn.Module: ") ? name.slice(11) : null;
}

/** `Linear_3` → `Linear` (the class of a Kineto module instance name). */
export function instanceClass(instance: string): string {
  const m = /^(.*)_\d+$/.exec(instance);
  return m ? m[1]! : instance;
}

/** A cpu_op's stack fields, as read. */
export interface OpStackFields {
  span: CpuSpan;
  hierarchy?: string;
  callStack?: string;
}

/**
 * Kineto eager-mode module spans carry their instance name: give each the path built from the
 * modules around it (per thread, by nesting in time).
 */
export function composeModulePaths(modules: CpuSpan[]): void {
  const byThread = new Map<string, CpuSpan[]>();
  for (const s of modules) {
    const k = `${s.pid}:${s.tid}`;
    let a = byThread.get(k);
    if (!a) byThread.set(k, (a = []));
    a.push(s);
  }
  for (const spans of byThread.values()) {
    spans.sort((a, b) => a.start - b.start || b.end - a.end);
    const stack: { end: number; path: string }[] = [];
    for (const s of spans) {
      while (stack.length > 0 && stack[stack.length - 1]!.end <= s.start) stack.pop();
      const instance = s.name;
      // the outermost module is named by itself; below it, paths leave it out (as torch's do)
      const parent = stack.length === 0 ? null : stack.length === 1 ? "" : stack[stack.length - 1]!.path;
      const path = parent === null ? instance : parent === "" ? instance : `${parent}.${instance}`;
      s.name = path;
      stack.push({ end: s.end, path });
    }
  }
}

interface SynthFrame {
  key: string;
  make: (start: number, end: number) => CpuSpan;
}

/** `TOP(Net)::forward.0(Block)::forward.fc1(Linear)::forward.` → levels with path, class and method. */
export function parseModuleHierarchy(h: string): { path: string; type: string; method: string }[] {
  const out: { path: string; type: string; method: string }[] = [];
  const re = /([^.()]*)\(([^()]*)\)::([^.]*)\./g;
  let m: RegExpExecArray | null;
  const names: string[] = [];
  while ((m = re.exec(h)) !== null) {
    const [, name, type, method] = m;
    if (out.length > 0) names.push(name!);
    out.push({ path: out.length === 0 ? type! : names.join("."), type: type!, method: method! });
  }
  return out;
}

/** `a/b.py(134): forward;c.py(5): run;` (innermost first) → frames, outermost first. */
export function parseCallStack(s: string): { file: string; func: string }[] {
  const out: { file: string; func: string }[] = [];
  for (const part of s.split(";")) {
    const m = /^(.*)\((\d+)\): (.+)$/.exec(part.trim());
    if (m) out.push({ file: m[1]!, func: m[3]! });
  }
  return out.reverse();
}

/** One op's frames, outermost first: each module placed just outside the Python frame running its method. */
function opFrames(f: OpStackFields, withPython: boolean): SynthFrame[] {
  const { pid, tid } = f.span;
  const mods = f.hierarchy ? parseModuleHierarchy(f.hierarchy) : [];
  const py = withPython && f.callStack ? parseCallStack(f.callStack) : [];
  const out: SynthFrame[] = [];
  const modFrame = (m: (typeof mods)[number]): SynthFrame => ({
    key: `m\u0000${m.path}\u0000${m.type}`,
    make: (start, end) => ({ cat: "module", name: m.path, moduleType: m.type, start, end, pid, tid }),
  });
  let mi = 0;
  for (const p of py) {
    if (mi < mods.length && mods[mi]!.method === p.func) out.push(modFrame(mods[mi++]!));
    out.push({ key: `p\u0000${p.file}\u0000${p.func}`, make: (start, end) => ({ cat: "python", name: p.func, file: p.file, start, end, pid, tid }) });
  }
  for (; mi < mods.length; mi++) out.push(modFrame(mods[mi]!));
  return out;
}

/**
 * Module and Python spans from the cpu_ops' `Module Hierarchy` / `Call stack` fields (TorchScript).
 * Python frames are taken from `Call stack` only when the trace has no `python_function` events
 * of its own for the same thread. Returns the new spans, outer before inner.
 */
export function spansFromOpStacks(ops: OpStackFields[], pythonThreads: Set<number>): CpuSpan[] {
  const byThread = new Map<number, OpStackFields[]>();
  for (const f of ops) {
    let a = byThread.get(f.span.tid);
    if (!a) byThread.set(f.span.tid, (a = []));
    a.push(f);
  }
  const out: { span: CpuSpan; seq: number }[] = [];
  let seq = 0; // opening order: outer frames open before inner ones
  for (const [tid, list] of byThread) {
    list.sort((a, b) => a.span.start - b.span.start || b.span.end - a.span.end);
    const withPython = !pythonThreads.has(tid);
    const open: { f: SynthFrame; start: number; end: number; seq: number }[] = [];
    const close = (keep: number, at: number) => {
      while (open.length > keep) {
        const o = open.pop()!;
        const end = Math.max(o.start, Math.min(o.end, at));
        out.push({ span: o.f.make(o.start, end), seq: o.seq });
      }
    };
    let outerEnd = Number.NEGATIVE_INFINITY; // end of the outermost op open: frames never outlive it
    for (const f of list) {
      if (f.span.start >= outerEnd) {
        close(0, outerEnd);
        outerEnd = f.span.end;
      }
      const frames = opFrames(f, withPython);
      let same = 0;
      while (same < open.length && same < frames.length && open[same]!.f.key === frames[same]!.key) same++;
      close(same, f.span.start);
      for (let i = 0; i < same; i++) if (f.span.end > open[i]!.end) open[i]!.end = f.span.end;
      for (let i = same; i < frames.length; i++) open.push({ f: frames[i]!, start: f.span.start, end: f.span.end, seq: seq++ });
    }
    close(0, Number.POSITIVE_INFINITY);
  }
  // parents before children, also on equal intervals (the later sort of all spans is stable)
  out.sort((a, b) => a.span.start - b.span.start || b.span.end - a.span.end || a.seq - b.seq);
  return out.map((o) => o.span);
}

/** Finish a Kineto trace's module and stack information (kineto.ts calls it once, at the end). */
export function finishKinetoModules(trace: Trace, eagerModules: CpuSpan[], ops: OpStackFields[]): void {
  if (eagerModules.length > 0) composeModulePaths(eagerModules);
  if (ops.length === 0) return;
  const pythonThreads = new Set<number>();
  for (const s of trace.spans) if (s.cat === "python") pythonThreads.add(s.tid);
  const synth = spansFromOpStacks(ops, pythonThreads);
  // before the trace's own spans: on equal intervals the synthesized frames enclose the op
  if (synth.length > 0) trace.spans = synth.concat(trace.spans);
}
