// Estimated savings (docs/analysis.md, "Estimated savings"): how much of the window fixing a
// finding would remove at most. Each rule states its saving as a *claim* on the timeline — the
// intervals its fix removes, each with the share of it that goes (1 for GPU idle the fix fills,
// 1 − fp32/TF32 peak for an fp32 GEMM, …) — and one sentence saying what it assumes. The claims of
// one report are then shared out so that no nanosecond counts twice: in a fixed order (the most
// specific cause first: sync stalls before launch overhead before "GPU idle"), each claim gets on
// every piece of the window only what the claims before it left, and the shares of one piece add
// up to at most 1. The savings of a report therefore never add up to more than its window.
import type { CpuSpan, GpuOp } from "../trace/model.ts";
import type { GpuTime } from "./gpu.ts";
import type { EstimatedSaving, Finding } from "./report-types.ts";
import { Union, UnionBuilder, mergeUnions, sortIndexByStart, subtractUnion, unionOf } from "../core/intervals.ts";
import { mapF64 } from "../core/typed-arrays.ts";

/** Disjoint intervals, sorted by start, each with the share of it (0 < w ≤ 1) a fix removes. */
export interface Claim {
  starts: Float64Array;
  ends: Float64Array;
  weights: Float64Array;
}

/** Collects intervals (overlapping or not); where they overlap the larger share counts, once. */
export class ClaimBuilder {
  private readonly s: number[] = [];
  private readonly e: number[] = [];
  private readonly w: number[] = [];
  /** the distinct shares added (few: usually one) */
  private readonly shares: number[] = [];

  add(start: number, end: number, weight = 1): this {
    if (end > start && weight > 0) {
      const w = Math.min(1, weight);
      this.s.push(start);
      this.e.push(end);
      this.w.push(w);
      if (!this.shares.includes(w)) this.shares.push(w);
    }
    return this;
  }

  addClaim(c: Claim): this {
    for (let i = 0; i < c.starts.length; i++) this.add(c.starts[i]!, c.ends[i]!, c.weights[i]!);
    return this;
  }

  addUnion(u: Union, weight = 1): this {
    for (let i = 0; i < u.length; i++) this.add(u.starts[i]!, u.ends[i]!, weight);
    return this;
  }

  build(): Claim {
    const weights = [...this.shares].sort((a, b) => b - a);
    if (weights.length === 1) {
      const u = unionOf(this.s, this.e);
      return { starts: u.starts, ends: u.ends, weights: new Float64Array(u.length).fill(weights[0]!) };
    }
    // intervals that do not overlap (kernels on one stream): they are the claim as they are
    const order = sortIndexByStart(this.s, this.e);
    let disjoint = true;
    for (let k = 1; k < order.length && disjoint; k++) if (this.s[order[k]!]! < this.e[order[k - 1]!]!) disjoint = false;
    if (disjoint) {
      return {
        starts: mapF64(order, (i) => this.s[i]!),
        ends: mapF64(order, (i) => this.e[i]!),
        weights: mapF64(order, (i) => this.w[i]!),
      };
    }
    // the largest share first; each smaller share keeps only what the larger ones left uncovered
    let covered = new Union(new Float64Array(0), new Float64Array(0));
    const pieces: { s: number; e: number; w: number }[] = [];
    for (const w of weights) {
      const s: number[] = [];
      const e: number[] = [];
      for (let i = 0; i < this.w.length; i++) {
        if (this.w[i] === w) {
          s.push(this.s[i]!);
          e.push(this.e[i]!);
        }
      }
      const u = unionOf(s, e);
      const fresh = subtractUnion(u, covered);
      for (let i = 0; i < fresh.length; i++) pieces.push({ s: fresh.starts[i]!, e: fresh.ends[i]!, w });
      covered = mergeUnions([covered, u]);
    }
    pieces.sort((a, b) => a.s - b.s);
    return {
      starts: mapF64(pieces, (p) => p.s),
      ends: mapF64(pieces, (p) => p.e),
      weights: mapF64(pieces, (p) => p.w),
    };
  }
}

/** Σ share × length of a claim: what it removes on its own. */
export function claimNs(c: Claim): number {
  let t = 0;
  for (let i = 0; i < c.starts.length; i++) t += (c.ends[i]! - c.starts[i]!) * c.weights[i]!;
  return t;
}

