// What the CPU-side diagnosis (the no-GPU classification and the CPU rules) shares: the window's
// length, the script's main thread, the hottest functions with the scope and processes they ran
// in, and the processes' roles.
import type { CpuSpan, ProcessInfo } from "../trace/model.ts";
import type { ThreadMetrics } from "./cpu.ts";
import type { HotFunction } from "./hot-functions.ts";
import type { AnalysisContext } from "./rules/common.ts";
import { mainPid, spanExtent } from "./window.ts";
import { ClaimBuilder, type SavingSpec } from "./savings.ts";
import { isUserFile } from "./waits.ts";
import { STARTUP_MIN_SHARE } from "./rules/startup-dominates.ts";

/** Length of the analysed window (the trace's CPU extent when there is none). */
export function windowNs(ctx: AnalysisContext): number {
  if (ctx.window) return Math.max(0, ctx.window.end - ctx.window.start);
  const e = spanExtent(ctx.trace.spans);
  return e ? e.end - e.start : 0;
}

export function processes(ctx: AnalysisContext): ProcessInfo[] {
  return (ctx.trace.meta.processes as ProcessInfo[] | undefined) ?? [];
}

export function processLabel(ctx: AnalysisContext, pid: number): string {
  return processes(ctx).find((p) => p.pid === pid)?.label ?? `pid ${pid}`;
}

/** The script's main thread: MainThread of the main process, else its busiest thread. */
export function mainThread(ctx: AnalysisContext): ThreadMetrics | undefined {
  const pid = mainPid(ctx.trace);
  const mine = ctx.cpu.threads.filter((t) => pid === null || t.pid === pid);
  return mine.find((t) => t.name === "MainThread") ?? mine[0];
}

/** Σ running time of every thread (the CPU busy time the hot-function shares are of). */
export function runningNs(ctx: AnalysisContext): number {
  let n = 0;
  for (const t of ctx.cpu.threads) n += t.runningNs;
  return n;
}

/**
 * A steady state shorter than this is too short for a CPU diagnosis: a few calls and one-off
 * work, where a function "taking 60 % of the CPU time" means 0.1 ms (a script that does next to
 * nothing after its imports gave findings about its `<module>`). It applies to the window
 * --window auto picks, and to --window all when start-up is most of the run (there the run is
 * start-up, which its own finding covers, and the threads' shares of it say nothing). A scope
 * or a mark the user names is diagnosed whatever its length.
 */
export const CPU_MIN_WINDOW_NS = 5e6;

/** The length of the steady state when it is too short to diagnose (CPU_MIN_WINDOW_NS), else null. */
export function shortSteadyState(ctx: AnalysisContext): number | null {
  const w = ctx.window;
  if (w?.mode === "auto") return windowNs(ctx) < CPU_MIN_WINDOW_NS ? windowNs(ctx) : null;
  const s = ctx.startup;
  if (w?.mode !== "all" || !s || s.share < STARTUP_MIN_SHARE) return null;
  const after = Math.max(0, w.end - s.endNs);
  return after < CPU_MIN_WINDOW_NS ? after : null;
}

/** Whether the steady state is too short to diagnose (shortSteadyState). */
export const tooShort = (ctx: AnalysisContext): boolean => shortSteadyState(ctx) !== null;

/** /proc's CPU tick (USER_HZ 100), and the sampler's interval when a trace does not say. */
const TICK_NS = 10e6;
const DEFAULT_SAMPLE_NS = 20e6;

/**
 * The CPU time the kernel counted for every sampled thread in the window (traced or not: torch's
 * intra-op threads run the ops of traced ones), and its error: per thread a 10 ms tick, plus one
 * sampling interval (the window's first sample reaches back before it); null when not sampled.
 * The process's own figure (the `cpu` track) counts too where it is larger: threads that lived
 * between two samples have no track of their own, but their time is in the process's.
 */
