// Autograd on during inference: the model's forward passes ran with grad mode enabled and
// parameters that require grad, so every op records a backward graph (and keeps the tensors it
// would need) that nothing runs. `model.eval()` does not turn this off; torch.inference_mode() or
// torch.no_grad() do. InferScope traces only: the tracer counts the outermost nn.Module calls and
// checks torch.is_grad_enabled() at each (_modules.py); a torch.profiler trace does not say.
import { type AnalysisContext, type Rule, type RuleFinding, msRounded, pct, round } from "./common.ts";
import type { ParamDefs } from "../params.ts";

/** At least this share of the forward passes ran with autograd on. */
export const AUTOGRAD_MIN_SHARE = 0.5;

const PARAMS = {
  min_share: { default: AUTOGRAD_MIN_SHARE, unit: "share", doc: "at least this share of the model's forward passes (outermost nn.Module calls) ran with grad mode on and parameters requiring grad", max: 1 },
} satisfies ParamDefs;

/** The tracer's counts (pythonTracer.forwards), when the trace has sane ones. */
function forwards(ctx: AnalysisContext): { calls: number; withGrad: number } | null {
  const f = (ctx.trace.meta.pythonTracer as { forwards?: { calls?: unknown; withGrad?: unknown } } | undefined)?.forwards;
  const calls = f?.calls;
  const withGrad = f?.withGrad;
  if (typeof calls !== "number" || typeof withGrad !== "number" || !Number.isInteger(calls) || !Number.isInteger(withGrad)) return null;
  return calls > 0 && withGrad >= 0 && withGrad <= calls ? { calls, withGrad } : null;
}

export const autogradOnRule: Rule<typeof PARAMS> = {
  id: "autograd_on",
  description: `≥ ${AUTOGRAD_MIN_SHARE * 100} % of the model's forward passes ran with autograd on (grad mode, parameters requiring grad)`,
  params: PARAMS,
  evaluate(ctx: AnalysisContext, p): RuleFinding | null {
    const f = forwards(ctx);
    if (!f || f.withGrad === 0 || f.withGrad < p.min_share * f.calls) return null;
    const share = f.withGrad / f.calls;
    // the time inside the model in the window: what runs slower (not a saving: that depends on the ops)
    const modelNs = ctx.modules ? ctx.modules.inModulesNs + ctx.modules.outsideStepNs : 0;
    const W = ctx.window ? ctx.window.end - ctx.window.start : 0;
    const passes = `${f.withGrad.toLocaleString("en-US")} of ${f.calls.toLocaleString("en-US")} forward pass${f.calls === 1 ? "" : "es"}`;
    return {
      title: `Autograd is on during inference: ${passes} ran with grad mode enabled and parameters that require grad`,
      severity: W > 0 && modelNs >= 0.25 * W ? "medium" : "low",
      // observed, not inferred: the tracer asked torch at each forward pass
      confidence: round(0.7 + 0.25 * ((share - p.min_share) / Math.max(1e-9, 1 - p.min_share)), 2),
      impact_ms: msRounded(modelNs * share),
      saving: { kind: "none", reason: "the cost of recording the backward graph depends on the ops (per-op bookkeeping, tensors kept for backward)" },
      evidence: {
        forwards: f.calls,
        with_grad: f.withGrad,
        pct_with_grad: pct(f.withGrad, f.calls),
        model_ms: ctx.modules ? msRounded(modelNs) : null,
      },
      suggestions: [
        "Run inference under `with torch.inference_mode():` (or `torch.no_grad()`): ops then record no backward graph and keep no tensors for it, so each op costs less (10–15 % on a small model's CPU ops, measured) and activations are freed at once. `model.eval()` does not do this: it only switches dropout and batch norm to inference.",
        "Or switch the model's gradients off once, `model.requires_grad_(False)`, when nothing trains it in this process; inference_mode is the faster of the two, but tensors made under it cannot enter autograd later (use no_grad where they must).",
      ],
    };
  },
};
