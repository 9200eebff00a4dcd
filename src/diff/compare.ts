// Two reports → one comparison (the `inferscope.diff/v1` object, docs/diff.md): per scope with a
// significance test, GPU, kernels, hot functions, findings and classification, normalised per
// step when both traces have the same step scope. Works on reports alone, so a stored baseline
// report.json compares as well as a trace.
import type { Finding, Report, ScopeStat } from "../analyze/report-types.ts";
import { savingMs } from "../expr/report-metrics.ts";
import { medianChange, MIN_INSTANCES } from "./stats.ts";

export interface Change {
  base: number | null;
  new: number | null;
  change: number | null;
  change_pct: number | null;
}

export interface ScopeDiff {
  name: string;
  count: Change;
  mean_ms: Change;
  p50_ms: Change;
  p95_ms: Change;
  p99_ms: Change;
  p50_change_pct: number | null;
  ci_low_pct: number | null;
  ci_high_pct: number | null;
  significant: boolean | null;
  /** Why there is no test, when there is none. */
  test_note: string | null;
}

/** In both traces: "unchanged" when every figure is equal, else "changed". */
type PairStatus = "changed" | "unchanged" | "new" | "vanished";

export interface KernelDiff {
  name: string;
  status: PairStatus;
  count: Change;
  total_ms: Change;
  mean_us: Change;
}

export interface KernelClassDiff {
  class: string;
  label: string;
  status: PairStatus;
  count: Change;
  total_ms: Change;
  pct_of_busy: Change;
}

export interface FunctionDiff {
  function: string;
  file?: string;
  line?: number;
  status: PairStatus;
  self_ms: Change;
  calls: Change;
}

export interface FindingDiff {
  rule: string;
  status: "resolved" | "new" | "persisting";
  title: string;
  source?: "user";
  impact_ms: Change;
  estimated_saving_ms: Change;
  /** What the saving is counted over, as the finding says (`estimated_saving.per`). */
  saving_per?: "step" | "window";
}

export interface SideInfo {
  path: string;
  format: string;
  events: number;
  /** What was read: a trace (analyzed now) or a stored report. */
  from: "trace" | "report";
}

export interface Diff {
  schema: "inferscope.diff/v1";
  base: SideInfo;
  new: SideInfo;
  /** One sentence, Markdown-flavoured (`code` for names). */
  verdict: string;
  comparable: boolean;
  per: "step" | "window";
  step: { scope: string; base_count: number; new_count: number } | null;
  scopes: Record<string, ScopeDiff>;
  gpu: Record<string, Change> | null;
  /** Time per kernel class (`gpu.kernels.by_class`); empty when neither report has classes. */
  kernel_classes: KernelClassDiff[];
  kernels: KernelDiff[];
  functions: FunctionDiff[];
  findings: { resolved: string[]; new: string[]; persisting: string[]; details: FindingDiff[] };
  classification: { base: string; new: string; changed: boolean };
  notes: string[];
}

const round = (x: number, d = 6) => Math.round(x * 10 ** d) / 10 ** d;

function pairStatus(inBase: boolean, inNew: boolean, figures: Change[]): PairStatus {
  if (!inBase) return "new";
  if (!inNew) return "vanished";
  return figures.every((c) => c.change === 0) ? "unchanged" : "changed";
}

export function change(base: number | null | undefined, next: number | null | undefined): Change {
  const b = typeof base === "number" && Number.isFinite(base) ? base : null;
  const n = typeof next === "number" && Number.isFinite(next) ? next : null;
  const d = b !== null && n !== null ? n - b : null;
  return { base: b === null ? null : round(b), new: n === null ? null : round(n), change: d === null ? null : round(d), change_pct: d !== null && b !== null && b !== 0 ? round((d / b) * 100, 3) : null };
}

/** The scope with the most instances (the serving loop's step), when both reports have the same one. */
function stepScope(base: Report, next: Report): { name: string; b: ScopeStat; n: ScopeStat } | null {
  const main = (r: Report) => r.scopes.reduce<ScopeStat | null>((best, s) => (!best || s.count > best.count ? s : best), null);
  const mb = main(base);
  const mn = main(next);
  if (!mb || !mn || mb.name !== mn.name) {
    // Not the same main scope: a scope both have, with the most instances in both, still counts.
    let best: { name: string; b: ScopeStat; n: ScopeStat } | null = null;
    for (const b of base.scopes) {
      const n = next.scopes.find((s) => s.name === b.name);
      if (n && b.count >= MIN_INSTANCES && n.count >= MIN_INSTANCES && (!best || Math.min(b.count, n.count) > Math.min(best.b.count, best.n.count))) best = { name: b.name, b, n };
    }
    return best;
  }
  return { name: mb.name, b: mb, n: mn };
}