/** How a rule prices its finding. */
export type SavingSpec =
  /** Intervals of the window the fix removes, and the assumption in one sentence. */
  | { kind: "time"; claim: Claim; basis: string }
  /** No honest bound: why. */
  | { kind: "none"; reason: string };

/**
 * Which finding keeps a contested piece of the window: the most specific cause first. Idle after a
 * sync is the sync's before it is launch overhead's, and launch overhead's before plain "GPU idle";
 * copy time is the pageable copies' before it is "copies not overlapped"; kernel time is the
 * attention pattern's before the fusion's. User rules' savings (bare amounts, no intervals) come
 * after all of these: priceUserFindings.
 */
export const SAVING_ORDER: readonly string[] = [
  "sync_copies",
  "sync_stalls",
  "launch_bound",
  "threading_contention",
  "gpu_idle",
  "pageable_copies",
  "numa_remote",
  "pcie_saturation",
  "transfer_overhead",
  "unfused_attention",
  "fp32_gemm",
  "fp8_candidate",
  "unfused_glue",
  "underfilled_gpu",
];

export function savingRank(rule: string): number {
  const i = SAVING_ORDER.indexOf(rule);
  return i < 0 ? SAVING_ORDER.length : i;
}

/** What a piece of the window was given to: net (after the earlier claims), inside steps, and on its own. */
export interface Allocation {
  netNs: number;
  stepNs: number;
  standaloneNs: number;
  /** Indices (into the specs) of the earlier claims that already held part of this one's time. */
  sharedWith: number[];
}

/**
 * Shares the window out among the specs, in the order given (earlier specs keep contested time).
 * Every claim is clipped to [windowStart, windowEnd]; `step` (the step scope's instances) splits
 * each claim's share into the part inside steps.
 */
export function allocate(specs: SavingSpec[], windowStart: number, windowEnd: number, step: Union | null): Allocation[] {
  const clip = (x: number) => Math.min(windowEnd, Math.max(windowStart, x));
  // the elementary pieces: every claim boundary and step boundary inside the window
  let n = 2 + (step ? 2 * step.length : 0);
  for (const sp of specs) if (sp.kind === "time") n += 2 * sp.claim.starts.length;
  const bounds = new Float64Array(n);
  let b = 0;
  bounds[b++] = windowStart;
  bounds[b++] = windowEnd;
  for (const sp of specs) {
    if (sp.kind !== "time") continue;
    for (let i = 0; i < sp.claim.starts.length; i++) {
      bounds[b++] = clip(sp.claim.starts[i]!);
      bounds[b++] = clip(sp.claim.ends[i]!);
    }
  }
  if (step) for (let i = 0; i < step.length; i++) {
    bounds[b++] = clip(step.starts[i]!);
    bounds[b++] = clip(step.ends[i]!);
  }
  bounds.sort();
  let np = 0; // distinct points, in place
  for (let i = 0; i < n; i++) if (np === 0 || bounds[i]! > bounds[np - 1]!) bounds[np++] = bounds[i]!;
  const pts = bounds.subarray(0, np);
  const m = Math.max(0, np - 1);
  const left = new Float64Array(m).fill(1);
  const owner = new Int32Array(m).fill(-1);
  const inStep = new Uint8Array(m);
  if (step) {
    // step boundaries are points, so each piece lies wholly inside or outside the steps
    let j = 0;
    for (let k = 0; k < m; k++) {
      while (j < step.length && step.ends[j]! <= pts[k]!) j++;
      inStep[k] = j < step.length && step.starts[j]! <= pts[k]! ? 1 : 0;
    }
  }

  const out: Allocation[] = specs.map(() => ({ netNs: 0, stepNs: 0, standaloneNs: 0, sharedWith: [] }));
  specs.forEach((sp, i) => {
    if (sp.kind !== "time") return;
    const a = out[i]!;
    const shared = new Set<number>();
    const c = sp.claim;
    let k = 0; // the claim's pieces are sorted and disjoint: one forward pass over the points
    for (let p = 0; p < c.starts.length; p++) {
      const s = clip(c.starts[p]!);
      const e = clip(c.ends[p]!);
      const w = c.weights[p]!;
      if (e <= s) continue;
      while (k < m && pts[k]! < s) k++;
      for (; k < m && pts[k]! < e; k++) {
        const len = pts[k + 1]! - pts[k]!;
        const take = Math.min(w, left[k]!);
        if (take < w && owner[k]! >= 0) shared.add(owner[k]!);
        a.standaloneNs += w * len;
        if (take <= 0) continue;
        left[k] = left[k]! - take;
        if (owner[k]! < 0) owner[k] = i;
        a.netNs += take * len;
        if (inStep[k]) a.stepNs += take * len;
      }
    }
    a.sharedWith = [...shared].sort((x, y) => x - y);
  });
  return out;
}

