// Waits the tracer cannot see: the threads are "running" in traced code for most of the window,
// but the kernel counted them (every sampled thread of the process, torch's pools included)
// well under that share of a core as CPU time. They were off the CPU in blocking calls made from
// C, where no Python hook fires — `for line in sys.stdin` reads through the file's iterator, a C
// extension's socket or lock — or, on a busy machine, had no core. A script reading its input
// from a pipe was told "`<module>` takes 99.9 % of the CPU time" with a 1,085 ms saving.
import { describePlace, kernelCpu, OFF_CPU_SHARE, offCpu, placeOf, unblockedNs, windowNs } from "../cpu-focus.ts";
import { type AnalysisContext, type Rule, type RuleFinding, msRounded, pct, round, shareConfidence } from "./common.ts";
import type { ParamDefs } from "../params.ts";

/** The threads are in traced code at least this share of the window while the kernel counted less than this share of a core, error included. */
export const UNSEEN_MIN_SHARE = OFF_CPU_SHARE;

/** The thresholds a rules file may override by name (`rule_id.param`, docs/rules.md). */
const PARAMS = {
  min_share: { default: UNSEEN_MIN_SHARE, unit: "share of the window", doc: "the threads are in traced code at least this share of the window while the kernel counted less than this share of one core as their CPU time", max: 1 },
} satisfies ParamDefs;

export const unseenWaitsRule: Rule<typeof PARAMS> = {
  id: "unseen_waits",
  description: `the threads are in traced code ≥ ${UNSEEN_MIN_SHARE * 100} % of the window, but the kernel counted < ${UNSEEN_MIN_SHARE * 100} % of a core as their CPU time (waits made from C, or no core)`,
  params: PARAMS,
  evaluate(ctx: AnalysisContext, p): RuleFinding | null {
    const k = kernelCpu(ctx);
    const W = windowNs(ctx);
    if (!k || W <= 0 || !offCpu(ctx, p.min_share)) return null;
    const run = unblockedNs(ctx);
    const offNs = Math.max(0, run - k.ns);
    const top = ctx.hot.functions[0];
    const where = top ? ` (most in ${describePlace(placeOf(ctx, top))})` : "";
    return {
      title: `The threads were off the CPU ${pct(offNs, run)} % of their traced time${where}, in waits the tracer does not see: the kernel counted ${pct(k.ns, W)} % of a core as CPU time`,
      severity: offNs >= 0.5 * W ? "high" : "medium",
      confidence: round(Math.min(0.8, shareConfidence(1 - k.ns / run, p.min_share))),
      impact_ms: msRounded(offNs),
      saving: { kind: "none", reason: "what the threads waited for is not in the trace, so neither is what removing it would save" },
      evidence: {
        traced_running_ms: msRounded(run),
        kernel_cpu_ms: msRounded(k.ns),
        kernel_error_ms: msRounded(k.errNs),
        window_ms: msRounded(W),
        ...(top ? { top_function: top.function } : {}),
      },
      suggestions: [
        "If the script reads its input by iterating over a pipe, a socket or the terminal (`for line in sys.stdin`, `for line in sock.makefile()`), it waits for that input: feed it faster, read it in larger pieces (sys.stdin.buffer.read, readlines of a batch), or read in a thread that fills a queue.Queue so that the work overlaps the wait (the wait then shows, as `queue.get`).",
        "If a C extension blocks (a database driver, an HTTP or gRPC client, a lock inside a library), run the call in a thread pool (concurrent.futures.ThreadPoolExecutor, asyncio.to_thread) so that other work goes on meanwhile; `py-spy dump --native --pid PID` while it runs shows the call it blocks in.",
        "If the machine is busy (other processes: `top`, `vmstat 1`'s run queue), the threads were ready but had no core: run fewer jobs at once, or give this one its own cores (taskset, a cpuset).",
      ],
    };
  },
};
