// What every rule shares: the context it reads, confidence and severity levels, and helpers to
// name code in suggestions. One rule per file beside this one; rules/index.ts lists them.
import type { Trace } from "../../trace/model.ts";
import type { MergeResult } from "../../merge/index.ts";
import type { CodeRef, RequestStats, Severity } from "../report-types.ts";
import type { CpuMetrics } from "../cpu.ts";
import type { GpuTime } from "../gpu.ts";
import type { GpuWork } from "../gpu-work.ts";
import type { HotFunctions } from "../hot-functions.ts";
import type { IdleEntry } from "../idle.ts";
import type { KernelMetrics } from "../kernels.ts";
import type { ScopeMetrics } from "../scopes.ts";
import type { SyncMetrics } from "../syncs.ts";
import type { TransferMetrics } from "../transfers.ts";
import type { ParamDefs, Params } from "../params.ts";
import type { SavingSpec, UnpricedFinding } from "../savings.ts";
import type { CallTree } from "../call-tree.ts";
import type { ModuleMetrics } from "../modules.ts";
import type { WaitMetrics } from "../waits.ts";
import type { AnalysisWindow, StartupPhase } from "../window.ts";

/** A finding at or above this confidence is reported as HIGH confidence. */
export const CONFIDENCE_HIGH = 0.8;
/** … and at or above this one as MEDIUM; below, LOW. */
export const CONFIDENCE_MEDIUM = 0.6;

/** Severity from the time at stake, as a share of the GPU window (or of the trace's span). */
export const SEVERITY_HIGH_SHARE = 0.25;
export const SEVERITY_MEDIUM_SHARE = 0.05;

/** GPU idle above this share of the GPU window is a finding (the seeds' 10 %). */
export const GPU_IDLE_MIN_SHARE = 0.1;

export interface AnalysisContext {
  trace: Trace;
  merge: MergeResult;
  /** null when the trace has no GPU ops */
  gpu: GpuTime | null;
  kernels: KernelMetrics | null;
  transfers: TransferMetrics | null;
  /** kernel classes, GEMMs, the device, pace-setting time; null when the trace has no GPU ops */
  work: GpuWork | null;
  syncs: SyncMetrics;
  scopes: ScopeMetrics;
  /** null when the trace marks no request */
  requests: RequestStats | null;
  cpu: CpuMetrics;
  /** host-wait attribution, sorted by idle time */
  idle: IdleEntry[];
  /** per-function CPU time (Python calls, torch ops), sorted by self time */
  hot: HotFunctions;
  /** per-layer (nn.Module) time; null when the trace has no module calls */
  modules: ModuleMetrics | null;
  /** every stack, merged (flame graphs, folded / speedscope exports, layers): built on first use */
  callTree(): CallTree;
  top: number;
  /** where threads waited (blocking builtins), sorted by time */
  waits: WaitMetrics;
  /** the span analysed (the steady state by default) and the start-up before it; null: the whole trace */
  window: AnalysisWindow | null;
  startup: StartupPhase | null;
  /** Events in the whole trace (before the window). */
  eventCount: number;
}

/**
 * A finding as a rule makes it: the runner (evaluateRules) names it with the rule's id and prices
 * it from `saving` — the time its fix would remove, or why no honest bound exists (savings.ts).
 */
export type RuleFinding = UnpricedFinding;
export type { SavingSpec };

export interface Rule<D extends ParamDefs = ParamDefs> {
  id: string;
  /** One line: what the rule looks for. */
  description: string;
  /** Its thresholds, with defaults; a rules file overrides them as `rule_id.param`. */
  params: D;
  /** A finding, or null when the rule does not fire — always null when its data is missing. */
  evaluate(ctx: AnalysisContext, p: Params<D>): RuleFinding | null;
}

export function confidenceLevel(c: number): "high" | "medium" | "low" {
  return c >= CONFIDENCE_HIGH ? "high" : c >= CONFIDENCE_MEDIUM ? "medium" : "low";
}

export function severityFor(impactNs: number, spanNs: number): Severity {
  const share = spanNs > 0 ? impactNs / spanNs : 0;
  return share >= SEVERITY_HIGH_SHARE ? "high" : share >= SEVERITY_MEDIUM_SHARE ? "medium" : "low";
}

export function clamp01(x: number): number {
  return Math.max(0, Math.min(1, x));
}

/**
 * The confidence of a rule that fires when a share passes its threshold: 0.6 at the threshold,
 * rising to 0.95 at a share of 1 (docs/analysis.md, "Confidence").
 */
export function shareConfidence(share: number, threshold: number): number {
  return round(clamp01(0.6 + 0.35 * clamp01((share - threshold) / (1 - threshold))));
}

/** For evidence and titles: ns → ms rounded to the µs (3 decimals), percentages with 1. */
export const msRounded = (ns: number): number => Math.round(ns / 1e3) / 1e3;
/** What the analysed span is called: "the steady state" (--window auto), "the run" (all), "the window" (a scope or mark). */
export function windowName(ctx: AnalysisContext): string {
  const mode = ctx.window?.mode ?? "all";
  return mode === "auto" ? "the steady state" : mode === "all" ? "the run" : "the window";
}

/** " in the steady state", " in the window", or "" for the whole run: for titles. */
export function inWindow(ctx: AnalysisContext): string {
  return (ctx.window?.mode ?? "all") === "all" ? "" : ` in ${windowName(ctx)}`;
}

export const pct = (part: number, whole: number): number => (whole > 0 ? Math.round((part / whole) * 1000) / 10 : 0);
export const round = (x: number, digits = 2): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/** `tokenize` (preprocess.py:41) in scope `step` — for suggestions. */
export function codeName(ref: Partial<CodeRef> | undefined, fallback = "the launching code"): string {
  if (!ref?.function) return ref?.scope ? `code in scope \`${ref.scope}\`` : fallback;
  let s = `\`${ref.function}\``;
  if (ref.file) s += ` (${ref.file}${ref.line !== undefined ? `:${ref.line}` : ""})`;
  if (ref.scope && ref.scope !== ref.function) s += ` in scope \`${ref.scope}\``;
  return s;
}

/** A CodeRef without undefined keys (for evidence). */
export function cleanRef<T extends Partial<CodeRef>>(ref: T): T {
  const out = {} as T;
  for (const [k, v] of Object.entries(ref)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** The scope with the most instances (the "step" of a serving loop), if any. */
export function mainScope(ctx: AnalysisContext): { name: string; count: number } | null {
  let best: { name: string; count: number } | null = null;
  for (const s of ctx.scopes.stats) if (!best || s.count > best.count) best = { name: s.name, count: s.count };
  return best;
}

export function formatBytes(b: number): string {
  if (b >= 1 << 30) return `${(b / (1 << 30)).toFixed(2)} GiB`;
  if (b >= 1 << 20) return `${(b / (1 << 20)).toFixed(1)} MiB`;
  if (b >= 1 << 10) return `${(b / (1 << 10)).toFixed(1)} KiB`;
  return `${b} B`;
}

export function formatMs(ns: number): string {
  const m = ns / 1e6;
  return m >= 100 ? `${m.toFixed(0)} ms` : m >= 1 ? `${m.toFixed(2)} ms` : `${(ns / 1e3).toFixed(1)} µs`;
}
