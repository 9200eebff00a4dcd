// The classification of a run without GPU activity (docs/analysis.md, "Classification without a
// GPU"), from the window's running and waiting time:
//   cpu_bound   the threads ran (on the CPU, in traced code) at least CPU_BOUND_RUNNING_SHARE of
//               the window, all threads and processes together; the reason names the function
//               with the most running self time, its scope and processes;
//   wait_bound  else, the main thread waited (in blocking builtins) at least
//               WAIT_BOUND_WAIT_SHARE of the window: the program waits (for input, a lock, a
//               child); it is not CPU-bound;
//   balanced    neither dominates.
// unknown when no Python call, torch op or wait was traced, or the steady state is shorter than
// CPU_MIN_WINDOW_NS (cpu-focus.ts: the window --window auto picks, or the run after start-up
// under --window all when start-up is most of it).
import type { Report } from "./report-types.ts";
import { clamp01, formatMs, pct, round, windowName } from "./rules/common.ts";
import type { AnalysisContext } from "./rules/common.ts";
import { describePlace, inBackticks, kernelCpu, mainThread, OFF_CPU_SHARE, offCpu, placeOf, runningNs, shortSteadyState, windowNs } from "./cpu-focus.ts";

/** The threads ran at least this share of the window (Σ over threads): CPU-bound. */
export const CPU_BOUND_RUNNING_SHARE = 0.5;
/** The main thread waited at least this share of the window (and nothing ran that much): waiting. */
export const WAIT_BOUND_WAIT_SHARE = 0.5;
/** A wait that holds at least this share of the window is named in a CPU-bound reason. */
export const CPU_BOUND_NAME_WAIT_SHARE = 0.3;
/** Confidence of a wait_bound read from the kernel's CPU time alone (the waits themselves unseen). */
export const OFF_CPU_CONFIDENCE = 0.6;
/** Kernel CPU time below this share of the running time is named: threads waited for a core. */
export const RUNNABLE_NOTE_SHARE = 0.6;
/**
 * "; the kernel counted only 12 % of it as CPU time: …" when the traced threads were often ready
 * to run without a core, waiting for the GIL, or blocked where the tracer sees no wait. The kernel's figure covers
 * every sampled thread (torch's intra-op threads run ops on behalf of traced ones).
 */
function runnableNote(ctx: AnalysisContext, run: number): string {
  const k = kernelCpu(ctx);
  if (!k) return "";
  const kernel = k.ns;
  if (kernel <= 0 || run <= 0 || kernel >= RUNNABLE_NOTE_SHARE * run) return "";
  // a gap within the figure's own error says nothing (a 45 ms recursive fib "counted only 44 %")
  if (run - kernel <= k.errNs) return "";
  return `; the kernel counted only ${pct(kernel, run)} % of that as CPU time: the threads were often waiting for a core (other processes, more threads than cores) or for the GIL (Python threads take turns), or blocked in calls not counted as waits (page faults, a C extension's I/O)`;
}

/** `note`: a clause about the missing GPU data appended to the reason ("" for none). */
export function classifyWithoutGpu(ctx: AnalysisContext, note: string): Report["bottleneck"] {
  const tail = note ? `; ${note}` : "";
  const W = windowNs(ctx);
  const hot = ctx.hot.functions;
  if ((hot.length === 0 && !ctx.waits.recorded) || W <= 0) {
    return { classification: "unknown", confidence: 0, reason: `no Python calls or torch ops were traced${tail}` };
  }
  const run = runningNs(ctx);
  const main = mainThread(ctx);
  const mainWait = main?.waitNs ?? 0;
  const runShare = run / W;
  const top = hot[0];
  const span = windowName(ctx);
  const where = `of ${span}`;
  const short = shortSteadyState(ctx);
  if (short !== null) {
    const what = ctx.window?.mode === "all" ? `start-up takes ${pct(ctx.startup!.share, 1)} % of the run, and the work after it lasts only ${formatMs(short)}` : `${span} lasts only ${formatMs(short)}`;
    return { classification: "unknown", confidence: 0, reason: `${what}: too little work to diagnose; profile more of it (more iterations, a longer input)${tail}` };
  }
  // the main thread's longest kind of wait
  const mainWaits = ctx.waits.entries.filter((e) => main && e.tid === main.tid);
  const byKind = new Map<string, number>();
  for (const e of mainWaits) byKind.set(e.on, (byKind.get(e.on) ?? 0) + e.ns);
  const topKind = [...byKind].sort((a, b) => b[1] - a[1])[0];
  const topCall = mainWaits[0];

  // "running" in traced code while the kernel says the process hardly ran: off the CPU where the
  // tracer sees no wait (`for line in sys.stdin` was "<module> takes 99.9 % of the CPU time")
  if (runShare >= CPU_BOUND_RUNNING_SHARE && offCpu(ctx, OFF_CPU_SHARE)) {
    const k = kernelCpu(ctx)!;
    const in_ = top ? `, most in ${describePlace(placeOf(ctx, top))}` : "";
    return {
      classification: "wait_bound",
      confidence: OFF_CPU_CONFIDENCE,
      reason: `the threads were in traced code ${pct(run, W)} % ${where}${in_}, but the kernel counted only ${pct(k.ns, W)} % of a core as their CPU time: they mostly waited in calls the tracer does not see as waits (iterating over a pipe, socket or terminal, as \`for line in sys.stdin\`; a C extension's I/O or locks), or had no core on a busy machine${tail}`,
    };
  }
  if (runShare >= CPU_BOUND_RUNNING_SHARE && top && top.selfNs > 0) {
    const place = describePlace(placeOf(ctx, top));
    const cores = round(run / W, 2);
    let reason = `on the CPU, the threads ran ${cores >= 1.05 ? `${cores} cores' worth` : `${pct(run, W)} %`} ${where}, and ${place} took the most running time: ${pct(top.selfNs, run)} % of the CPU busy time${runnableNote(ctx, run)}`;
    if (main && mainWait >= CPU_BOUND_NAME_WAIT_SHARE * W && topKind) {
      reason += `; the main thread waited ${pct(mainWait, W)} % of it for ${topKind[0]}`;
    }
    reason += tail;
    return { classification: "cpu_bound", confidence: round(0.5 + 0.45 * clamp01((Math.min(runShare, 1) - CPU_BOUND_RUNNING_SHARE) / (1 - CPU_BOUND_RUNNING_SHARE))), reason };
  }
  if (main && mainWait >= WAIT_BOUND_WAIT_SHARE * W) {
    const fn = topCall?.function ? ` in ${inBackticks(topCall.function)}` : "";
    const on = topKind ? `, mostly for ${topKind[0]} (\`${topCall!.call}\`${fn})` : "";
    return {
      classification: "wait_bound",
      confidence: round(0.5 + 0.45 * clamp01((mainWait / W - WAIT_BOUND_WAIT_SHARE) / (1 - WAIT_BOUND_WAIT_SHARE))),
      reason: `the main thread waited ${pct(mainWait, W)} % ${where}${on}; the threads ran only ${pct(run, W)} % of it: the program is not CPU-bound${tail}`,
    };
  }
  return {
    classification: "balanced",
    confidence: 0.5,
    reason: `neither running nor waiting dominates ${span}: the threads ran ${pct(run, W)} %, the main thread waited ${pct(mainWait, W)} %${top ? `; the most running time is in ${describePlace(placeOf(ctx, top))}` : ""}${tail}`,
  };
}