function scopeDiff(b: ScopeStat, n: ScopeStat): ScopeDiff {
  const d: ScopeDiff = {
    name: b.name,
    count: change(b.count, n.count),
    mean_ms: change(b.mean_ms, n.mean_ms),
    p50_ms: change(b.p50_ms, n.p50_ms),
    p95_ms: change(b.p95_ms, n.p95_ms),
    p99_ms: change(b.p99_ms, n.p99_ms),
    p50_change_pct: b.p50_ms > 0 ? round(((n.p50_ms - b.p50_ms) / b.p50_ms) * 100, 3) : null,
    ci_low_pct: null,
    ci_high_pct: null,
    significant: null,
    test_note: null,
  };
  if (!b.durations_ms || !n.durations_ms) {
    d.test_note = "instance durations not in the report (a report from before they were recorded): no significance test";
  } else if (b.durations_ms.length < MIN_INSTANCES || n.durations_ms.length < MIN_INSTANCES) {
    d.test_note = `too few instances for a significance test (${b.durations_ms.length} and ${n.durations_ms.length}; at least ${MIN_INSTANCES} each)`;
  } else {
    const m = medianChange(b.durations_ms, n.durations_ms);
    if (m) {
      d.ci_low_pct = round(m.low_pct, 3);
      d.ci_high_pct = round(m.high_pct, 3);
      d.significant = m.significant;
    } else d.test_note = "median of 0: no relative change";
  }
  return d;
}

/** Rows of both sides matched by key (BASE's order, then NEW's newcomers), one result each. */
function pairUp<T, R>(bs: readonly T[], ns: readonly T[], key: (x: T) => string, make: (b: T | undefined, n: T | undefined) => R): R[] {
  const bm = new Map(bs.map((x) => [key(x), x]));
  const nm = new Map(ns.map((x) => [key(x), x]));
  return [...new Set([...bm.keys(), ...nm.keys()])].map((k) => make(bm.get(k), nm.get(k)));
}

type Per = (side: "b" | "n", x: number) => number;

/** A figure of both sides, scaled per step. */
const perChange = (per: Per, b: number | undefined, n: number | undefined) => change(b !== undefined ? per("b", b) : null, n !== undefined ? per("n", n) : null);

function kernelDiffs(base: Report, next: Report, per: Per): KernelDiff[] {
  const out = pairUp(base.gpu?.kernels.top ?? [], next.gpu?.kernels.top ?? [], (k) => k.name, (b, n): KernelDiff => {
    const count = perChange(per, b?.count, n?.count);
    const total_ms = perChange(per, b?.total_ms, n?.total_ms);
    return { name: (b ?? n)!.name, status: pairStatus(!!b, !!n, [count, total_ms]), count, total_ms, mean_us: change(b?.mean_us, n?.mean_us) };
  });
  const delta = (k: KernelDiff) => Math.abs((k.total_ms.new ?? 0) - (k.total_ms.base ?? 0));
  return out.sort((a, b) => delta(b) - delta(a) || a.name.localeCompare(b.name));
}

function functionDiffs(base: Report, next: Report, per: Per): FunctionDiff[] {
  const key = (f: { function: string; file?: string; line?: number }) => `${f.function}\u0000${f.file ?? ""}\u0000${f.line ?? ""}`;
  const out = pairUp(base.cpu.top_functions ?? [], next.cpu.top_functions ?? [], key, (b, n): FunctionDiff => {
    const ref = (b ?? n)!;
    const self_ms = perChange(per, b?.self_ms, n?.self_ms);
    const calls = perChange(per, b?.calls, n?.calls);
    const d: FunctionDiff = { function: ref.function, status: pairStatus(!!b, !!n, [self_ms, calls]), self_ms, calls };
    if (ref.file !== undefined) d.file = ref.file;
    if (ref.line !== undefined) d.line = ref.line;
    return d;
  });
  const delta = (f: FunctionDiff) => Math.abs((f.self_ms.new ?? 0) - (f.self_ms.base ?? 0));
  return out.sort((a, b) => delta(b) - delta(a) || a.function.localeCompare(b.function));
}

/** Kernel classes side by side, by BASE's order of time then NEW's newcomers. */
function classDiffs(base: Report, next: Report, per: Per): KernelClassDiff[] {
  return pairUp(base.gpu?.kernels.by_class ?? [], next.gpu?.kernels.by_class ?? [], (c) => c.class, (b, n): KernelClassDiff => {
    const count = perChange(per, b?.count, n?.count);
    const total_ms = perChange(per, b?.total_ms, n?.total_ms);
    return { class: (b ?? n)!.class, label: (b ?? n)!.label, status: pairStatus(!!b, !!n, [count, total_ms]), count, total_ms, pct_of_busy: change(b?.pct_of_busy, n?.pct_of_busy) };
  });
}

