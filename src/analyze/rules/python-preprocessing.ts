// Python preprocessing dominating the steady state: a function of the user's own code whose
// running self time (its own bytecode and the builtins it calls, not torch ops, not waits) is a
// large share of the CPU busy time — a tokenizer, an image resize, feature hashing written as
// per-element Python loops. Needs Python calls (an InferScope trace). What the finding says
// follows what the trace knows of the function's bytecode (native-time.ts): a loop (its own
// code, run per element), loop-free (its time is the number of calls), or not recorded (its self
// time may be C code it calls: the finding says so instead of calling it pure Python). When its
// thread spent a large part of its sampled CPU time in the kernel, the time is in system calls
// (reads of small chunks, page faults), not in Python: the finding says that instead.
import { busyCpu, describePlace, type FunctionPlace, ownTime, placeOf } from "../cpu-focus.ts";
import type { HotFunction } from "../hot-functions.ts";
import { codeShape, nativeTime } from "../native-time.ts";
import { type AnalysisContext, type Rule, type RuleFinding, msRounded, pct, round, severityFor, shareConfidence, inWindow } from "./common.ts";
import type { ParamDefs } from "../params.ts";

/** The top user function's running self time is at least this share of the CPU busy time… */
export const PREPROCESSING_MIN_SHARE = 0.25;
/** …and the CPU is busy at least this share of the window (else nothing is CPU-bound). */
export const PREPROCESSING_MIN_BUSY_SHARE = 0.25;
/** Other user functions named in the finding: at least this share each. */
export const PREPROCESSING_ALSO_SHARE = 0.05;
/** The function's thread spent at least this share of its sampled CPU time in the kernel… */
export const PREPROCESSING_KERNEL_SHARE = 0.2;
/** …of at least this much CPU time (/proc counts 10 ms ticks: less is noise). */
const KERNEL_MIN_CPU_NS = 100e6;

/** The thresholds a rules file may override by name (`rule_id.param`, docs/rules.md). */
const PARAMS = {
  min_share: { default: PREPROCESSING_MIN_SHARE, unit: "share", doc: "the top user function's running self time is at least this share of the CPU busy time…", max: 1 },
  min_busy_share: { default: PREPROCESSING_MIN_BUSY_SHARE, unit: "share", doc: "…and the threads run at least this share of the window", max: 1 },
  also_share: { default: PREPROCESSING_ALSO_SHARE, unit: "share", doc: "other user functions named in the finding take at least this share each", max: 1 },
  kernel_share: { default: PREPROCESSING_KERNEL_SHARE, unit: "share", doc: "the finding names system calls when the function's thread spent at least this share of its sampled CPU time in the kernel", max: 1 },
} satisfies ParamDefs;

/** What the trace knows of the function's bytecode. */
type Code = "loop" | "loop-free" | "unknown";

/** A suggestion that fits what the function does, from its name. */
function specific(name: string, code: Code): string {
  if (/token|bpe|merge|encode|vocab|wordpiece/i.test(name))
    return "Use a compiled tokenizer: Hugging Face `tokenizers` (Rust, batch encode releases the GIL) or `tiktoken` do byte-pair merges 10–100× faster than a Python loop.";
  if (/resiz|image|pixel|crop|interp|rgb|bilinear/i.test(name))
    return "Resize with a compiled implementation: PIL's Image.resize, torchvision.transforms.v2.functional.resize or torch.nn.functional.interpolate on a whole batch tensor instead of a Python loop over pixels.";
  if (/hash|feature|fnv|murmur/i.test(name))
    return "Hash features with a vectorised or compiled implementation: sklearn's FeatureHasher / HashingVectorizer, or NumPy over a whole batch, instead of a per-character Python loop.";
  if (code === "loop-free") return "Replace the per-element calls with NumPy or torch operations over whole arrays, in the loop that calls it (or a compiled extension: Cython, Numba, Rust via PyO3).";
  if (code === "unknown") return "If it loops over elements in Python, replace the loop with NumPy or torch operations over whole arrays (or a compiled extension: Cython, Numba, Rust via PyO3).";
  return "Replace the per-element Python loop with NumPy or torch operations over whole arrays (or a compiled extension: Cython, Numba, Rust via PyO3).";
}

/** The finding's title and first suggestion, by what is known of the function's bytecode. */
function framing(what: string, top: FunctionPlace, code: Code, sharePct: number, steady: string): { title: string; first: string } {
  const fn = top.fn;
  const ran = `it ran ${sharePct} % of the CPU busy time in the window (${round(fn.selfNs / 1e6, 1)} ms over ${fn.calls} calls)`;
  if (code === "loop")
    return { title: `Python loop in ${what} takes ${sharePct} % of the CPU time${steady}`, first: `Make ${what} cheaper: ${ran} in its own code, a loop (its bytecode and the C functions the loop calls, NumPy's included).` };
  if (code === "loop-free") {
    const perCallUs = round(fn.selfNs / Math.max(1, fn.calls) / 1e3, 1);
    return {
      title: `${what} takes ${sharePct} % of the CPU time over ${fn.calls} calls${steady}`,
      first: `Call ${what} less often: ${ran}, ${perCallUs} µs per call in its own code, which has no loop: the time is in how often it is called. Batch the work (one call over many items) or cache results when inputs repeat (functools.lru_cache).`,
    };
  }
  return {
    title: `${what} takes ${sharePct} % of the CPU time in its own code${steady}`,
    first: `Make ${what} cheaper: ${ran} in its own code. That time may be Python or C functions it calls (NumPy, builtins): this trace does not record the functions' bytecode, which tells them apart (\`inferscope run\` records it); line_profiler or py-spy --native show which lines take it.`,
  };
}

