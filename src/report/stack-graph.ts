// The two views of the call tree that the flame graphs and the stack exports draw: CPU time by
// stack (each node weighted by the time it was the innermost frame) and GPU time by the stack that
// launched it (kernels, copies and memsets as leaves). Nodes with no time of the view's kind are
// left out; when a single thread has time in a view, its thread level is left out too.
import type { CallTree, Frame } from "../analyze/call-tree.ts";

export type StackView = "cpu" | "gpu";

export interface StackGraph {
  view: StackView;
  /** Tree node ids in depth-first order, the root first; children by value, largest first. */
  order: number[];
  /** Per tree node (indexed by node id): depth in this view (root 0), -1 when not in it. */
  depth: Int32Array;
  /** Per tree node: total and own (self) value of this view, ns. */
  value: Float64Array;
  self: Float64Array;
  /** Whether the thread level is shown (more than one thread has time in this view). */
  threads: boolean;
  total: number;
}

const GPU_KINDS = new Set(["kernel", "memcpy", "memset"]);

export function stackGraph(t: CallTree, view: StackView): StackGraph {
  const value = view === "cpu" ? t.cpuTotal : t.gpuTotal;
  const selfOf = view === "cpu" ? t.cpuSelf : t.gpuSelf;
  const kind = (node: number): Frame["kind"] => t.frames[t.frame[node]!]!.kind;
  const children: number[][] = Array.from({ length: t.size }, () => []);
  for (let i = 1; i < t.size; i++) {
    if (value[i]! <= 0) continue;
    if (view === "cpu" && GPU_KINDS.has(kind(i))) continue;
    children[t.parent[i]!]!.push(i);
  }
  const name = (node: number) => t.frames[t.frame[node]!]!.name;
  for (const c of children) if (c.length > 1) c.sort((a, b) => value[b]! - value[a]! || (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : a - b));
  const threads = children[0]!.length > 1;
  const depth = new Int32Array(t.size).fill(-1);
  const self = new Float64Array(t.size);
  const order: number[] = [0];
  depth[0] = 0;
  self[0] = selfOf[0]!;
  // depth-first, iteratively (Python stacks can be deep)
  const stack: number[] = [];
  const push = (kids: number[], d: number) => {
    for (let i = kids.length - 1; i >= 0; i--) {
      stack.push(kids[i]!);
      depth[kids[i]!] = d;
    }
  };
  if (threads) push(children[0]!, 1);
  else for (const th of children[0]!) push(children[th]!, 1);
  while (stack.length > 0) {
    const node = stack.pop()!;
    order.push(node);
    self[node] = selfOf[node]!;
    push(children[node]!, depth[node]! + 1);
  }
  return { view, order, depth, value, self, threads, total: value[0]! };
}

/** A frame as one line of text (folded stacks, search): unique per frame kind and name. */
export function frameLabel(f: Frame): string {
  switch (f.kind) {
    case "python":
      return f.file !== undefined ? `${f.name} (${f.file}${f.line !== undefined ? `:${f.line}` : ""})` : f.name;
    case "module":
      return f.moduleType !== undefined && f.moduleType !== f.name ? `nn.Module: ${f.name} (${f.moduleType})` : `nn.Module: ${f.name}`;
    case "scope":
      return `scope: ${f.name}`;
    case "thread":
      return `thread: ${f.name}`;
    default:
      return f.name;
  }
}
