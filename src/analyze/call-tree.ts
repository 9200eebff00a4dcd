// The call tree: every stack the trace recorded, merged into one prefix tree (docs/analysis.md,
// "Call tree"), with the CPU time spent at each node and the GPU work launched from it. The flame
// graphs, the folded and speedscope exports and the per-layer (nn.Module) table are all read from
// it, so they agree with each other and with the hot-function table.
//
// Frames: a thread, a user scope (`step#3` → `step`), an nn.Module call (by path), a Python
// function (name, file, line) or a torch op; GPU ops are leaves (kernel, memcpy, memset, by name)
// under the stack that launched them. Other spans (generic Chrome events) are transparent.
//
// Per thread, one sweep over its spans (parents first) and the instants asked about (launch calls
// and sync waits, in time order), with the stack of open frames kept in typed arrays. A frame's
// interval is clipped to its parent's, as in hot functions, so that:
//   - a node's CPU self time is its (clipped) duration minus its direct children's: the time it
//     was the innermost frame; on a thread the self times add up to the time with a frame open;
//   - a GPU op is credited to the innermost frame open on its launch call's thread when the call
//     started (a span encloses t when start ≤ t < end), as the launcher attribution does; its
//     weight is its own duration on the GPU (not a union: concurrent ops each count);
//   - a sync wait is counted at the innermost frame open when it started.
import type { CpuSpan, GpuOp, Trace } from "../trace/model.ts";
import type { MergeResult } from "../merge/index.ts";
import { scopeName } from "../merge/stacks.ts";
import type { SyncOccasion } from "./syncs.ts";
import { grown } from "../core/typed-arrays.ts";

export type FrameKind = "root" | "thread" | "scope" | "module" | "python" | "cpu_op" | "kernel" | "memcpy" | "memset";

export interface Frame {
  kind: FrameKind;
  /** Function, op, scope or GPU op name; a module's path; a thread's label. */
  name: string;
  file?: string;
  line?: number;
  /** Modules: the class. */
  moduleType?: string;
  /** Threads: the thread id. */
  tid?: number;
}

/** Node 0 is the root; a child's id is always larger than its parent's. */
export interface CallTree {
  frames: Frame[];
  size: number;
  parent: Int32Array;
  frame: Int32Array;
  /** CPU time while the node was the innermost open frame, ns. */
  cpuSelf: Float64Array;
  /** CPU time while the node was open (its self time and its descendants'), ns. */
  cpuTotal: Float64Array;
  /** Spans that opened this node. */
  calls: Float64Array;
  /** GPU op leaves: GPU time, number of ops and bytes moved (copies, memsets); 0 elsewhere. */
  gpuSelf: Float64Array;
  /** GPU time of the ops in the subtree, ns. */
  gpuTotal: Float64Array;
  opCount: Float64Array;
  opBytes: Float64Array;
  /** Sync waits that started while this node was the innermost frame: count and blocked time. */
  syncCount: Float64Array;
  syncNs: Float64Array;
  /** Whether GPU ops were credited at all (false: the trace has none). */
  hasGpu: boolean;
  /** Whether any module frame exists. */
  hasModules: boolean;
}

/** Prefix tree builder: nodes in growable typed arrays, children by frame id. */
class TreeBuilder {
  frames: Frame[] = [{ kind: "root", name: "all" }];
  size = 1;
  cap = 1024;
  parent = new Int32Array(this.cap);
  frame = new Int32Array(this.cap);
  cpuSelf = new Float64Array(this.cap);
  calls = new Float64Array(this.cap);
  gpuSelf = new Float64Array(this.cap);
  opCount = new Float64Array(this.cap);
  opBytes = new Float64Array(this.cap);
  syncCount = new Float64Array(this.cap);
  syncNs = new Float64Array(this.cap);
  private readonly children: (Map<number, number> | undefined)[] = [undefined];
  private readonly frameIds: Map<string, Map<string, Map<number, number>>>[] = [];

