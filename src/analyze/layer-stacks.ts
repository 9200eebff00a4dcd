// Which layer instances are repeats of one another (for uneven_layers and the Layers table's
// "slowest repeat"): the blocks of a stack
// (`layers.0` … `layers.31`, Kineto's `Block_0` … `Block_3`), and inside them the same child of
// each block. Instances of one class at different places are not repeats: the ReLUs after each
// conv of a plain Sequential each see a tensor of another size, so their times differ by design.
import type { Trace } from "../trace/model.ts";
import type { ModuleStat } from "./modules.ts";

/** A path component that indexes its container: `3` (ModuleList, Sequential), `Block_2` (Kineto's instance names). */
const INDEXED = /^(\d+|.+_\d+)$/;
/** An index into a ModuleList or Sequential, as InferScope records it. */
const NUMBERED = /^\d+$/;

/** A call's start and end (ns). */
export type Call = readonly [start: number, end: number];

/** Each module path's first call, from the trace's module spans. */
export function firstCalls(trace: Trace): Map<string, Call> {
  const first = new Map<string, Call>();
  for (const s of trace.spans) {
    if (s.cat !== "module") continue;
    const t = first.get(s.name);
    if (t === undefined || s.start < t[0]) first.set(s.name, [s.start, s.end]);
  }
  return first;
}

const NEVER: Call = [Infinity, Infinity];
/** Call order; at one start the enclosing call first (a model's path sits beside its children's). */
const byCall = (a: Call, b: Call) => a[0] - b[0] || b[1] - a[1];

/**
 * The instances grouped by their place in the model, groups of ≥ 2 only. A stack is a run of
 * ≥ 2 consecutive siblings of one class with indexed names, in the order of their first call;
 * with Kineto's names (`Linear_7`: every instance has one) only blocks, siblings with children of
 * their own, since an attention's qkv and output projections (3d and d wide) follow each other
 * as leaves. A member of a stack is placed by the stack alone (`*`), any other component by its name,
 * or, when indexed, by its class and rank among the siblings of that class (the second Conv2d of a
 * block).
 * Instances whose paths place the same, component by component, and of one class, are a group.
 */
export function repeatGroups(modules: readonly ModuleStat[], first: ReadonlyMap<string, Call>): ModuleStat[][] {
  const typeOf = new Map<string, string | undefined>(modules.map((s) => [s.path, s.type]));
  // every container (a path prefix, "" for the top) → its children's paths; first call of each prefix
  const children = new Map<string, Set<string>>();
  const firstOf = new Map<string, Call>();
  for (const s of modules) {
    const parts = s.path.split(".");
    const t = first.get(s.path) ?? NEVER;
    let container = "";
    for (let i = 0; i < parts.length; i++) {
      const path = i === 0 ? parts[0]! : `${container}.${parts[i]}`;
      let set = children.get(container);
      if (!set) children.set(container, (set = new Set()));
      set.add(path);
      if (byCall(t, firstOf.get(path) ?? NEVER) < 0) firstOf.set(path, t);
      container = path;
    }
  }
  // each child's place among its siblings
  const place = new Map<string, string>();
  for (const set of children.values()) {
    const sibs = [...set].sort((a, b) => byCall(firstOf.get(a) ?? NEVER, firstOf.get(b) ?? NEVER) || (a < b ? -1 : a > b ? 1 : 0));
    const last = (p: string) => p.slice(p.lastIndexOf(".") + 1);
    const rank = new Map<string, number>();
    for (let i = 0; i < sibs.length; ) {
      const type = typeOf.get(sibs[i]!);
      let j = i + 1;
      const stacked = (p: string) => typeOf.get(p) === type && (NUMBERED.test(last(p)) || (INDEXED.test(last(p)) && children.has(p)));
      if (type !== undefined && stacked(sibs[i]!)) while (j < sibs.length && stacked(sibs[j]!)) j++;
      if (j - i >= 2) {
        for (let k = i; k < j; k++) place.set(sibs[k]!, `*${i}`);
      } else {
        const p = sibs[i]!;
        const name = last(p);
        const key = type ?? name;
        const r = rank.get(key) ?? 0;
        rank.set(key, r + 1);
        place.set(p, INDEXED.test(name) ? `${key}#${r}` : name);
      }
      i = j;
    }
  }
  const groups = new Map<string, ModuleStat[]>();
  for (const s of modules) {
    if (s.type === undefined) continue;
    const parts = s.path.split(".");
    let path = "";
    const key: string[] = [s.type];
    for (let i = 0; i < parts.length; i++) {
      path = i === 0 ? parts[0]! : `${path}.${parts[i]}`;
      key.push(place.get(path)!);
    }
    const k = key.join("/");
    const g = groups.get(k);
    if (g) g.push(s);
    else groups.set(k, [s]);
  }
  return [...groups.values()].filter((g) => g.length >= 2);
}

/** The time of a layer's instances compared: kernel time when they launched kernels, else total CPU time. */
export interface Spread {
  gpu: boolean;
  minNs: number;
  medianNs: number;
  maxNs: number;
  slowest: ModuleStat;
}

/** The spread of `instances` (≥ 1), by kernel time when `gpu` (default: when any launched kernels). */
export function spreadOf(instances: readonly ModuleStat[], gpu = instances.some((s) => s.kernelNs > 0)): Spread {
  const v = (s: ModuleStat) => (gpu ? s.kernelNs : s.totalNs);
  const sorted = [...instances].sort((a, b) => v(a) - v(b) || (a.path < b.path ? -1 : 1));
  const mid = sorted.length >> 1;
  const medianNs = sorted.length % 2 === 1 ? v(sorted[mid]!) : (v(sorted[mid - 1]!) + v(sorted[mid]!)) / 2;
  const slowest = sorted[sorted.length - 1]!;
  return { gpu, minNs: v(sorted[0]!), medianNs, maxNs: v(slowest), slowest };
}