function gpuDiff(base: Report, next: Report, per: Per): Record<string, Change> | null {
  const b = base.gpu;
  const n = next.gpu;
  if (!b && !n) return null;
  const both = <T>(f: (g: NonNullable<Report["gpu"]>) => T | null | undefined, scale = true) =>
    change(b ? (scale ? per("b", Number(f(b) ?? NaN)) : f(b)) as number | null : null, n ? (scale ? per("n", Number(f(n) ?? NaN)) : f(n)) as number | null : null);
  const copies = (g: NonNullable<Report["gpu"]>) => [g.memcpy.h2d, g.memcpy.d2h, g.memcpy.d2d, g.memcpy.other];
  const pageable = (g: NonNullable<Report["gpu"]>) => {
    const c = copies(g);
    const count = c.reduce((s, x) => s + x.count, 0);
    return count > 0 ? (100 * c.reduce((s, x) => s + x.pageable_count, 0)) / count : null;
  };
  return {
    window_ms: both((g) => g.window_ms),
    busy_ms: both((g) => g.busy_ms),
    utilization_pct: both((g) => g.utilization_pct, false),
    idle_ms: both((g) => g.idle.total_ms),
    host_wait_ms: both((g) => g.idle.host_wait_ms),
    kernel_wait_ms: both((g) => g.idle.kernel_wait_ms),
    sync_other_ms: both((g) => g.idle.sync_other_ms),
    kernel_count: both((g) => g.kernels.count),
    kernel_ms: both((g) => g.kernels.total_ms),
    launch_calls: both((g) => g.kernels.launch_calls),
    syncs: both((g) => g.syncs.count),
    sync_blocked_ms: both((g) => g.syncs.blocked_ms),
    h2d_bytes: both((g) => g.memcpy.h2d.bytes),
    d2h_bytes: both((g) => g.memcpy.d2h.bytes),
    d2d_bytes: both((g) => g.memcpy.d2d.bytes),
    copies: both((g) => copies(g).reduce((s, x) => s + x.count, 0)),
    copy_ms: both((g) => copies(g).reduce((s, x) => s + x.ms, 0)),
    pageable_pct: both(pageable, false),
  };
}

function findingsDiff(base: Report, next: Report): Diff["findings"] {
  const bf = new Map(base.findings.map((f) => [f.rule, f]));
  const nf = new Map(next.findings.map((f) => [f.rule, f]));
  const details: FindingDiff[] = [];
  const add = (rule: string, status: FindingDiff["status"], b: Finding | undefined, n: Finding | undefined) => {
    const d: FindingDiff = { rule, status, title: (n ?? b)!.title, impact_ms: change(b?.impact_ms, n?.impact_ms), estimated_saving_ms: change(b ? savingMs(b) : null, n ? savingMs(n) : null) };
    if ((n ?? b)!.source === "user") d.source = "user";
    const per = (n ?? b)!.estimated_saving?.per;
    if (per) d.saving_per = per;
    details.push(d);
  };
  for (const [rule, b] of bf) add(rule, nf.has(rule) ? "persisting" : "resolved", b, nf.get(rule));
  for (const [rule, n] of nf) if (!bf.has(rule)) add(rule, "new", undefined, n);
  const ids = (s: FindingDiff["status"]) => details.filter((d) => d.status === s).map((d) => d.rule);
  return { resolved: ids("resolved"), new: ids("new"), persisting: ids("persisting"), details };
}

const pctText = (x: number) => `${x > 0 ? "+" : x < 0 ? "−" : ""}${Math.abs(x) >= 10 ? Math.abs(x).toFixed(0) : Math.abs(x).toFixed(1)} %`;
const msText = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toFixed(3));
const CLASS: Record<string, string> = { cpu_bound: "CPU-bound", gpu_bound: "GPU-bound", memory_bound: "memory-bound", balanced: "balanced", unknown: "unknown" };
const ruleName = (id: string) => id.replace(/_/g, "-");