  constructor() {
    this.parent[0] = -1;
    this.frame[0] = 0;
  }

  private grow(): void {
    const n = (this.cap *= 2);
    this.parent = grown(this.parent, n);
    this.frame = grown(this.frame, n);
    this.cpuSelf = grown(this.cpuSelf, n);
    this.calls = grown(this.calls, n);
    this.gpuSelf = grown(this.gpuSelf, n);
    this.opCount = grown(this.opCount, n);
    this.opBytes = grown(this.opBytes, n);
    this.syncCount = grown(this.syncCount, n);
    this.syncNs = grown(this.syncNs, n);
  }

  /** The id of a frame: by kind, then name, file and line (nested Maps, no key string per span). */
  frameId(kind: FrameKind, name: string, file: string | undefined, line: number | undefined, make: () => Frame): number {
    const k = KIND_INDEX[kind];
    let byName = this.frameIds[k];
    if (!byName) this.frameIds[k] = byName = new Map();
    let byFile = byName.get(name);
    if (!byFile) byName.set(name, (byFile = new Map()));
    const f = file ?? "";
    let byLine = byFile.get(f);
    if (!byLine) byFile.set(f, (byLine = new Map()));
    const l = line ?? -1;
    let id = byLine.get(l);
    if (id === undefined) {
      id = this.frames.length;
      this.frames.push(make());
      byLine.set(l, id);
    }
    return id;
  }

  child(node: number, frameId: number): number {
    let m = this.children[node];
    if (!m) this.children[node] = m = new Map();
    let c = m.get(frameId);
    if (c === undefined) {
      if (this.size === this.cap) this.grow();
      c = this.size++;
      this.parent[c] = node;
      this.frame[c] = frameId;
      this.children[c] = undefined;
      m.set(frameId, c);
    }
    return c;
  }
}

const KIND_INDEX: Record<FrameKind, number> = { root: 0, thread: 1, scope: 2, module: 3, python: 4, cpu_op: 5, kernel: 6, memcpy: 7, memset: 8 };

function spanFrameKind(s: CpuSpan): FrameKind | null {
  switch (s.cat) {
    case "python":
    case "cpu_op":
    case "module":
      return s.cat;
    case "scope":
    case "user_annotation":
      return "scope";
    default:
      return null;
  }
}

/** Queries on one thread: instants at which to credit something to the innermost open frame. */
interface Queries {
  times: number[];
  /** ≥ 0: index of a GPU op; -1 - i: sync occasion i */
  what: number[];
}

function threadLabel(trace: Trace, pid: number, tid: number, multiProcess: boolean): string {
  const name = trace.threadNames.get(tid);
  const base = name && name.length > 0 ? name : `thread ${tid}`;
  return multiProcess ? `${base} (pid ${pid}, tid ${tid})` : `${base} (tid ${tid})`;
}

/**
 * The call tree of a merged trace. `occasions`: the sync waits (syncs.ts), credited to the frame
 * that was running when each started.
 */
