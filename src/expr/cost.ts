// A static bound on how much work an expression can do, computed before it ever runs (as cel-go's
// cost estimator does for Kubernetes). CEL has no loops or recursion; its only iteration is the
// comprehension macros (all, exists, exists_one, map, filter) over a list or map, and every list,
// map and string an expression can read is at most MAX_LEN / MAX_STRING long (values.ts). So the
// work is bounded by: 1 unit per node evaluated, comprehension bodies × the length of what they
// iterate, and string or list operations by the length of their operands (one unit per
// STRING_CHARS_PER_UNIT characters). An expression over COST_LIMIT units is refused. What a name
// can hold comes from the catalogue (a `busy_ms` is a number, a `name` a string, a `threads` a list).
import type { Catalogue, FieldType } from "./catalogue.ts";
import { MAX_LEN, MAX_STRING } from "./values.ts";

/** The largest value each variable or field name can hold in the catalogue. */
export function nameBounds(cat: Catalogue): (name: string) => Est | undefined {
  const bound = (t: FieldType): Est => {
    if (t === "string") return { cost: 1, len: MAX_STRING, items: 0, elem: 1 };
    if (typeof t === "string") return { cost: 1, len: 1, items: 0, elem: 1 };
    if ("object" in t) return { cost: 1, len: 1, items: 0, elem: 1 };
    const inner = bound("list" in t ? t.list : t.map);
    return { cost: 1, len: MAX_LEN, items: MAX_LEN, elem: inner.len };
  };
  const out = new Map<string, Est>();
  const add = (name: string, t: FieldType) => {
    const b = bound(t);
    const had = out.get(name);
    out.set(name, had ? { cost: 1, len: Math.max(had.len, b.len), items: Math.max(had.items, b.items), elem: Math.max(had.elem, b.elem) } : b);
  };
  for (const v of cat.variables) add(v.name, v.type);
  for (const t of cat.types) for (const f of t.fields) add(f.name, f.type);
  return (name) => out.get(name);
}

export const COST_LIMIT = 1_000_000;
const STRING_CHARS_PER_UNIT = 64;
const COMPREHENSIONS = new Set(["all", "exists", "exists_one", "map", "filter"]);
const LINEAR = new Set(["contains", "startsWith", "endsWith", "matches", "indexOf", "lastIndexOf", "lowerAscii", "upperAscii", "trim", "replace", "split", "join", "substring", "size", "string"]);

interface Node {
  op: string;
  args: unknown;
  range: { start: number; end: number };
}

/**
 * Upper bounds: work to evaluate; length of the value (characters of a string, or elements);
 * elements, if it is a list or map (what a comprehension over it iterates); length of an element.
 */
export interface Est {
  cost: number;
  len: number;
  items: number;
  elem: number;
}

const isNode = (x: unknown): x is Node => typeof x === "object" && x !== null && "op" in x && "args" in x;