function verdict(d: Diff): string {
  if (!d.comparable) return "BASE and NEW look like different programs: they share no kernel and no function, so a comparison would mean nothing. Compare two runs of the same script.";
  const parts: string[] = [];
  const step = d.step ? d.scopes[d.step.scope] : undefined;
  if (step && step.p50_ms.base !== null && step.p50_ms.new !== null && step.p50_change_pct !== null) {
    const name = `\`${step.name}\``;
    const p50 = `p50 ${msText(step.p50_ms.base)} → ${msText(step.p50_ms.new)} ms`;
    const faster = step.p50_change_pct < 0;
    const size = `${Math.abs(step.p50_change_pct) >= 10 ? Math.abs(step.p50_change_pct).toFixed(0) : Math.abs(step.p50_change_pct).toFixed(1)} %`;
    if (step.significant === true) parts.push(`NEW is ${size} ${faster ? "faster" : "slower"} per ${name} (${p50}, 95 % CI of the change ${pctText(step.ci_low_pct!)} … ${pctText(step.ci_high_pct!)})`);
    else if (step.significant === false) parts.push(`no significant change per ${name} (${p50}, ${pctText(step.p50_change_pct)}; the 95 % CI ${pctText(step.ci_low_pct!)} … ${pctText(step.ci_high_pct!)} spans 0)`);
    else parts.push(`per ${name}: ${p50} (${pctText(step.p50_change_pct)}; ${step.test_note})`);
  } else if (d.gpu?.window_ms && d.gpu.window_ms.base !== null && d.gpu.window_ms.new !== null) {
    parts.push(`no common step scope, compared per window: GPU window ${msText(d.gpu.window_ms.base)} → ${msText(d.gpu.window_ms.new)} ms`);
  } else parts.push("no common step scope, compared per window");
  const u = d.gpu?.utilization_pct;
  if (u && u.base !== null && u.new !== null) parts.push(`GPU utilization ${u.base.toFixed(0)} → ${u.new.toFixed(0)} %`);
  for (const r of d.findings.resolved) parts.push(`${ruleName(r)} resolved`);
  // A saving is per step only when the finding says so (issue 12's `estimated_saving.per`).
  const unit = (f: FindingDiff) => (f.saving_per === "step" ? (d.step ? `/${d.step.scope}` : "/step") : "");
  const news = d.findings.details.filter((f) => f.status === "new").map((f) => (f.estimated_saving_ms.new !== null ? `${ruleName(f.rule)} (est. ${msText(f.estimated_saving_ms.new)} ms${unit(f)})` : ruleName(f.rule)));
  if (news.length) parts.push(`new: ${news.join(", ")}`);
  if (d.classification.changed) parts.push(`${CLASS[d.classification.base] ?? d.classification.base} → ${CLASS[d.classification.new] ?? d.classification.new}`);
  const s = parts.join("; ");
  return `${s.charAt(0).toUpperCase()}${s.slice(1)}.`;
}

export function diffReports(base: Report, next: Report, info: { base: SideInfo; new: SideInfo; top?: number }): Diff {
  const top = info.top ?? 10;
  const step = stepScope(base, next);
  const per: Diff["per"] = step ? "step" : "window";
  const scale = (side: "b" | "n", x: number) => (Number.isFinite(x) ? (step ? x / (side === "b" ? step.b.count : step.n.count) : x) : NaN);
  const scopes: Record<string, ScopeDiff> = {};
  for (const b of base.scopes) {
    const n = next.scopes.find((s) => s.name === b.name);
    if (n) scopes[b.name] = scopeDiff(b, n);
  }
  const kernels = kernelDiffs(base, next, scale);
  const functions = functionDiffs(base, next, scale);
  // The same program shares kernels or functions; a shared scope name ("step") alone proves
  // nothing, unless neither trace has kernels or functions to compare.
  const inBoth = (x: { status: PairStatus }) => x.status === "changed" || x.status === "unchanged";
  const common = kernels.some(inBoth) || functions.some(inBoth);
  const nothingElse = kernels.length === 0 && functions.length === 0;
  const comparable = common || (nothingElse && Object.keys(scopes).length > 0);
  const notes: string[] = [];
  for (const [side, r, i] of [["BASE", base, info.base], ["NEW", next, info.new]] as const) {
    if (i.from === "report" && r.gpu && r.gpu.kernels.top.length < r.gpu.kernels.count) notes.push(`${side} is a stored report: kernels and hot functions are limited to its top ${r.gpu.kernels.top.length}`);
  }
  notes.push(per === "step" ? `Figures per instance of \`${step!.name}\` (BASE ${step!.b.count}, NEW ${step!.n.count} instances); percentages as they are.` : "No step scope in both traces: figures are per trace window (totals).");
  notes.push("Hot functions compare self time (wall clock, not on-CPU time: on-CPU time is not measured).");
  const d: Diff = {
    schema: "inferscope.diff/v1",
    base: info.base,
    new: info.new,
    verdict: "",
    comparable,
    per,
    step: step ? { scope: step.name, base_count: step.b.count, new_count: step.n.count } : null,
    scopes,
    gpu: gpuDiff(base, next, scale),
    kernel_classes: classDiffs(base, next, scale),
    kernels: kernels.slice(0, top),
    functions: functions.slice(0, top),
    findings: findingsDiff(base, next),
    classification: { base: base.bottleneck.classification, new: next.bottleneck.classification, changed: base.bottleneck.classification !== next.bottleneck.classification },
    notes,
  };
  d.verdict = verdict(d);
  return d;
}