export function buildCallTree(trace: Trace, merge: MergeResult, occasions: SyncOccasion[]): CallTree {
  const b = new TreeBuilder();
  const byThread = merge.byThread;

  // the queries of each thread: launch calls of GPU ops, and sync waits
  const queries = new Map<number, Queries>();
  const q = (tid: number): Queries => {
    let x = queries.get(tid);
    if (!x) queries.set(tid, (x = { times: [], what: [] }));
    return x;
  };
  const unplaced: number[] = []; // GPU ops without a launch call
  for (let i = 0; i < trace.gpu.length; i++) {
    const call = merge.opCall[i];
    if (!call) {
      unplaced.push(i);
      continue;
    }
    const x = q(call.tid);
    x.times.push(call.start);
    x.what.push(i);
  }
  for (let i = 0; i < occasions.length; i++) {
    const o = occasions[i]!;
    if (o.tid < 0) continue;
    const x = q(o.tid);
    x.times.push(o.start);
    x.what.push(-1 - i);
  }

  const pidOf = new Map<number, number>();
  for (const [tid, spans] of byThread) if (spans.length > 0) pidOf.set(tid, spans[0]!.pid);
  for (const c of trace.api) if (!pidOf.has(c.tid)) pidOf.set(c.tid, c.pid);
  const multiProcess = new Set(pidOf.values()).size > 1;
  const threadNode = (tid: number): number => {
    const pid = pidOf.get(tid) ?? -1;
    const label = threadLabel(trace, pid, tid, multiProcess);
    const f = b.frameId("thread", label, undefined, tid, () => ({ kind: "thread", name: label, tid }));
    return b.child(0, f);
  };

  const creditOp = (node: number, op: GpuOp) => {
    const f = b.frameId(op.kind, op.name, undefined, undefined, () => ({ kind: op.kind, name: op.name }));
    const leaf = b.child(node, f);
    b.gpuSelf[leaf]! += op.end - op.start;
    b.opCount[leaf]!++;
    if (op.kind !== "kernel" && op.bytes !== undefined) b.opBytes[leaf]! += op.bytes;
  };
  const creditSync = (node: number, o: SyncOccasion) => {
    b.syncCount[node]!++;
    b.syncNs[node]! += o.end - o.start;
  };

  const tids = new Set<number>([...byThread.keys(), ...queries.keys()]);
  let hasModules = false;
  // the stack of open frames
  let scap = 256;
  let stNode = new Int32Array(scap);
  let stStart = new Float64Array(scap);
  let stEnd = new Float64Array(scap);
  let stChild = new Float64Array(scap);
  const growStack = () => {
    scap *= 2;
    stNode = grown(stNode, scap);
    stStart = grown(stStart, scap);
    stEnd = grown(stEnd, scap);
    stChild = grown(stChild, scap);
  };

  for (const tid of [...tids].sort((x, y) => x - y)) {
    const spans = byThread.get(tid) ?? [];
    const qs = queries.get(tid);
    const nq = qs ? qs.times.length : 0;
    let order: Int32Array | null = null;
    if (qs) {
      order = new Int32Array(nq);
      for (let i = 0; i < nq; i++) order[i] = i;
      const t = qs.times;
      let sorted = true;
      for (let i = 1; i < nq; i++) {
        if (t[i]! < t[i - 1]!) {
          sorted = false;
          break;
        }
      }
      if (!sorted) order.sort((a, c) => t[a]! - t[c]! || a - c);
    }
    const root = threadNode(tid);
    let depth = 0;
    const pop = () => {
      depth--;
      b.cpuSelf[stNode[depth]!]! += stEnd[depth]! - stStart[depth]! - stChild[depth]!;
    };
    const top = () => (depth > 0 ? stNode[depth - 1]! : root);
    // last-frame cache: consecutive spans of the same function skip the frame lookup
    let lastName: string | null = null;
    let lastFile: string | undefined;
    let lastLine: number | undefined;
    let lastCat = "";
    let lastFrame = -1;
    let k = 0;
    let qi = 0;
    const n = spans.length;
    while (k < n || qi < nq) {
      const qt = qi < nq ? qs!.times[order![qi]!]! : Number.POSITIVE_INFINITY;
      if (k < n && spans[k]!.start <= qt) {
        const s = spans[k++]!;
        const kind = spanFrameKind(s);
        if (kind === null) continue;
        const start = s.start;
        while (depth > 0 && stEnd[depth - 1]! <= start) pop();
        if (kind === "scope" || kind === "module") {
          // A scope that begins inside a call and outlives it (record_function's `__enter__`, a
          // hook): the call ends, for the tree, where the scope begins; the rest of it is the scope's.
          while (depth > 0 && stEnd[depth - 1]! < s.end) {
            const cut = stEnd[depth - 1]! - start;
            stEnd[depth - 1] = start;
            if (depth > 1) stChild[depth - 2]! -= cut;
            pop();
          }
        }
        let end = s.end < start ? start : s.end;
        if (depth > 0) {
          const pe = stEnd[depth - 1]!;
          if (end > pe) end = pe;
          stChild[depth - 1]! += end - start;
        }
        let f: number;
        if (s.name === lastName && s.file === lastFile && s.line === lastLine && s.cat === lastCat) f = lastFrame;
        else {
          f = spanFrame(b, s, kind);
          lastName = s.name;
          lastFile = s.file;
          lastLine = s.line;
          lastCat = s.cat;
          lastFrame = f;
        }
        if (kind === "module") hasModules = true;
        const node = b.child(top(), f);
        b.calls[node]!++;
        if (depth === scap) growStack();
        stNode[depth] = node;
        stStart[depth] = start;
        stEnd[depth] = end;
        stChild[depth] = 0;
        depth++;
      } else {
        const w = qs!.what[order![qi++]!]!;
        while (depth > 0 && stEnd[depth - 1]! <= qt) pop();
        if (w >= 0) creditOp(top(), trace.gpu[w]!);
        else creditSync(top(), occasions[-1 - w]!);
      }
    }
    while (depth > 0) pop();
  }
  if (unplaced.length > 0) {
    const f = b.frameId("thread", "(no launch call)", undefined, undefined, () => ({ kind: "thread", name: "(no launch call)" }));
    const node = b.child(0, f);
    for (const i of unplaced) creditOp(node, trace.gpu[i]!);
  }
  return finish(b, trace.gpu.length > 0, hasModules);
}

