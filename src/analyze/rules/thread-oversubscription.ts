// Thread oversubscription: several threads (or processes) run torch ops at the same time, each
// with torch's intra-op thread pool, asking for more threads than the machine has cores; the
// pools then spin and preempt each other; or one thread runs them with a pool larger than the
// cores. Needs torch ops and torch's thread count (an InferScope trace of a script that uses torch).
import { processLabel, windowNs } from "../cpu-focus.ts";
import { UnionBuilder } from "../../core/intervals.ts";
import { type AnalysisContext, type Rule, type RuleFinding, clamp01, msRounded, round, severityFor } from "./common.ts";
import type { ParamDefs } from "../params.ts";

/** A thread counts when it runs torch ops at least this share of the window. */
export const OVERSUB_MIN_OP_SHARE = 0.1;
/** Threads running ops at once, on average over the time any does (Σ / union), at least. */
export const OVERSUB_MIN_CONCURRENCY = 1.5;

/** The thresholds a rules file may override by name (`rule_id.param`, docs/rules.md). */
const PARAMS = {
  min_op_share: { default: OVERSUB_MIN_OP_SHARE, unit: "share", doc: "a thread counts when it runs torch ops at least this share of the window", max: 1 },
  min_concurrency: { default: OVERSUB_MIN_CONCURRENCY, unit: "threads", doc: "threads running torch ops at once, on average over the time any does (sum / union), at least" },
} satisfies ParamDefs;

export const threadOversubscriptionRule: Rule<typeof PARAMS> = {
  id: "thread_oversubscription",
  description: "threads running torch ops at once × torch's intra-op threads exceed the CPU cores (one thread: its pool alone does)",
  params: PARAMS,
  evaluate(ctx: AnalysisContext, p): RuleFinding | null {
    const W = windowNs(ctx);
    const cores = typeof ctx.trace.meta.cpus === "number" ? ctx.trace.meta.cpus : null;
    const torchThreads = typeof ctx.trace.meta.torchThreads === "number" ? ctx.trace.meta.torchThreads : null;
    if (W <= 0 || cores === null || torchThreads === null) return null;
    const threads: { tid: number; pid: number; name: string; opNs: number }[] = [];
    const all = new UnionBuilder();
    let sum = 0;
    for (const [tid, spans] of ctx.merge.byThread) {
      const u = new UnionBuilder();
      for (const s of spans) if (s.cat === "cpu_op") u.add(s.start, s.end);
      const ops = u.finish();
      if (ops.measure < p.min_op_share * W) continue;
      for (let i = 0; i < ops.starts.length; i++) all.add(ops.starts[i]!, ops.ends[i]!);
      sum += ops.measure;
      threads.push({ tid, pid: spans[0]!.pid, name: ctx.trace.threadNames.get(tid) ?? `thread ${tid}`, opNs: ops.measure });
    }
    if (threads.length === 0) return null;
    if (threads.length === 1) return torchThreads > cores ? onePool(ctx, threads[0]!, torchThreads, cores, W) : null;
    const unionNs = all.finish().measure;
    const concurrency = unionNs > 0 ? sum / unionNs : 0;
    const demand = Math.round(concurrency * torchThreads);
    if (concurrency < p.min_concurrency || demand <= cores) return null;
    const per = Math.max(1, Math.floor(cores / Math.ceil(concurrency)));
    const overlapNs = sum - unionNs;
    return {
      title: `Thread oversubscription: ${round(concurrency, 1)} threads run torch ops at once with ${torchThreads} intra-op threads each (~${demand} threads) on ${cores} CPU cores`,
      severity: severityFor(overlapNs, W),
      confidence: round(clamp01(0.6 + 0.1 * Math.min(3, demand / cores - 1))),
      impact_ms: msRounded(overlapNs),
      saving: { kind: "none", reason: "what oversubscription costs depends on how the kernel shares the cores among the threads, which the trace does not time" },
      evidence: {
        threads: threads.map((t) => ({ tid: t.tid, name: t.name, process: processLabel(ctx, t.pid), ops_ms: msRounded(t.opNs) })),
        op_concurrency: round(concurrency, 2),
        torch_intra_op_threads: torchThreads,
        cpu_cores: cores,
        threads_wanted: demand,
        window_ms: msRounded(W),
      },
      suggestions: [
        `Give each concurrent caller fewer intra-op threads: torch.set_num_threads(${per}) (or OMP_NUM_THREADS=${per}) so ${Math.ceil(concurrency)} callers × ${per} ≤ ${cores} cores.`,
        `Run fewer handler threads at once (a pool of ${Math.max(1, Math.floor(cores / torchThreads))} for ${cores} cores at ${torchThreads} torch threads each), or batch concurrent requests into one forward so one call uses the cores.`,
        "Prefer processes for parallel requests (each with torch.set_num_threads sized to its share of the cores): threads also share the GIL for the Python parts.",
      ],
    };
  },
};

/**
 * One thread runs the ops, but torch's pool has more threads than the process has cores
 * (torch.set_num_threads(8) on 2): the pool's threads preempt each other at every parallel op
 * (a 512→2048→512 MLP at batch 64 ran 12 % slower with 8 threads than with 2 on 2 idle cores).
 */
function onePool(ctx: AnalysisContext, t: { tid: number; pid: number; name: string; opNs: number }, torchThreads: number, cores: number, W: number): RuleFinding {
  return {
    title: `Thread oversubscription: torch runs ${torchThreads} intra-op threads on ${cores} CPU cores`,
    severity: "medium",
    confidence: round(clamp01(0.6 + 0.1 * Math.min(3, torchThreads / cores - 1))),
    impact_ms: msRounded(t.opNs),
    saving: { kind: "none", reason: "what oversubscription costs depends on how the kernel shares the cores among the threads, which the trace does not time" },
    evidence: {
      threads: [{ tid: t.tid, name: t.name, process: processLabel(ctx, t.pid), ops_ms: msRounded(t.opNs) }],
      op_concurrency: 1,
      torch_intra_op_threads: torchThreads,
      cpu_cores: cores,
      threads_wanted: torchThreads,
      window_ms: msRounded(W),
    },
    suggestions: [
      `Match torch's threads to the cores the process may use: torch.set_num_threads(${cores}) (or OMP_NUM_THREADS=${cores}); torch.get_num_threads() was ${torchThreads} at the script's end, for ${cores} cores (os.sched_getaffinity).`,
      "Where the CPU is shared (containers with a CPU quota, several workers per machine), size each process's threads to its share of the cores, and pin them (taskset, numactl) so that they do not migrate.",
    ],
  };
}
