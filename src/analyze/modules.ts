// Where the time goes per layer (docs/analysis.md, "Layers"): per nn.Module path and per module
// class, the CPU time spent inside it, the GPU work launched from inside it, its copies and syncs,
// read from the call tree (call-tree.ts), so they agree with the flame graphs.
//   - self: while the module was the innermost module open (its own code and ops, not its
//     children's); the self times of all modules add up to the time inside any module;
//   - total: while it was open, a module nested in itself counted once (outermost call);
//   - kernels (kernels and memsets) and copies launched inside it: by the launch call's stack, each
//     counted once per module on that stack; `kernel_self` for the innermost module only.
// When a scope holds the module calls (the step: `with inferscope.scope("step")`,
// `record_function("step#3")`), only the calls inside its instances count: a warm-up call or model
// loading before the first step would otherwise be shares "of the step" that the step never had.
// Their time is reported apart (outsideStepNs).
import type { CallTree } from "./call-tree.ts";
import { type Call, repeatGroups, spreadOf } from "./layer-stacks.ts";

export interface ModuleStat {
  path: string;
  type?: string;
  calls: number;
  selfNs: number;
  totalNs: number;
  kernelNs: number;
  kernelSelfNs: number;
  kernels: number;
  copies: { count: number; bytes: number; ns: number };
  syncs: { count: number; ns: number };
  topKernel: { name: string; ns: number } | null;
}

export interface ModuleTypeStat {
  type: string;
  instances: number;
  calls: number;
  selfNs: number;
  totalNs: number;
  kernelNs: number;
  /** Per instance (path): its total CPU time, or its kernel time when the class launched kernels. */
  spread: { basis: "cpu" | "gpu"; minNs: number; medianNs: number; maxNs: number; slowest: string };
  /**
   * The same over the class's most uneven group of repeats (layer-stacks.ts: the blocks of a stack,
   * or the same child of each), by kernel time when that group launched kernels; null when no two
   * instances are repeats (each at its own place: the ReLUs of a plain Sequential see tensors of
   * different sizes, so their times differ by design).
   */
  repeats: { instances: number; basis: "cpu" | "gpu"; minNs: number; medianNs: number; maxNs: number; slowest: string } | null;
}

export interface ModuleMetrics {
  /** Every module path, sorted (see sortBy). */
  modules: ModuleStat[];
  /** Classes with ≥ 2 instances, by total time. */
  types: ModuleTypeStat[];
  /** The groups of instances that repeat one another (layer-stacks.ts), ≥ 2 each. */
  repeats: ModuleStat[][];
  /** Time with at least one module open (Σ of the outermost modules' totals), inside the step. */
  inModulesNs: number;
  /** The same outside the step's instances (warm-up, loading); 0 when there is no step scope. */
  outsideStepNs: number;
  /** The step the shares are taken of: the scope that holds most of the module time, else the module time itself. */
  step: { scope: string | null; count: number; ns: number };
  /** Kernel and memset time inside the step (the whole trace without a step scope): the base of pct_of_kernels; 0 without GPU ops. */
  kernelAllNs: number;
  /** Kernels and memsets counted in kernelAllNs (the base of a layer's share of the kernels). */
  kernelAllCount: number;
  sortBy: "cpu_self" | "kernel_self";
}

/** GPU busy at least this share of its window: the layer table is sorted by kernel time instead of CPU time. */
export const SORT_BY_KERNEL_MIN_UTILIZATION = 0.5;

const isKernelLike = (k: string) => k === "kernel" || k === "memset";