/** Scope names that mark one step of a serving or generation loop (torch's ProfilerStep#N too). */
export const STEP_SCOPE_NAME = /step|^iter(ation)?$/i;

export interface StepScope {
  name: string;
  count: number;
  union: Union;
}

/** The step scope: the scope named like a step with the most instances (then the most time, then by name); null if none. */
export function stepScope(instances: Map<string, CpuSpan[]>): StepScope | null {
  let best: { name: string; list: CpuSpan[]; total: number } | null = null;
  for (const [name, list] of instances) {
    if (!STEP_SCOPE_NAME.test(name) || list.length === 0) continue;
    let total = 0;
    for (const s of list) total += s.end - s.start;
    if (!best || list.length > best.list.length || (list.length === best.list.length && (total > best.total || (total === best.total && name < best.name)))) {
      best = { name, list, total };
    }
  }
  if (!best) return null;
  return {
    name: best.name,
    count: best.list.length,
    union: unionOf(
      best.list.map((s) => s.start),
      best.list.map((s) => s.end),
    ),
  };
}

/**
 * Where faster GPU work would shorten the run: the GPU's busy blocks except those the CPU left
 * waiting — a block followed by a host-wait gap that did not follow a sync (the CPU was busy
 * elsewhere, so finishing the block sooner only lengthens the gap). A block followed by a
 * kernel-wait or sync/other gap, by a host-wait gap that began while the CPU waited for the GPU
 * (a sync), or ending the window, sets the pace. `gapOccasion` is aligned with `gpu.gaps`: the
 * sync a gap followed, or -1 (SyncMetrics.gapOccasion).
 */
export function paceSetting(gpu: GpuTime, gapOccasion: ArrayLike<number>): Union {
  const b = new UnionBuilder();
  const all = gpu.all;
  const gaps = gpu.gaps;
  let gi = 0; // blocks and gaps are both in time order: the gap after a block starts where it ends
  for (let i = 0; i < all.length; i++) {
    const end = all.ends[i]!;
    while (gi < gaps.length && gaps[gi]!.start < end) gi++;
    const gap = gi < gaps.length && gaps[gi]!.start === end ? gaps[gi]! : undefined;
    const cpuLate = gap !== undefined && gap.kind === "host_wait" && gapOccasion[gi]! < 0;
    if (!cpuLate) b.add(all.starts[i]!, end);
  }
  return b.finish();
}

/** Per op (aligned with `ops`, sorted by start): 1 when it lies in the pace-setting time `pace`. */
export function pacedOps(ops: GpuOp[], pace: Union): Uint8Array {
  const out = new Uint8Array(ops.length);
  let j = 0; // ops in start order, pace blocks in time order: one sweep
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    while (j < pace.length && pace.ends[j]! < op.start) j++;
    // a block [s, e] holds the op; a zero-length op at a block's end belongs to it too
    let k = j;
    while (k < pace.length && pace.starts[k]! <= op.start) {
      if (op.end <= pace.ends[k]!) {
        out[i] = 1;
        break;
      }
      k++;
    }
  }
  return out;
}

/** ns → ms rounded down to the µs, and a share rounded down to 0.1 %: rounded savings never add up to more than the window. */
const floorMs = (ns: number): number => Math.floor(ns / 1e3 + 1e-9) / 1e3;
const floorPct = (part: number, whole: number): number => (whole > 0 ? Math.floor((part / whole) * 1000 + 1e-9) / 10 : 0);