function spanFrame(b: TreeBuilder, s: CpuSpan, kind: FrameKind): number {
  switch (kind) {
    case "python":
      return b.frameId(kind, s.name, s.file, s.line, () => {
        const f: Frame = { kind, name: s.name };
        if (s.file !== undefined) f.file = s.file;
        if (s.line !== undefined) f.line = s.line;
        return f;
      });
    case "module":
      return b.frameId(kind, s.name, s.moduleType, undefined, () => {
        const f: Frame = { kind, name: s.name };
        if (s.moduleType !== undefined) f.moduleType = s.moduleType;
        return f;
      });
    case "scope": {
      const name = scopeName(s.name);
      return b.frameId(kind, name, undefined, undefined, () => ({ kind, name }));
    }
    default:
      return b.frameId(kind, s.name, undefined, undefined, () => ({ kind, name: s.name }));
  }
}

/** Totals from the leaves up (children have larger ids than their parents). */
function finish(b: TreeBuilder, hasGpu: boolean, hasModules: boolean): CallTree {
  const n = b.size;
  const cpuTotal = new Float64Array(n);
  const gpuTotal = new Float64Array(n);
  cpuTotal.set(b.cpuSelf.subarray(0, n));
  gpuTotal.set(b.gpuSelf.subarray(0, n));
  for (let i = n - 1; i > 0; i--) {
    const p = b.parent[i]!;
    cpuTotal[p]! += cpuTotal[i]!;
    gpuTotal[p]! += gpuTotal[i]!;
  }
  return {
    frames: b.frames,
    size: n,
    parent: b.parent.subarray(0, n),
    frame: b.frame.subarray(0, n),
    cpuSelf: b.cpuSelf.subarray(0, n),
    cpuTotal,
    calls: b.calls.subarray(0, n),
    gpuSelf: b.gpuSelf.subarray(0, n),
    gpuTotal,
    opCount: b.opCount.subarray(0, n),
    opBytes: b.opBytes.subarray(0, n),
    syncCount: b.syncCount.subarray(0, n),
    syncNs: b.syncNs.subarray(0, n),
    hasGpu,
    hasModules,
  };
}

/** The ids of each node's children (for walking the tree top-down). */
export function childLists(t: CallTree): number[][] {
  const out: number[][] = Array.from({ length: t.size }, () => []);
  for (let i = 1; i < t.size; i++) out[t.parent[i]!]!.push(i);
  return out;
}
