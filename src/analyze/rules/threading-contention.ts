// Threading contention: several threads are inside Python at once while the process uses about
// one core — with the GIL, all but one of them are waiting. Needs Python spans (InferScope) on
// ≥ 2 threads and the process CPU-utilization samples; otherwise not measured. Time "in Python"
// leaves out the blocking waits the tracer saw (running.ts), but not those it does not watch (a C
// extension's I/O): a process well under one core was mostly blocked, not queueing for the GIL,
// so the rule also needs about one core in use.
import { mergeUnions, type Union } from "../../core/intervals.ts";
import { runningByThread } from "../running.ts";
import { GAP_KIND, gapClaim } from "../claims.ts";
import { ClaimBuilder, type SavingSpec } from "../savings.ts";
import { type AnalysisContext, type Rule, type RuleFinding, clamp01, msRounded, round, severityFor } from "./common.ts";
import type { ParamDefs } from "../params.ts";

const PYTHON = new Set(["python"]);

/** Threads in Python at the same time, on average over the time any is (sum / union)… */
export const THREADING_MIN_CONCURRENCY = 1.5;
/** …while the process's CPU utilization (100 = one core) stays below this… */
export const THREADING_MAX_CPU_PCT = 130;
/** …and above this: the GIL holder keeps about one core busy. */
export const THREADING_MIN_CPU_PCT = 80;
/** Threads with at least this share of the busiest thread's Python time count. */
export const THREADING_MIN_THREAD_SHARE = 0.1;
export const THREADING_MIN_SAMPLES = 3;

/** The thresholds a rules file may override by name (`rule_id.param`, docs/rules.md). */
const PARAMS = {
  min_concurrency: { default: THREADING_MIN_CONCURRENCY, unit: "threads", doc: "threads in Python at the same time, on average (sum / union of their Python time), at least" },
  max_cpu_pct: { default: THREADING_MAX_CPU_PCT, unit: "% of one core", doc: "process CPU utilization below this…" },
  min_cpu_pct: { default: THREADING_MIN_CPU_PCT, unit: "% of one core", doc: "…and at least this (the GIL holder keeps about one core busy)" },
  min_thread_share: { default: THREADING_MIN_THREAD_SHARE, unit: "share", doc: "threads with at least this share of the busiest thread's Python time count", max: 1 },
  min_samples: { default: THREADING_MIN_SAMPLES, unit: "samples", doc: "at least this many CPU samples", integer: true },
} satisfies ParamDefs;

export const threadingContentionRule: Rule<typeof PARAMS> = {
  id: "threading_contention",
  description: `≥ ${THREADING_MIN_CONCURRENCY} threads in Python at once on average while the process uses ${THREADING_MIN_CPU_PCT}–${THREADING_MAX_CPU_PCT} % CPU (GIL contention)`,
  params: PARAMS,
  evaluate(ctx: AnalysisContext, p): RuleFinding | null {
    const c = ctx.cpu;
    if (!c.pythonTraced || c.cpuUtilMean === null || c.cpuSamples < p.min_samples) return null;
    if (c.cpuUtilMean < p.min_cpu_pct || c.cpuUtilMean >= p.max_cpu_pct) return null;
    // in Python and not blocked in a traced wait: a main thread waiting in Thread.join is not
    // competing (one thread in Python frames: no pass over the spans)
    const candidates = c.threads.filter((t) => (t.pythonNs ?? 0) > 0);
    if (candidates.length < 2) return null;
    const running = runningByThread(ctx.trace.spans, PYTHON, new Set(candidates.map((t) => t.tid)));
    const inPython = (tid: number) => running.get(tid)?.measure ?? 0;
    const maxPy = Math.max(0, ...candidates.map((t) => inPython(t.tid)));
    const busy = candidates.filter((t) => inPython(t.tid) >= p.min_thread_share * maxPy && inPython(t.tid) > 0);
    if (busy.length < 2) return null;
    const pyUnion = mergeUnions(busy.map((t) => running.get(t.tid)!));
    const unionNs = pyUnion.measure;
    let sum = 0;
    for (const t of busy) sum += inPython(t.tid);
    if (unionNs <= 0) return null;
    const concurrency = sum / unionNs;
    if (concurrency < p.min_concurrency) return null;
    const waitingNs = sum - unionNs;
    const launching = ctx.gpu?.gaps.find((x) => x.call)?.call?.tid;
    return {
      title: `${busy.length} threads compete for the GIL: ${round(concurrency, 2)} threads in Python at once on ~${round(c.cpuUtilMean / 100, 2)} cores`,
      severity: severityFor(waitingNs, unionNs),
      confidence: round(clamp01(0.6 + 0.2 * Math.min(1, (concurrency - 1) / 1.5))),
      impact_ms: msRounded(waitingNs),
      saving: gilSaving(ctx, waitingNs, pyUnion),
      evidence: {
        threads: busy.map((t) => ({ tid: t.tid, name: t.name, python_ms: msRounded(inPython(t.tid)) })),
        python_concurrency: round(concurrency, 2),
        python_union_ms: msRounded(unionNs),
        cpu_util_mean_pct: round(c.cpuUtilMean, 1),
        cpu_util_max_pct: c.cpuUtilMax === null ? null : round(c.cpuUtilMax, 1),
        cpu_samples: c.cpuSamples,
        launching_tid: launching ?? null,
      },
      suggestions: ctx.gpu ? gpuAdvice(busy, launching) : cpuAdvice(busy, round(c.cpuUtilMean / 100, 2)),
    };
  },
};