export function estimatedSaving(spec: SavingSpec, a: Allocation, windowNs: number, step: StepScope | null, ruleOf: (i: number) => string): EstimatedSaving {
  if (spec.kind === "none") return { ms: null, pct_of_window: null, per: "window", basis: `not estimated: ${spec.reason}` };
  const perStep = step !== null;
  const out: EstimatedSaving = {
    ms: perStep ? floorMs(a.stepNs / step!.count) : floorMs(a.netNs),
    pct_of_window: floorPct(a.netNs, windowNs),
    per: perStep ? "step" : "window",
    basis: spec.basis,
  };
  if (perStep) {
    out.scope = step!.name;
    out.steps = step!.count;
  }
  out.window_ms = floorMs(a.netNs);
  if (a.standaloneNs - a.netNs >= 1e3) {
    out.standalone_ms = floorMs(a.standaloneNs);
    out.overlaps = a.sharedWith.map(ruleOf);
  }
  return out;
}

/** A finding as a rule made it: everything but its id and price, and the saving it claims. */
export type UnpricedFinding = Omit<Finding, "rule" | "estimated_saving"> & { saving: SavingSpec };

/**
 * Prices the findings of one report: shares the window out among their claims (in SAVING_ORDER),
 * writes each one's `estimated_saving`, and ranks them by it — the largest saving over the window
 * first, "not estimated" last; ties by impact, confidence, rule.
 */
export function priceFindings(made: { rule: string; finding: UnpricedFinding }[], windowStart: number, windowEnd: number, step: StepScope | null): Finding[] {
  const order = made.map((_, i) => i).sort((a, b) => savingRank(made[a]!.rule) - savingRank(made[b]!.rule) || a - b);
  const alloc = allocate(
    order.map((i) => made[i]!.finding.saving),
    windowStart,
    windowEnd,
    step?.union ?? null,
  );
  const windowNs = windowEnd - windowStart;
  const priced = order.map((i, k): Finding => {
    const { saving, title, severity, confidence, impact_ms, evidence, suggestions } = made[i]!.finding;
    const estimated_saving = estimatedSaving(saving, alloc[k]!, windowNs, step, (j) => made[order[j]!]!.rule);
    return { rule: made[i]!.rule, title, severity, confidence, impact_ms, estimated_saving, evidence, suggestions };
  });
  return sortBySaving(priced);
}

/** A finding's estimated saving over the window; -1 when not estimated or absent. */
function windowSaving(f: Finding): number {
  const s = f.estimated_saving;
  return !s || s.ms === null ? -1 : (s.window_ms ?? s.ms);
}

/** Findings by estimated saving over the window ("not estimated" last), then impact, confidence, rule. */
export function sortBySaving(findings: Finding[]): Finding[] {
  return findings.sort(
    (a, b) =>
      windowSaving(b) - windowSaving(a) ||
      b.impact_ms - a.impact_ms ||
      b.confidence - a.confidence ||
      a.rule.localeCompare(b.rule),
  );
}

/**
 * User rules' savings (`estimated_saving_ms`: a bare amount over the window, no intervals) get at
 * most what the built-in findings left of the window, in the order given; a user finding without
 * one says so. In place.
 */
export function priceUserFindings(user: Finding[], builtIn: Finding[], windowNs: number): void {
  let usedNs = 0;
  const holders: string[] = [];
  for (const f of builtIn) {
    const w = f.estimated_saving?.window_ms ?? 0;
    usedNs += w * 1e6;
    if (w > 0) holders.push(f.rule);
  }
  for (const f of user) {
    const s = f.estimated_saving;
    if (!s || s.ms === null) {
      f.estimated_saving = { ms: null, pct_of_window: null, per: "window", basis: "not estimated: the user rule gives no estimated_saving_ms" };
      continue;
    }
    const askedNs = Math.max(0, s.ms * 1e6);
    const takeNs = Math.min(askedNs, Math.max(0, windowNs - usedNs));
    usedNs += takeNs;
    const priced: EstimatedSaving = { ms: floorMs(takeNs), pct_of_window: floorPct(takeNs, windowNs), per: "window", basis: s.basis, window_ms: floorMs(takeNs) };
    if (askedNs - takeNs >= 1e3) {
      priced.standalone_ms = floorMs(askedNs);
      priced.overlaps = [...holders];
    }
    f.estimated_saving = priced;
    if (takeNs > 0) holders.push(f.rule);
  }
}