/** `first`: each module path's first call (layer-stacks.ts firstCalls), which places the repeats. */
export function moduleMetrics(t: CallTree, gpuUtilization: number | null, first: ReadonlyMap<string, Call>): ModuleMetrics | null {
  if (!t.hasModules) return null;
  const n = t.size;
  const kindOf = (node: number) => t.frames[t.frame[node]!]!.kind;
  // nearest module node at or above each node (-1: none); parents come before children
  const modNode = new Int32Array(n).fill(-1);
  for (let i = 1; i < n; i++) modNode[i] = kindOf(i) === "module" ? i : modNode[t.parent[i]!]!;
  const upper = (m: number) => modNode[t.parent[m]!]!; // the module enclosing module node m
  const step = stepOf(t, modNode, upper);
  // nodes inside an instance of the step scope (reached through no module): the ones that count
  const inStep = new Uint8Array(n);
  inStep[0] = step.frame < 0 ? 1 : 0;
  for (let i = 1; i < n; i++) {
    const p = t.parent[i]!;
    inStep[i] = inStep[p]! || (t.frame[i] === step.frame && modNode[p]! < 0) ? 1 : 0;
  }

  const stats = new Map<number, ModuleStat>(); // by frame id
  const stat = (f: number): ModuleStat => {
    let s = stats.get(f);
    if (!s) {
      const fr = t.frames[f]!;
      s = {
        path: fr.name,
        calls: 0,
        selfNs: 0,
        totalNs: 0,
        kernelNs: 0,
        kernelSelfNs: 0,
        kernels: 0,
        copies: { count: 0, bytes: 0, ns: 0 },
        syncs: { count: 0, ns: 0 },
        topKernel: null,
      };
      if (fr.moduleType !== undefined) s.type = fr.moduleType;
      stats.set(f, s);
    }
    return s;
  };
  // the distinct module frames on the chain from module node m up (stamped to skip repeats)
  const stamp = new Int32Array(t.frames.length).fill(-1);
  let stampNo = 0;
  const chain = (m: number, visit: (frame: number) => void) => {
    stampNo++;
    for (let x = m; x >= 0; x = upper(x)) {
      const f = t.frame[x]!;
      if (stamp[f] === stampNo) continue;
      stamp[f] = stampNo;
      visit(f);
    }
  };

  // kernel (and memset) time per subtree, for the per-class totals
  const kernelTotal = new Float64Array(n);
  let kernelAllNs = 0;
  let kernelAllCount = 0;
  for (let i = 1; i < n; i++) {
    if (isKernelLike(kindOf(i)) && inStep[i]) {
      kernelTotal[i] = t.gpuSelf[i]!;
      kernelAllNs += t.gpuSelf[i]!;
      kernelAllCount += t.opCount[i]!;
    }
  }
  for (let i = n - 1; i > 0; i--) kernelTotal[t.parent[i]!]! += kernelTotal[i]!;

  let inModulesNs = 0;
  let outsideStepNs = 0;
  const outermostOf = (m: number, same: (x: number) => boolean) => {
    for (let x = upper(m); x >= 0; x = upper(x)) if (same(x)) return false;
    return true;
  };
  for (let i = 1; i < n; i++) {
    const m = modNode[i]!;
    if (m < 0) continue;
    if (!inStep[i]) {
      if (m === i && upper(i) < 0) outsideStepNs += t.cpuTotal[i]!;
      continue;
    }
    const s = stat(t.frame[m]!);
    s.selfNs += t.cpuSelf[i]!;
    if (m === i) {
      s.calls += t.calls[i]!;
      const f = t.frame[i]!;
      if (outermostOf(i, (x) => t.frame[x] === f)) s.totalNs += t.cpuTotal[i]!;
      if (upper(i) < 0) inModulesNs += t.cpuTotal[i]!;
    }
  }

  // GPU ops and syncs, credited to every module on their stack
  const kernelsBy = new Map<number, Map<string, number>>();
  for (let i = 1; i < n; i++) {
    if (!inStep[i]) continue;
    if (t.syncCount[i]! > 0 && modNode[i]! >= 0) {
      chain(modNode[i]!, (f) => {
        const s = stat(f);
        s.syncs.count += t.syncCount[i]!;
        s.syncs.ns += t.syncNs[i]!;
      });
    }
    const kind = kindOf(i);
    if (kind !== "kernel" && kind !== "memset" && kind !== "memcpy") continue;
    const m = modNode[t.parent[i]!]!;
    if (m < 0) continue;
    const ns = t.gpuSelf[i]!;
    const name = t.frames[t.frame[i]!]!.name;
    if (kind === "memcpy") {
      chain(m, (f) => {
        const c = stat(f).copies;
        c.count += t.opCount[i]!;
        c.bytes += t.opBytes[i]!;
        c.ns += ns;
      });
      continue;
    }
    stat(t.frame[m]!).kernelSelfNs += ns;
    chain(m, (f) => {
      const s = stat(f);
      s.kernelNs += ns;
      s.kernels += t.opCount[i]!;
      if (kind === "kernel") {
        let byName = kernelsBy.get(f);
        if (!byName) kernelsBy.set(f, (byName = new Map()));
        byName.set(name, (byName.get(name) ?? 0) + ns);
      }
    });
  }
  for (const [f, byName] of kernelsBy) {
    let best: { name: string; ns: number } | null = null;
    for (const [name, ns] of byName) if (!best || ns > best.ns || (ns === best.ns && name < best.name)) best = { name, ns };
    stat(f).topKernel = best;
  }

  const sortBy = gpuUtilization !== null && gpuUtilization >= SORT_BY_KERNEL_MIN_UTILIZATION && kernelAllNs > 0 ? "kernel_self" : "cpu_self";
  const modules = [...stats.values()].sort((a, b) => {
    const ka = sortBy === "kernel_self" ? a.kernelSelfNs : a.selfNs;
    const kb = sortBy === "kernel_self" ? b.kernelSelfNs : b.selfNs;
    return kb - ka || b.totalNs - a.totalNs || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  });

  const repeats = repeatGroups(modules, first);
  return {
    modules,
    types: typeStats(t, modNode, upper, inStep, kernelTotal, stats, repeats),
    repeats,
    inModulesNs,
    outsideStepNs,
    step: step.frame < 0 ? { scope: null, count: step.count, ns: inModulesNs } : { scope: step.scope, count: step.count, ns: step.ns },
    kernelAllNs,
    kernelAllCount,
    sortBy,
  };
}