export function kernelCpu(ctx: AnalysisContext): { ns: number; errNs: number } | null {
  const byThread = ctx.cpu.kernelByThread;
  if (byThread.size === 0) return null;
  const interval = typeof ctx.trace.meta.sampleIntervalMs === "number" ? ctx.trace.meta.sampleIntervalMs * 1e6 : DEFAULT_SAMPLE_NS;
  let ns = 0;
  for (const v of byThread.values()) ns += v;
  const c = ctx.cpu;
  if (c.cpuUtilMean !== null && c.cpuSamples >= PROCESS_CPU_MIN_SAMPLES) ns = Math.max(ns, (c.cpuUtilMean / 100) * windowNs(ctx));
  return { ns, errNs: byThread.size * (TICK_NS + interval) };
}
/** Samples of the process's CPU needed for its figure to count in kernelCpu. */
const PROCESS_CPU_MIN_SAMPLES = 3;

/**
 * Whether the kernel says the process used less than `share` of a core over the window, even
 * counting its error, while the traced threads were "running" more than that: they were off the
 * CPU in calls the tracer does not see as waits (`for line in sys.stdin` reads from C), or had
 * no core. Their running time then is not CPU time.
 */
export function offCpu(ctx: AnalysisContext, share: number): boolean {
  const k = kernelCpu(ctx);
  const W = windowNs(ctx);
  return k !== null && W > 0 && unblockedNs(ctx) >= share * W && k.ns + k.errNs < share * W;
}

/** Σ running time of every thread less its time blocked on the GPU (a sync the tracer saw: off the CPU, but not unseen). */
export function unblockedNs(ctx: AnalysisContext): number {
  let n = 0;
  for (const t of ctx.cpu.threads) n += Math.max(0, t.runningNs - t.blockedNs);
  return n;
}

/** Off the CPU at this share (offCpu): the threads' traced running time is not CPU time, and the CPU rules stay silent (unseen_waits speaks). */
export const OFF_CPU_SHARE = 0.5;

/** The threads' running time and the window, when the threads ran at least `minBusyShare` of a window long enough to diagnose, and were on the CPU (not offCpu at OFF_CPU_SHARE); else null. */
export function busyThreads(ctx: AnalysisContext, minBusyShare: number): { run: number; W: number } | null {
  const run = runningNs(ctx);
  const W = windowNs(ctx);
  return run <= 0 || W <= 0 || tooShort(ctx) || run < minBusyShare * W || offCpu(ctx, OFF_CPU_SHARE) ? null : { run, W };
}

/** As busyThreads, for the rules about Python code: null too when Python calls were not traced. */
export function busyCpu(ctx: AnalysisContext, minBusyShare: number): { run: number; W: number } | null {
  return ctx.cpu.pythonTraced ? busyThreads(ctx, minBusyShare) : null;
}

export interface FunctionPlace {
  fn: HotFunction;
  /** The user scope most of its self time ran in, if any. */
  scope?: string;
  /** Processes (labels) it ran in, when not only the main one. */
  where: string[];
  /** Whether it is the user's own code (not the standard library or site-packages). */
  user: boolean;
}

/** Where a hot function ran: its dominant enclosing scope, and its processes. */
export function placeOf(ctx: AnalysisContext, fn: HotFunction): FunctionPlace {
  const byScope = new Map<string, number>();
  const pids = new Set<number>();
  const same = (s: CpuSpan) =>
    s.name === fn.function && (fn.kind === "cpu_op" ? s.cat === "cpu_op" : s.cat === "python" && s.file === fn.file && s.line === fn.line);
  for (const spans of ctx.merge.byThread.values()) {
    const scopes: CpuSpan[] = [];
    for (const s of spans) {
      while (scopes.length && scopes[scopes.length - 1]!.end <= s.start) scopes.pop();
      if (s.cat === "scope") {
        scopes.push(s);
        continue;
      }
      if (!same(s)) continue;
      pids.add(s.pid);
      const sc = scopes[scopes.length - 1];
      if (sc) byScope.set(sc.name, (byScope.get(sc.name) ?? 0) + (s.end - s.start));
    }
  }
  for (const x of ctx.trace.summaries) if (x.name === fn.function && x.kind === fn.kind && x.file === fn.file && x.line === fn.line) pids.add(x.pid);
  let scope: string | undefined;
  let best = 0;
  for (const [name, ns] of byScope) if (ns > best) [scope, best] = [name, ns];
  const main = mainPid(ctx.trace);
  const where = [...pids].filter((p) => p !== main).sort((a, b) => a - b).map((p) => processLabel(ctx, p));
  const place: FunctionPlace = { fn, where, user: fn.kind === "python" && isUserFile(fn.file) };
  if (scope !== undefined) place.scope = scope;
  return place;
}

