// Inference on the CPU spending its time in torch ops: no GPU work, and the ops' self time (the
// kernels of aten::addmm, aten::conv2d …, and the dispatch around each call) is most of the CPU
// busy time. Without this a CPU-bound torch model had no finding at all ("nothing stands out").
// Small ops (a short mean call) are paid per call: batching and compiling come first; large ones
// are compute: threads and precision come first. Works on Kineto and InferScope traces alike.
import { busyThreads, describeFunction, processes } from "../cpu-focus.ts";
import type { HotFunction } from "../hot-functions.ts";
import { type AnalysisContext, type Rule, type RuleFinding, msRounded, pct, round, severityFor, shareConfidence, inWindow } from "./common.ts";
import type { ParamDefs } from "../params.ts";

/** The torch ops' self time is at least this share of the CPU busy time… */
export const TORCH_CPU_MIN_SHARE = 0.5;
/** …and the threads run at least this share of the window. */
export const TORCH_CPU_MIN_BUSY_SHARE = 0.25;
/** An op whose calls take less than this on average is paid per call: batching pays, ns. */
export const SMALL_OP_NS = 100_000;

const PARAMS = {
  min_share: { default: TORCH_CPU_MIN_SHARE, unit: "share", doc: "the torch ops' self time is at least this share of the CPU busy time…", max: 1 },
  min_busy_share: { default: TORCH_CPU_MIN_BUSY_SHARE, unit: "share", doc: "…and the threads run at least this share of the window", max: 1 },
} satisfies ParamDefs;

/** Ops that only make views or metadata: their time is per-call overhead, whatever the tensor size. */
const VIEW_OPS = new Set(["aten::t", "aten::transpose", "aten::as_strided", "aten::view", "aten::reshape", "aten::expand", "aten::permute", "aten::contiguous", "aten::empty", "aten::unsqueeze", "aten::squeeze", "aten::slice", "aten::select", "aten::detach", "aten::alias", "aten::resolve_conj", "aten::resolve_neg"]);

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;
const perCallUs = (f: HotFunction) => round(f.selfNs / Math.max(1, f.calls) / 1e3, 1);
/** "25 µs", "52.5 ms". */
const perCall = (f: HotFunction) => {
  const us = f.selfNs / Math.max(1, f.calls) / 1e3;
  return us < 1000 ? `${round(us, 1)} µs` : `${round(us / 1e3, 1)} ms`;
};

export const torchCpuOpsRule: Rule<typeof PARAMS> = {
  id: "torch_cpu_ops",
  description: `no GPU work, and torch ops take ≥ ${TORCH_CPU_MIN_SHARE * 100} % of the CPU busy time`,
  params: PARAMS,
  evaluate(ctx: AnalysisContext, p): RuleFinding | null {
    if (ctx.gpu) return null;
    const busy = busyThreads(ctx, p.min_busy_share);
    if (!busy) return null;
    const { run, W } = busy;
    const ops = ctx.hot.functions.filter((f) => f.kind === "cpu_op");
    const opsNs = ops.reduce((n, f) => n + f.selfNs, 0);
    if (opsNs < p.min_share * run || ops.length === 0) return null;
    const top = ops.filter((f, i) => i === 0 || f.selfNs >= 0.05 * run).slice(0, 3);
    const first = top[0]!;
    const viewNs = ops.filter((f) => VIEW_OPS.has(f.function)).reduce((n, f) => n + f.selfNs, 0);
    const calls = ops.reduce((n, f) => n + f.calls, 0);
    const small = first.selfNs / Math.max(1, first.calls) < SMALL_OP_NS;
    const main = processes(ctx).find((x) => x.role === "main");
    const threads = main?.torchThreads ?? (typeof ctx.trace.meta.torchThreads === "number" ? ctx.trace.meta.torchThreads : null);
    const cpus = typeof ctx.trace.meta.cpus === "number" ? ctx.trace.meta.cpus : (main?.cpus ?? null);
    // threads of the script running torch ops: with one, idle cores are the ops' to take
    let opThreads = 0;
    for (const spans of ctx.merge.byThread.values()) if (spans.some((x) => x.cat === "cpu_op")) opThreads++;
    const views = viewNs >= 0.05 * run ? `; view and metadata ops alone (aten::t, aten::transpose …) take ${pct(viewNs, run)} %, pure per-call overhead` : "";
    const batch = `Batch the inputs: ${describeFunction(first)} ran ${first.calls} times, ${perCall(first)} each, and the ops ${calls} times in all${views}; every op call pays the dispatcher's fixed cost, so one call over a batch of N items (torch.stack the samples, one forward) costs far less than N calls.`;
    const compile = "Cut the per-op overhead: run under torch.inference_mode(), and compile the model: torch.compile fuses the elementwise ops into the GEMMs' neighbours and removes most dispatch (torch.jit.trace + torch.jit.freeze also folds them).";
    const precision = `on CPUs with AMX or VNNI, bfloat16 (torch.autocast("cpu", dtype=torch.bfloat16)) or int8 (torch.ao.quantization.quantize_dynamic) cuts GEMM time.`;
    const onCpus = cpus !== null ? ` on ${cpus} ${cpus === 1 ? "CPU" : "CPUs"}` : "";
    const compute =
      !small && threads !== null && cpus !== null && threads < cpus && opThreads === 1
        ? `Give the ops the idle cores: torch runs ${plural(threads, "intra-op thread")}${onCpus} (torch.get_num_threads()), and these ops are large (${describeFunction(first)} ${perCall(first)} a call): they split across cores, torch.set_num_threads(${cpus}) (fewer if other work of yours needs cores); ${precision}`
        : `Match the threads and the precision to the work: torch runs ${threads !== null ? `${plural(threads, "intra-op thread")} here${onCpus}` : "one intra-op thread per core by default"} (torch.get_num_threads()); small ops often run faster on fewer (torch.set_num_threads(1–4)), large GEMMs on every physical core; ${precision}`;
    return {
      title: `Torch ops on the CPU take ${pct(opsNs, run)} % of the CPU busy time${inWindow(ctx)}: ${top.map((f, i) => `${describeFunction(f)} ${pct(f.selfNs, run)} %${i === 0 ? ` (${f.calls} calls, ${perCall(f)} each)` : ""}`).join(", ")}`,
      severity: severityFor(opsNs, W),
      confidence: shareConfidence(opsNs / run, p.min_share),
      impact_ms: msRounded(opsNs),
      saving: { kind: "none", reason: "it depends on the batch size and on what compilation fuses" },
      evidence: {
        ops_self_ms: msRounded(opsNs),
        pct_of_cpu_busy: pct(opsNs, run),
        op_calls: calls,
        top_ops: top.map((f) => ({ op: f.function, calls: f.calls, self_ms: msRounded(f.selfNs), per_call_us: perCallUs(f) })),
        view_ops_pct: pct(viewNs, run),
        small_ops: small,
        torch_threads: threads,
        cpus,
        cpu_busy_ms: msRounded(run),
        window_ms: msRounded(W),
      },
      suggestions: small ? [batch, compile, compute] : [compute, compile, batch],
    };
  },
};
