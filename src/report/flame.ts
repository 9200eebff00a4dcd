// The HTML report's flame graphs (icicles: callers above callees): CPU time by stack and GPU time
// by launching stack, from the call tree. Aggregated before drawing: the file carries one entry per
// distinct stack, not per event, and at most `maxNodes` per graph: the largest nodes are kept
// (a node is never smaller than its children, so the kept set is closed under parents), and the
// children left out of a kept node are summed into one `(N smaller frames)` child, so every
// width stays exact.
import type { CallTree, FrameKind } from "../analyze/call-tree.ts";
import { stackGraph, type StackView } from "./stack-graph.ts";
import { truncate } from "./format.ts";

export interface FlameOptions {
  /** Nodes kept per graph (default 8000). */
  maxNodes?: number;
}

/** Node kinds, indexed by `k`: the call tree's, plus the summary of left-out frames. */
export const FLAME_KINDS = ["root", "thread", "scope", "module", "python", "cpu_op", "kernel", "memcpy", "memset", "more"] as const;
const KIND_INDEX = Object.fromEntries(FLAME_KINDS.map((k, i) => [k, i])) as Record<(typeof FLAME_KINDS)[number], number>;

export interface FlameGraphData {
  id: StackView;
  title: string;
  /** Total of the graph (its root), ns. */
  total: number;
  /** Nodes in depth-first order, the root first: depth, name, kind, total value (ns), detail (name index, 0 = none). */
  d: number[];
  n: number[];
  k: number[];
  v: number[];
  x: number[];
  /** Nodes in the call tree's view, and how many were summed into `(N smaller frames)` entries. */
  nodes: number;
  hidden: number;
}

export interface FlameData {
  version: 1;
  kinds: readonly string[];
  names: string[];
  graphs: FlameGraphData[];
}

const MAX_NAME = 300;

class Names {
  readonly list: string[] = [""];
  private readonly index = new Map<string, number>([["", 0]]);
  id(s: string): number {
    const t = truncate(s, MAX_NAME);
    let i = this.index.get(t);
    if (i === undefined) {
      i = this.list.length;
      this.list.push(t);
      this.index.set(t, i);
    }
    return i;
  }
}

function detail(t: CallTree, node: number): string {
  const f = t.frames[t.frame[node]!]!;
  if (f.kind === "python" && f.file !== undefined) return f.line !== undefined ? `${f.file}:${f.line}` : f.file;
  if (f.kind === "module" && f.moduleType !== undefined && f.moduleType !== f.name) return f.moduleType;
  return "";
}

function graphData(t: CallTree, view: StackView, names: Names, maxNodes: number): FlameGraphData {
  const g = stackGraph(t, view);
  const title = view === "cpu" ? "CPU time by stack" : "GPU time by launching stack";
  const out: FlameGraphData = { id: view, title, total: g.total, d: [], n: [], k: [], v: [], x: [], nodes: g.order.length, hidden: 0 };
  if (g.total <= 0) return out;
  // keep the largest nodes (ties: earlier in depth-first order, so parents before children)
  let keep: Uint8Array | null = null;
  if (g.order.length > maxNodes) {
    const pos = new Map<number, number>();
    g.order.forEach((node, i) => pos.set(node, i));
    const ranked = [...g.order].sort((a, b) => g.value[b]! - g.value[a]! || pos.get(a)! - pos.get(b)!);
    keep = new Uint8Array(t.size);
    for (let i = 0; i < maxNodes - 1; i++) keep[ranked[i]!] = 1; // room for summaries is made below
  }
  const rootLabel = view === "cpu" ? "all CPU time" : "all GPU time";
  // per kept parent (by position in out), the time and number of its children left out
  const moreNs = new Map<number, number>();
  const moreCount = new Map<number, number>();
  const outIdx: number[] = []; // stack: out index of the last node kept at each depth
  const push = (depth: number, name: number, kind: number, value: number, x: number) => {
    out.d.push(depth);
    out.n.push(name);
    out.k.push(kind);
    out.v.push(Math.round(value));
    out.x.push(x);
  };
  // Emit kept nodes in depth-first order; a "(N smaller frames)" entry follows the last kept
  // descendant of its parent, i.e. when the walk leaves the parent.
  const closeTo = (depth: number) => {
    while (outIdx.length > depth) {
      const i = outIdx.pop()!;
      const ns = moreNs.get(i);
      if (ns !== undefined && ns > 0) {
        push(out.d[i]! + 1, names.id(`(${moreCount.get(i)} smaller frame${moreCount.get(i) === 1 ? "" : "s"})`), KIND_INDEX.more, ns, 0);
        out.hidden += moreCount.get(i)!;
      }
    }
  };
  for (const node of g.order) {
    const depth = g.depth[node]!;
    closeTo(depth);
    if (keep && keep[node] !== 1 && node !== 0) {
      // the first left-out node under a kept parent stands for its whole subtree
      if (outIdx.length === depth && depth > 0) {
        const p = outIdx[depth - 1]!;
        moreNs.set(p, (moreNs.get(p) ?? 0) + g.value[node]!);
        moreCount.set(p, (moreCount.get(p) ?? 0) + 1);
      }
      continue;
    }
    const f = t.frames[t.frame[node]!]!;
    const label = node === 0 ? rootLabel : f.name;
    outIdx.push(out.d.length);
    push(depth, names.id(label), KIND_INDEX[f.kind as FrameKind], g.value[node]!, node === 0 ? 0 : names.id(detail(t, node)));
  }
  closeTo(0);
  return out;
}

/** Both flame graphs, ready for the HTML report (null: no stacks at all). */
export function flameData(t: CallTree, opts: FlameOptions = {}): FlameData | null {
  const maxNodes = Math.max(2, opts.maxNodes ?? 8000);
  const names = new Names();
  const graphs = [graphData(t, "cpu", names, maxNodes), graphData(t, "gpu", names, maxNodes)].filter((g) => g.total > 0);
  if (graphs.length === 0) return null;
  return { version: 1, kinds: FLAME_KINDS, names: names.list, graphs };
}
