// Uneven layers: one instance of a repeated layer (a decoder block, a conv block) takes far more
// time than its siblings — a wider layer, another dtype, a fallback kernel, a sync inside it.
// Needs the per-layer breakdown (nn.Module calls in the trace); otherwise not measured.
import type { ModuleStat, ModuleTypeStat } from "../modules.ts";
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
  min_instances: { default: UNEVEN_MIN_INSTANCES, unit: "instances", doc: "a module class with at least this many instances (paths)…", integer: true, min: 2 },
  min_ratio: { default: UNEVEN_MIN_RATIO, unit: "× the median", doc: "…whose slowest instance takes at least this many times the median instance's time…", min: 1 },
  min_step_share: { default: UNEVEN_MIN_STEP_SHARE, unit: "share of the step", doc: "…and the excess (slowest − median) is at least this share of the step", max: 1 },
} satisfies ParamDefs;

export const unevenLayersRule: Rule<typeof PARAMS> = {
  id: "uneven_layers",
  description: `one of ≥ ${UNEVEN_MIN_INSTANCES} instances of a layer class takes ≥ ${UNEVEN_MIN_RATIO}× the median instance's time, the excess ≥ ${UNEVEN_MIN_STEP_SHARE * 100} % of the step`,
  params: PARAMS,
  evaluate(ctx: AnalysisContext, p): RuleFinding | null {
    const m = ctx.modules;
    if (!m || m.step.ns <= 0) return null;
    let worst: { c: ModuleTypeStat; excess: number; ratio: number } | null = null;
    for (const c of m.types) {
      const s = c.spread;
      if (c.instances < p.min_instances || s.medianNs <= 0) continue;
      const ratio = s.maxNs / s.medianNs;
      const excess = s.maxNs - s.medianNs;
      if (ratio < p.min_ratio || excess < p.min_step_share * m.step.ns) continue;
      if (!worst || excess > worst.excess) worst = { c, excess, ratio };
    }
    if (!worst) return null;
    const { c, excess, ratio } = worst;
    const byPath = new Map<string, ModuleStat>(m.modules.map((s) => [s.path, s]));
    const slow = byPath.get(c.spread.slowest)!;
    const gpu = c.spread.basis === "gpu";
    const time = (s: ModuleStat) => (gpu ? s.kernelNs : s.totalNs);
    // the sibling closest to the median, to compare with
    const siblings = m.modules.filter((s) => s.type === c.type && s.path !== slow.path);
    const typical = siblings.reduce<ModuleStat | null>((b, s) => (!b || Math.abs(time(s) - c.spread.medianNs) < Math.abs(time(b) - c.spread.medianNs) ? s : b), null);
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
      title: `Layer \`${slow.path}\` (${c.type}) takes ${round(ratio, 1)}× the ${what} of a typical ${c.type} (${round(c.spread.maxNs / 1e6, 3)} ms vs a median of ${round(c.spread.medianNs / 1e6, 3)} ms over ${c.instances} instances)`,
      severity: severityFor(excess, m.step.ns),
      confidence: round(clamp01(0.6 + 0.3 * Math.min(1, (ratio - p.min_ratio) / 2))),
      impact_ms: msRounded(excess),
      evidence: {
        class: c.type,
        instances: c.instances,
        slowest: slow.path,
        basis: c.spread.basis,
        slowest_ms: msRounded(c.spread.maxNs),
        median_ms: msRounded(c.spread.medianNs),
        min_ms: msRounded(c.spread.minNs),
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
