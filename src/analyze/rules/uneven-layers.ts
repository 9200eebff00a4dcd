// Uneven layers: one instance of a repeated layer (a decoder block, a conv block) takes far more
// time than its siblings — a wider layer, another dtype, a fallback kernel, a sync inside it.
// Needs the per-layer breakdown (nn.Module calls in the trace); otherwise not measured. Only
// repeats are compared (layer-stacks.ts): the blocks of a stack, or the same child of each.
import type { ModuleStat } from "../modules.ts";
import { spreadOf } from "../layer-stacks.ts";
import { type AnalysisContext, type Rule, type RuleFinding, clamp01, msRounded, pct, round, severityFor } from "./common.ts";
import type { ParamDefs } from "../params.ts";

/** A class with at least this many instances… */
export const UNEVEN_MIN_INSTANCES = 3;
/** …whose slowest instance takes at least this many times the median instance's time… */
export const UNEVEN_MIN_RATIO = 2;
/** …and the excess (slowest − median) is at least this share of the step. */
export const UNEVEN_MIN_STEP_SHARE = 0.05;

/** The thresholds a rules file may override by name (`rule_id.param`, docs/rules.md). */
const PARAMS = {
  min_instances: { default: UNEVEN_MIN_INSTANCES, unit: "instances", doc: "a layer repeated at least this many times (the blocks of a stack, or the same child of each block)…", integer: true, min: 2 },
  min_ratio: { default: UNEVEN_MIN_RATIO, unit: "× the median", doc: "…whose slowest instance takes at least this many times the median instance's time…", min: 1 },
  min_step_share: { default: UNEVEN_MIN_STEP_SHARE, unit: "share of the step", doc: "…and the excess (slowest − median) is at least this share of the step", max: 1 },
} satisfies ParamDefs;

export const unevenLayersRule: Rule<typeof PARAMS> = {
  id: "uneven_layers",
  description: `one of ≥ ${UNEVEN_MIN_INSTANCES} repeats of a layer (the blocks of a stack) takes ≥ ${UNEVEN_MIN_RATIO}× the median repeat's time, the excess ≥ ${UNEVEN_MIN_STEP_SHARE * 100} % of the step`,
  params: PARAMS,
  evaluate(ctx: AnalysisContext, p): RuleFinding | null {
    const m = ctx.modules;
    if (!m || m.step.ns <= 0) return null;
    let worst: { group: ModuleStat[]; type: string; gpu: boolean; slow: ModuleStat; medianNs: number; minNs: number; excess: number; ratio: number } | null = null;
    for (const group of m.repeats) {
      if (group.length < p.min_instances) continue;
      // kernel time when the layer launched kernels, else its CPU time (as the Layers table's "slowest repeat")
      const { gpu, minNs, medianNs, maxNs, slowest: slow } = spreadOf(group);
      if (medianNs <= 0) continue;
      const ratio = maxNs / medianNs;
      const excess = maxNs - medianNs;
      if (ratio < p.min_ratio || excess < p.min_step_share * m.step.ns) continue;
      // on a tie (a layer and its only child), the outer one: its suggestions name the child
      if (!worst || excess > worst.excess || (excess === worst.excess && slow.path.length < worst.slow.path.length)) worst = { group, type: slow.type!, gpu, slow, medianNs, minNs, excess, ratio };
    }
    if (!worst) return null;
    const { group, type, gpu, slow, medianNs, minNs, excess, ratio } = worst;
    const time = (s: ModuleStat) => (gpu ? s.kernelNs : s.totalNs);
    // the repeat closest to the median, to compare with
    const typical = group
      .filter((s) => s !== slow)
      .reduce<ModuleStat | null>((b, s) => (!b || Math.abs(time(s) - medianNs) < Math.abs(time(b) - medianNs) ? s : b), null);
    // inside the slow instance: the child module with the most time of its own
    const inside = m.modules
      .filter((s) => s.path.startsWith(`${slow.path}.`))
      .reduce<ModuleStat | null>((b, s) => (!b || (gpu ? s.kernelSelfNs > b.kernelSelfNs : s.selfNs > b.selfNs) ? s : b), null);
    const what = gpu ? "kernel time" : "CPU time";
    const suggestions = [
      `Compare \`${slow.path}\` with its siblings${typical ? ` (e.g. \`${typical.path}\`)` : ""}: width, dtype, device, attention implementation. A deliberate difference (a wider layer) is where optimizing pays most (quantize, prune, fuse or compile it first); an accidental one (fp32 among bf16 layers, a fallback kernel, a sync) is a bug to fix.`,
    ];
    if (inside) {
      suggestions.push(
        `Inside it, \`${inside.path}\`${inside.type ? ` (${inside.type})` : ""} takes the most ${gpu ? "kernel time of its own" : "time of its own"} (${round((gpu ? inside.kernelSelfNs : inside.selfNs) / 1e6, 3)} ms); search for it in the report's flame graphs to see its ops.`,
      );
    }
    if (gpu && slow.topKernel && typical?.topKernel && slow.topKernel.name !== typical.topKernel.name) {
      suggestions.push(`Its top kernel is \`${slow.topKernel.name}\`, its siblings' \`${typical.topKernel.name}\`: a different kernel for the same work often means another dtype, shape or fallback path.`);
    } else {
      suggestions.push(`Profile the layer alone with its siblings' input shape (torch.profiler with record_shapes=True) to see which op grows.`);
    }
    return {
      // "layer `1` (ReLU)": a path such as `1` (a Sequential's child) says nothing by itself
      title: `Layer \`${slow.path}\` (${type}) takes ${round(ratio, 1)}× the ${what} of a typical ${type} (${round(time(slow) / 1e6, 3)} ms vs a median of ${round(medianNs / 1e6, 3)} ms over ${group.length} instances)`,
      severity: severityFor(excess, m.step.ns),
      confidence: round(clamp01(0.6 + 0.3 * Math.min(1, (ratio - p.min_ratio) / 2))),
      impact_ms: msRounded(excess),
      evidence: {
        class: type,
        instances: group.length,
        slowest: slow.path,
        basis: gpu ? "gpu" : "cpu",
        slowest_ms: msRounded(time(slow)),
        median_ms: msRounded(medianNs),
        min_ms: msRounded(minNs),
        ratio: round(ratio, 2),
        excess_ms: msRounded(excess),
        excess_pct_of_step: pct(excess, m.step.ns),
        step_ms: msRounded(m.step.ns),
        ...(typical ? { typical: typical.path } : {}),
      },
      suggestions,
      // A deliberately wider layer does its extra work for a reason; only an accidental difference
      // (another dtype, a fallback kernel) can be brought down to the median.
      saving: { kind: "none", reason: "whether the slow layer can run as fast as its siblings depends on why it differs (a deliberately wider layer cannot)" },
    };
  },
};