/** Per class with ≥ 2 instances: totals (a class nested in itself counted once) and the spread between instances. */
function typeStats(
  t: CallTree,
  modNode: Int32Array,
  upper: (m: number) => number,
  inStep: Uint8Array,
  kernelTotal: Float64Array,
  stats: Map<number, ModuleStat>,
  repeats: ModuleStat[][],
): ModuleTypeStat[] {
  const byType = new Map<string, { instances: ModuleStat[]; totalNs: number; kernelNs: number }>();
  for (const s of stats.values()) {
    if (s.type === undefined) continue;
    let e = byType.get(s.type);
    if (!e) byType.set(s.type, (e = { instances: [], totalNs: 0, kernelNs: 0 }));
    e.instances.push(s);
  }
  const typeOf = (m: number) => t.frames[t.frame[m]!]!.moduleType;
  for (let i = 1; i < t.size; i++) {
    if (modNode[i] !== i || !inStep[i]) continue;
    const type = typeOf(i);
    if (type === undefined) continue;
    let outer = true;
    for (let x = upper(i); x >= 0 && outer; x = upper(x)) if (typeOf(x) === type) outer = false;
    if (!outer) continue;
    const e = byType.get(type)!;
    e.totalNs += t.cpuTotal[i]!;
    e.kernelNs += kernelTotal[i]!;
  }
  const out: ModuleTypeStat[] = [];
  for (const [type, e] of byType) {
    if (e.instances.length < 2) continue;
    const all = spreadOf(e.instances, e.kernelNs > 0);
    let calls = 0;
    let selfNs = 0;
    for (const s of e.instances) {
      calls += s.calls;
      selfNs += s.selfNs;
    }
    out.push({
      type,
      instances: e.instances.length,
      calls,
      selfNs,
      totalNs: e.totalNs,
      kernelNs: e.kernelNs,
      spread: { basis: all.gpu ? "gpu" : "cpu", minNs: all.minNs, medianNs: all.medianNs, maxNs: all.maxNs, slowest: all.slowest.path },
      repeats: mostUneven(repeats.filter((g) => g[0]!.type === type)),
    });
  }
  return out.sort((a, b) => b.totalNs - a.totalNs || (a.type < b.type ? -1 : 1));
}

