// Native code behind a Python function dominating the steady state: a function of the user's
// code without a loop whose self time is far more than its own bytecode can take, so it was spent
// in the native code its instructions called (NumPy/BLAS behind `x @ w`, zlib, a C extension),
// which the tracer does not see (native-time.ts). "Rewrite the loop in NumPy" would be the wrong
// advice here: the work is already native. Needs Python calls and the tracer's code shapes (an
// InferScope trace).
import { busyCpu, describePlace, ownTime, placeOf } from "../cpu-focus.ts";
import { NATIVE_FACTOR, nativeTime } from "../native-time.ts";
import { type AnalysisContext, type Rule, type RuleFinding, msRounded, pct, round, severityFor, shareConfidence, inWindow } from "./common.ts";
import type { ParamDefs } from "../params.ts";

/** The function's running self time is at least this share of the CPU busy time… */
export const NATIVE_MIN_SHARE = 0.25;
/** …and the CPU is busy at least this share of the window (else nothing is CPU-bound). */
export const NATIVE_MIN_BUSY_SHARE = 0.25;

/** The thresholds a rules file may override by name (`rule_id.param`, docs/rules.md). */
const PARAMS = {
  min_share: { default: NATIVE_MIN_SHARE, unit: "share", doc: "the user function's running self time (native code it calls) is at least this share of the CPU busy time…", max: 1 },
  min_busy_share: { default: NATIVE_MIN_BUSY_SHARE, unit: "share", doc: "…and the threads run at least this share of the window", max: 1 },
} satisfies ParamDefs;

export const nativeCodeRule: Rule<typeof PARAMS> = {
  id: "native_code",
  description: `a loop-free function of the user's code takes ≥ ${NATIVE_MIN_SHARE * 100} % of the CPU busy time in native code it calls (≥ ${NATIVE_FACTOR}× what its own bytecode can take)`,
  params: PARAMS,
  evaluate(ctx: AnalysisContext, p): RuleFinding | null {
    const busy = busyCpu(ctx, p.min_busy_share);
    if (!busy) return null;
    const { run, W } = busy;
    for (const fn of ctx.hot.functions) {
      if (fn.selfNs < p.min_share * run) return null; // by self time: none further can qualify
      const native = nativeTime(ctx.trace, fn);
      if (!native) continue;
      const place = placeOf(ctx, fn);
      if (!place.user) continue;
      const what = describePlace(place);
      const perCallMs = round(native.perCallNs / 1e6, 3);
      const boundUs = round(native.boundNs / 1e3, 0);
      const inWorkers = place.where.length > 0;
      return {
        title: `${what} takes ${pct(fn.selfNs, run)} % of the CPU time${inWindow(ctx)} in native code it calls, not in its own Python: ${perCallMs} ms per call, where its ${native.instructions} bytecode instructions (no loop) take at most ~${boundUs} µs`,
        severity: severityFor(fn.selfNs, W),
        confidence: shareConfidence(fn.selfNs / run, p.min_share),
        impact_ms: msRounded(fn.selfNs),
        saving: inWorkers
          ? { kind: "none", reason: "it runs in worker processes: a faster one shortens the main loop's wait for them (data_loading_starved), not the loop itself" }
          : ownTime(ctx, fn),
        evidence: {
          function: fn.function,
          file: fn.file ?? null,
          line: fn.line ?? null,
          scope: place.scope ?? null,
          processes: place.where,
          self_ms: msRounded(fn.selfNs),
          calls: fn.calls,
          per_call_ms: perCallMs,
          instructions: native.instructions,
          bytecode_bound_us: boundUs,
          pct_of_cpu_busy: pct(fn.selfNs, run),
          cpu_busy_ms: msRounded(run),
          window_ms: msRounded(W),
        },
        suggestions: [
          `See which native function holds the time: \`py-spy record --native -o native.svg -- python script.py\` (or \`perf record -g\`) shows the C frames under ${what} — a BLAS GEMM, a compression or tokenizer library — that InferScope does not trace.`,
          "If it is array math (NumPy, SciPy): have a multithreaded BLAS do it (`numpy.show_config()`; OMP_NUM_THREADS / OPENBLAS_NUM_THREADS / MKL_NUM_THREADS up to the physical cores), in float32 rather than float64, over whole batches — or move it to torch on the GPU.",
          inWorkers
            ? "Do less of it per sample: cache what it computes when inputs repeat, or precompute it once and store it."
            : "Do less of it on the inference path: cache results when inputs repeat, or move it into DataLoader workers or a process pool so it overlaps with the model.",
        ],
      };
    }
    return null;
  },
};