/** Worst-case cost of the expression, and the node whose subtree costs the most when over the limit. */
export function estimateCost(ast: unknown, named: (name: string) => Est | undefined = () => undefined): { cost: number; worst: { start: number; end: number } } {
  let worst = { start: 0, end: 0 };
  let worstCost = -1;
  const scopes: Map<string, Est>[] = [];
  const comprehensions: { start: number; end: number }[] = [];
  const lookup = (name: string): Est | undefined => {
    for (let i = scopes.length - 1; i >= 0; i--) {
      const e = scopes[i]!.get(name);
      if (e) return e;
    }
    return undefined;
  };
  // Anything read from the metrics: as long as anything can be.
  const unknown: Est = { cost: 1, len: Math.max(MAX_LEN, MAX_STRING), items: MAX_LEN, elem: Math.max(MAX_LEN, MAX_STRING) };
  const maxOf = (xs: Est[], k: "len" | "items" | "elem"): number => Math.max(k === "items" ? 0 : 1, ...xs.map((x) => x[k]));

  const walk = (n: Node): Est => {
    const e = visit(n);
    // The innermost node over the limit (children are visited first, so keep the first one); for
    // a comprehension made costly by another inside it, point at the inner one.
    if (worstCost < 0 && e.cost > COST_LIMIT) {
      worstCost = e.cost;
      worst = comprehensions.find((r) => r.start >= n.range.start && r.end <= n.range.end && (r.start > n.range.start || r.end < n.range.end)) ?? n.range;
    }
    return e;
  };

  const visit = (n: Node): Est => {
    const a = n.args as unknown[];
    switch (n.op) {
      case "value": {
        const v = n.args;
        return { cost: 1, len: typeof v === "string" ? v.length : v instanceof Uint8Array ? v.length : 1, items: 0, elem: 1 };
      }
      case "id":
        return lookup(n.args as string) ?? named(n.args as string) ?? unknown;
      case "list": {
        const items = (a as Node[]).map(walk);
        return { cost: 1 + sum(items.map((x) => x.cost)), len: items.length, items: items.length, elem: maxOf(items, "len") };
      }
      case "map": {
        const items = (a as [Node, Node][]).flatMap(([k, v]) => [walk(k), walk(v)]);
        return { cost: 1 + sum(items.map((x) => x.cost)), len: items.length / 2, items: items.length / 2, elem: maxOf(items, "len") };
      }
      case "rcall": {
        const [name, recv, params] = a as [string, Node, Node[]];
        if (name === "bind" && recv.op === "id" && recv.args === "cel" && params.length === 3 && params[0]?.op === "id") {
          const init = walk(params[1]!);
          scopes.push(new Map([[params[0].args as string, { ...init, cost: 1 }]]));
          const body = walk(params[2]!);
          scopes.pop();
          return { ...body, cost: 1 + init.cost + body.cost };
        }
        const r = walk(recv);
        if (COMPREHENSIONS.has(name) && params.length >= 2 && params[0]?.op === "id") {
          // The element: as long as anything can be, and a list itself at most as long as any list.
          scopes.push(new Map([[params[0].args as string, { cost: 1, len: r.elem, items: Math.min(r.elem, MAX_LEN), elem: r.elem }]]));
          const bodies = params.slice(1).map(walk);
          scopes.pop();
          comprehensions.push(n.range);
          const per = 1 + sum(bodies.map((x) => x.cost));
          const last = bodies[bodies.length - 1]!;
          return { cost: r.cost + r.items * per, len: r.items, items: r.items, elem: name === "map" ? last.len : r.elem };
        }
        const ps = params.map(walk);
        const linear = LINEAR.has(name) ? Math.ceil((r.len + sum(ps.map((x) => x.len))) / STRING_CHARS_PER_UNIT) : 0;
        return { cost: 1 + r.cost + sum(ps.map((x) => x.cost)) + linear, len: maxOf([r, ...ps], "len"), items: maxOf([r, ...ps], "items"), elem: r.elem };
      }
      case "call": {
        const [name, params] = a as [string, Node[]];
        const ps = params.map(walk);
        const linear = LINEAR.has(name) ? Math.ceil(sum(ps.map((x) => x.len)) / STRING_CHARS_PER_UNIT) : 0;
        return { cost: 1 + sum(ps.map((x) => x.cost)) + linear, len: maxOf(ps, "len"), items: maxOf(ps, "items"), elem: maxOf(ps, "elem") };
      }
      case ".":
      case ".?": {
        const inner = walk((a as [Node, string])[0]);
        return { ...(named((a as [Node, string])[1]) ?? unknown), cost: 1 + inner.cost };
      }
      default: {
        const kids = (Array.isArray(a) ? a : [a]).filter(isNode).map(walk);
        const c = 1 + sum(kids.map((x) => x.cost));
        if (n.op === "+") {
          // concatenation: the result is as long as both operands, and copying them costs that much
          const len = sum(kids.map((x) => x.len));
          return { cost: c + Math.ceil(len / STRING_CHARS_PER_UNIT), len, items: sum(kids.map((x) => x.items)), elem: maxOf(kids, "elem") };
        }
        const lin = n.op === "in" || n.op === "==" || n.op === "!=" || n.op === "<" || n.op === ">" || n.op === "<=" || n.op === ">=" ? Math.ceil(sum(kids.map((x) => x.len)) / STRING_CHARS_PER_UNIT) : 0;
        return { cost: c + lin, len: maxOf(kids, "len"), items: maxOf(kids, "items"), elem: maxOf(kids, "elem") };
      }
    }
  };

  const est = walk(ast as Node);
  return { cost: est.cost, worst: worstCost >= 0 ? worst : (ast as Node).range };
}

function sum(xs: number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}