const names = (ts: { name: string }[]) => ts.map((t) => t.name).slice(0, 3).join(", ");
const NO_GIL = "Use code that releases the GIL for the heavy parts (NumPy/torch vectorized ops, tokenizers' batch encode, PIL-SIMD) instead of per-element Python loops.";

/** With GPU work: the GIL delays the thread that launches it. */
function gpuAdvice(busy: { tid: number; name: string }[], launching: number | undefined): string[] {
  return [
    `Move CPU-heavy Python work (${names(busy.filter((t) => t.tid !== launching)) || "the other threads"}) to processes (DataLoader workers, multiprocessing, concurrent.futures.ProcessPoolExecutor) so it stops taking the GIL from the thread that launches GPU work.`,
    NO_GIL,
    "Keep one thread launching GPU work and give it priority: fewer Python threads, or a free-threaded Python build (3.13t) if the libraries support it.",
  ];
}

/** Without GPU work: the threads take turns on one core. */
function cpuAdvice(busy: { name: string }[], cores: number): string[] {
  return [
    `Run the CPU-heavy Python work (${names(busy)}) in processes instead of threads (multiprocessing, concurrent.futures.ProcessPoolExecutor): threads take turns holding the GIL, and these ${busy.length} got ~${cores} cores between them.`,
    NO_GIL,
    "Use fewer Python threads where they do not wait on I/O, or a free-threaded Python build (3.13t) if the libraries support it.",
  ];
}

/**
 * Waiting for the GIL lengthens the run only where the GPU waited for the launching thread: at
 * most the host-wait idle, and no more than the time the threads spent waiting (each host-wait gap
 * counts at that ratio). Without GPU work: at most the waiting time, spread over the wall time the
 * threads were in Python.
 */
function gilSaving(ctx: AnalysisContext, waitingNs: number, python: Union): SavingSpec {
  const g = ctx.gpu;
  if (g) {
    const share = g.hostWaitNs > 0 ? Math.min(1, waitingNs / g.hostWaitNs) : 0;
    return {
      kind: "time",
      claim: gapClaim(ctx.work!.gaps, (_, kind) => kind === GAP_KIND.host_wait, share),
      basis: `Threads waiting for the GIL delay the launches only while the GPU waits for them: at most the host-wait idle, scaled to the ${msRounded(waitingNs)} ms the threads spent waiting.`,
    };
  }
  return {
    kind: "time",
    claim: new ClaimBuilder().addUnion(python, python.measure > 0 ? Math.min(1, waitingNs / python.measure) : 0).build(),
    basis: "Without GPU work the run is the Python threads' wall time: at most the time they spent waiting for the GIL, spread over the time any of them was in Python.",
  };
}