/** "/a/b/c/pre.py", 41 → "c/pre.py:41". */
export function shortLocation(file: string | undefined, line: number | undefined): string {
  if (!file) return "";
  const parts = file.split("/").filter((p) => p.length > 0);
  const short = parts.length > 2 ? parts.slice(-2).join("/") : file;
  return line !== undefined && Number.isFinite(line) ? `${short}:${line}` : short;
}

/** Text with its backticks made quotes, so that it cannot end a Markdown code span around it. */
export const tick = (s: string) => s.replace(/`/g, "'");

/** A name as Markdown code: "`f`" (a backtick in it would end the code span: it becomes '). */
export const inBackticks = (s: string) => `\`${tick(s)}\``;

/** "`f` (c/pre.py:41)". */
export function describeFunction(fn: { function: string; file?: string; line?: number }): string {
  const loc = shortLocation(fn.file, fn.line);
  return `${inBackticks(fn.function)}${loc ? ` (${tick(loc)})` : ""}`;
}

/** "`_merge` (pre.py:41) in scope `request`, in DataLoader worker 0 and DataLoader worker 1"; processes of one label are counted ("in 2 × python -c"). */
export function describePlace(p: FunctionPlace): string {
  let s = describeFunction(p.fn);
  if (p.scope) s += ` in scope ${inBackticks(p.scope)}`;
  const byLabel = new Map<string, number>();
  for (const w of p.where) byLabel.set(w, (byLabel.get(w) ?? 0) + 1);
  const where = [...byLabel].map(([label, n]) => (n > 1 ? `${n} × ${label}` : label));
  if (where.length) s += ` in ${joinAnd(where.slice(0, 3))}${where.length > 3 ? ` and ${where.length - 3} more` : ""}`;
  return s;
}

export function joinAnd(xs: string[]): string {
  return xs.length <= 1 ? (xs[0] ?? "") : `${xs.slice(0, -1).join(", ")} and ${xs[xs.length - 1]}`;
}

/** A function's own running time as a saving: its calls in the script's process, weighted by its share of self time in them. */
export function ownTime(ctx: AnalysisContext, fn: HotFunction): SavingSpec {
  const pid = mainPid(ctx.trace);
  const b = new ClaimBuilder();
  const w = fn.totalNs > 0 ? Math.min(1, fn.selfNs / fn.totalNs) : 0;
  for (const spans of ctx.merge.byThread.values()) {
    for (const s of spans) if (s.name === fn.function && s.file === fn.file && s.line === fn.line && (pid === null || s.pid === pid)) b.add(s.start, s.end, w);
  }
  return { kind: "time", claim: b.build(), basis: "its own running time (self time over its calls), all of it gone if the work cost nothing" };
}

/**
 * A thread's wait spans as a saving claim, weighted so that they add up to `ns` (the part of its
 * waiting a rule speaks for: the waits for workers, the blocking calls); the weight is the same
 * for every span, as the spans do not say which kind of wait each is.
 */
export function waitClaim(ctx: AnalysisContext, tid: number, ns: number) {
  const b = new ClaimBuilder();
  const spans = (ctx.merge.byThread.get(tid) ?? []).filter((s) => s.cat === "wait");
  const all = spans.reduce((a, s) => a + (s.end - s.start), 0);
  const w = all > 0 ? Math.min(1, ns / all) : 0;
  for (const s of spans) b.add(s.start, s.end, w);
  return b.build();
}