/**
 * The share of the CPU time of the thread that ran `fn` most that the kernel counted as its own
 * (system calls, page faults), or null when /proc was not sampled or too little ran.
 */
function kernelShare(ctx: AnalysisContext, fn: HotFunction): number | null {
  let tid: number | null = null;
  let most = -1;
  for (const [t, h] of ctx.hot.threads) {
    const f = h.top;
    if (f && f.function === fn.function && f.file === fn.file && f.line === fn.line && f.selfNs > most) [tid, most] = [t, f.selfNs];
  }
  const th = ctx.cpu.threads.find((t) => t.tid === tid);
  if (!th || th.kernelCpuNs === null || th.kernelSysNs === null || th.kernelCpuNs < KERNEL_MIN_CPU_NS) return null;
  return Math.min(1, th.kernelSysNs / th.kernelCpuNs);
}

/** The title and suggestions when the function's time is in the kernel: system calls, not Python. */
function kernelFraming(what: string, top: FunctionPlace, sharePct: number, kernelPct: number, steady: string): { title: string; first: string; second: string } {
  const fn = top.fn;
  return {
    title: `${what} takes ${sharePct} % of the CPU time${steady}, and its thread spends ${kernelPct} % of its CPU time in the kernel (system calls)`,
    first: `Make fewer system calls in ${what}: it ran ${sharePct} % of the CPU busy time in the window (${round(fn.selfNs / 1e6, 1)} ms over ${fn.calls} calls), and its thread spent ${kernelPct} % of its CPU time in the kernel, not in Python: calls such as reads or writes of small chunks, opening many files, or page faults on fresh memory. Read files whole or in large blocks (f.read(), np.fromfile, mmap), write in batches, reuse buffers (readinto); \`strace -c -f\` counts the calls.`,
    second: "If it reads many small files, pack them into a few large ones (a tar or WebDataset shard, one memory-mapped NumPy array) so a sample costs no open, read and close.",
  };
}

export const pythonPreprocessingRule: Rule<typeof PARAMS> = {
  id: "python_preprocessing",
  description: `a function of the user's code takes ≥ ${PREPROCESSING_MIN_SHARE * 100} % of the CPU busy time in its own Python code`,
  params: PARAMS,
  evaluate(ctx: AnalysisContext, p): RuleFinding | null {
    const busy = busyCpu(ctx, p.min_busy_share);
    if (!busy) return null;
    const { run, W } = busy;
    // a function whose self time is native code it calls is native_code's (native-time.ts)
    const user = ctx.hot.functions.filter((f) => f.kind === "python" && !nativeTime(ctx.trace, f)).map((f) => placeOf(ctx, f)).filter((x) => x.user);
    const top = user[0];
    if (!top || top.fn.selfNs < p.min_share * run) return null;
    const also = user.slice(1, 3).filter((x) => x.fn.selfNs >= p.also_share * run);
    const share = top.fn.selfNs / run;
    const what = describePlace(top);
    const inWorkers = top.where.length > 0;
    const shape = codeShape(ctx.trace, top.fn);
    const code: Code = !shape ? "unknown" : shape.loop ? "loop" : "loop-free";
    const steady = inWindow(ctx);
    const kernel = inWorkers ? null : kernelShare(ctx, top.fn);
    const inKernel = kernel !== null && kernel >= p.kernel_share;
    const { title, first, second } = inKernel
      ? kernelFraming(what, top, pct(top.fn.selfNs, run), pct(kernel, 1), steady)
      : { ...framing(what, top, code, pct(top.fn.selfNs, run), steady), second: specific(top.fn.function, code) };
    const suggestions = [
      first,
      second,
      inWorkers
        ? "Cache what it computes when inputs repeat (precompute the features once and store them, or functools.lru_cache on the per-item function), so the workers do less per sample."
        : "Take it off the inference path: run it in DataLoader workers (num_workers > 0) or a process pool so it overlaps with the model, or cache its results when inputs repeat (functools.lru_cache).",
    ];
    if (also.length) suggestions.push(`Next in line: ${also.map((x) => `${describePlace(x)} (${pct(x.fn.selfNs, run)} %)`).join(", ")}.`);
    return {
      title,
      severity: severityFor(top.fn.selfNs, W),
      confidence: shareConfidence(share, p.min_share),
      impact_ms: msRounded(top.fn.selfNs),
      saving: inWorkers
        ? { kind: "none", reason: "it runs in worker processes: a faster one shortens the main loop's wait for them (data_loading_starved), not the loop itself" }
        : ownTime(ctx, top.fn),
      evidence: {
        function: top.fn.function,
        file: top.fn.file ?? null,
        line: top.fn.line ?? null,
        scope: top.scope ?? null,
        processes: top.where,
        self_ms: msRounded(top.fn.selfNs),
        calls: top.fn.calls,
        pct_of_cpu_busy: pct(top.fn.selfNs, run),
        code: shape ? { instructions: shape.instructions, loop: shape.loop } : null,
        kernel_pct_of_thread_cpu: kernel === null ? null : pct(kernel, 1),
        cpu_busy_ms: msRounded(run),
        window_ms: msRounded(W),
        also: also.map((x) => ({ function: x.fn.function, file: x.fn.file ?? null, self_ms: msRounded(x.fn.selfNs) })),
      },
      suggestions,
    };
  },
};