/** Of a class's groups of repeats, the one whose slowest member is furthest above its median (then the larger group). */
function mostUneven(groups: ModuleStat[][]): ModuleTypeStat["repeats"] {
  let best: { n: number; ratio: number; s: ReturnType<typeof spreadOf> } | null = null;
  for (const g of groups) {
    const s = spreadOf(g);
    const ratio = s.medianNs > 0 ? s.maxNs / s.medianNs : s.maxNs > 0 ? Infinity : 1;
    if (!best || ratio > best.ratio || (ratio === best.ratio && g.length > best.n)) best = { n: g.length, ratio, s };
  }
  if (!best) return null;
  const { s } = best;
  return { instances: best.n, basis: s.gpu ? "gpu" : "cpu", minNs: s.minNs, medianNs: s.medianNs, maxNs: s.maxNs, slowest: s.slowest.path };
}

/** The scope that holds the most time of the outermost modules (`step`, its frame), with its instances' time; frame -1: none (count: the outermost module calls). */
function stepOf(t: CallTree, modNode: Int32Array, upper: (m: number) => number): { frame: number; scope: string; count: number; ns: number } {
  const kindOf = (node: number) => t.frames[t.frame[node]!]!.kind;
  const credit = new Map<number, number>(); // scope frame → module time inside it
  let rootCalls = 0;
  for (let i = 1; i < t.size; i++) {
    if (modNode[i] !== i || upper(i) >= 0) continue;
    rootCalls += t.calls[i]!;
    for (let x = t.parent[i]!; x > 0; x = t.parent[x]!) {
      if (kindOf(x) === "scope") {
        credit.set(t.frame[x]!, (credit.get(t.frame[x]!) ?? 0) + t.cpuTotal[i]!);
        break;
      }
    }
  }
  let best = -1;
  let bestNs = 0;
  for (const [f, ns] of credit) if (ns > bestNs || (ns === bestNs && best >= 0 && f < best)) [best, bestNs] = [f, ns];
  if (best < 0) return { frame: -1, scope: "", count: rootCalls, ns: 0 };
  let ns = 0;
  let count = 0;
  for (let i = 1; i < t.size; i++) {
    if (t.frame[i] !== best) continue;
    let outer = true;
    for (let x = t.parent[i]!; x > 0 && outer; x = t.parent[x]!) if (t.frame[x] === best) outer = false;
    if (!outer) continue;
    ns += t.cpuTotal[i]!;
    count += t.calls[i]!;
  }
  return { frame: best, scope: t.frames[best]!.name, count, ns };
}

/** `model.layers.3.mlp` → `model.layers.*.mlp`; `Block_2.Linear_5` → `Block_*.Linear_*` (Kineto instance names). */
export function pathPattern(path: string): string {
  return path
    .split(".")
    .map((p) => (/^\d+$/.test(p) ? "*" : p.replace(/_\d+$/, "_*")))
    .join(".");
}

/** The layer pattern (`layers.*.mlp`) that accounts for a large share of something, for findings. */
export interface LayerShare {
  pattern: string;
  value: number;
  share: number;
  instances: number;
}

/**
 * The most specific layer pattern holding at least `minShare` of `total` (by `value` of its
 * modules, summed over the paths that share the pattern): among those that do, the one with the
 * most path components, then the largest share. A pattern holding everything (the model itself)
 * is not an answer.
 */
export function dominantLayer(m: ModuleMetrics, value: (s: ModuleStat) => number, total: number, minShare: number): LayerShare | null {
  if (total <= 0) return null;
  const byPattern = new Map<string, { value: number; instances: number }>();
  for (const s of m.modules) {
    const v = value(s);
    if (v <= 0) continue;
    const p = pathPattern(s.path);
    const e = byPattern.get(p) ?? { value: 0, instances: 0 };
    e.value += v;
    e.instances++;
    byPattern.set(p, e);
  }
  let best: LayerShare | null = null;
  const depth = (p: string) => p.split(".").length;
  for (const [pattern, e] of byPattern) {
    const share = e.value / total;
    if (share < minShare || share >= 0.999) continue;
    const c: LayerShare = { pattern, value: e.value, share, instances: e.instances };
    if (!best || depth(pattern) > depth(best.pattern) || (depth(pattern) === depth(best.pattern) && share > best.share)) best = c;
  }
  return best;
}
