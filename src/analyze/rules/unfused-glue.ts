// Unfused glue: elementwise, reduction, normalization and copy/cast kernels — each reads and writes
// its whole tensor, so a chain of them back to back on a stream is memory traffic that one fused
// kernel (torch.compile, a fused norm) would make once. Training-only fixes (fused optimizers) are
// not suggested: this is inference.
import { type KernelClass, kernelLabel } from "../kernel-classes.ts";
import { ClaimBuilder } from "../savings.ts";
import type { ParamDefs } from "../params.ts";
import { type AnalysisContext, type Rule, type RuleFinding, clamp01, msRounded, pct, round, severityFor } from "./common.ts";
import { kernelEvidence, kernelGroups, kernelPhrase, opTime } from "./kernel-groups.ts";

/** The classes of memory-bound "glue" work between the big kernels. */
export const GLUE_CLASSES: ReadonlySet<KernelClass> = new Set(["elementwise", "reduction", "normalization", "copy"]);
/** Glue kernels take at least this share of the GPU's busy time… */
export const GLUE_MIN_BUSY_SHARE = 0.3;
/** …and what fusion would remove, where the GPU sets the pace, is at least this share of the window. */
export const GLUE_MIN_FUSABLE_SHARE = 0.05;

/** The thresholds a rules file may override by name (`rule_id.param`, docs/rules.md). */
const PARAMS = {
  min_busy_share: { default: GLUE_MIN_BUSY_SHARE, unit: "share of GPU busy time", doc: "elementwise, reduction, normalization and copy kernels take at least this share of the GPU's busy time…", max: 1 },
  min_fusable_share: { default: GLUE_MIN_FUSABLE_SHARE, unit: "share of the GPU window", doc: "…and fusing their runs would remove at least this share of the window", max: 1 },
} satisfies ParamDefs;

interface Chain {
  /** op indices, in stream order */
  ops: number[];
  longest: number;
}

/** Per op (aligned with gpu.ops): 1 for a glue kernel. */
export function glueFlags(classes: KernelClass[]): Uint8Array {
  const out = new Uint8Array(classes.length);
  for (let i = 0; i < classes.length; i++) if (GLUE_CLASSES.has(classes[i]!)) out[i] = 1;
  return out;
}

/** Runs of ≥ 2 glue kernels back to back on a stream (any other op — GEMM, copy, memset — ends a run). */
export function glueChains(ctx: AnalysisContext, isGlue: Uint8Array): Chain[] {
  const chains: Chain[] = [];
  const dur = ctx.work!.dur;
  for (const stream of ctx.work!.streams) {
    let cur: number[] = [];
    let longest = -1;
    const close = () => {
      if (cur.length >= 2) chains.push({ ops: cur, longest });
      if (cur.length > 0) cur = [];
      longest = -1;
    };
    for (const i of stream) {
      if (!isGlue[i]) {
        close();
        continue;
      }
      cur.push(i);
      if (longest < 0 || dur[i]! > dur[longest]!) longest = i;
    }
    close();
  }
  return chains;
}

export const unfusedGlueRule: Rule<typeof PARAMS> = {
  id: "unfused_glue",
  description: `elementwise/reduction/normalization/copy kernels take ≥ ${GLUE_MIN_BUSY_SHARE * 100} % of GPU busy time and fusing their chains would remove ≥ ${GLUE_MIN_FUSABLE_SHARE * 100} % of the window`,
  params: PARAMS,
  evaluate(ctx: AnalysisContext, p): RuleFinding | null {
    const g = ctx.gpu;
    const w = ctx.work;
    if (!g || !w || g.windowNs <= 0 || g.busyNs <= 0) return null;
    const isGlue = glueFlags(w.classes);
    const glue = (i: number) => isGlue[i] === 1;
    const glueNs = opTime(w, glue).ns;
    if (glueNs < p.min_busy_share * g.busyNs) return null;
    const chains = glueChains(ctx, isGlue);
    // what fusion removes: every kernel of a chain but its longest, where the GPU sets the pace
    const fused = (c: Chain, i: number) => i !== c.longest && w.paced[i] === 1;
    let fusable = 0;
    for (const c of chains) for (const i of c.ops) if (fused(c, i)) fusable += w.dur[i]!;
    if (fusable < p.min_fusable_share * g.windowNs) return null;
    const claim = new ClaimBuilder();
    let inChains = 0;
    let longestChain: Chain | undefined;
    for (const c of chains) {
      inChains += c.ops.length;
      if (!longestChain || c.ops.length > longestChain.ops.length) longestChain = c;
      for (const i of c.ops) if (fused(c, i)) claim.add(g.ops[i]!.start, g.ops[i]!.end);
    }
    const groups = kernelGroups(g.ops, (_, i) => glue(i));
    const byClass: Record<string, number> = {};
    for (const s of w.byClass) if (GLUE_CLASSES.has(s.cls)) byClass[s.cls] = msRounded(s.ns);
    // the longest run's launching code, in launch order (a name may recur: add → … → add)
    const chainOps = longestChain ? longestChain.ops.map((i) => g.ops[i]!.launcher?.function).filter((f): f is string => f !== undefined) : [];
    const names = groups.slice(0, 3).map((k) => kernelPhrase(k, g.busyNs));
    const suggestions = [
      `Compile the model (model = torch.compile(model)): Inductor fuses each run of elementwise, reduction and normalization kernels into one Triton kernel that reads and writes the data once. ${chains.length} runs of 2 or more such kernels hold ${inChains} launches${longestChain ? `; the longest has ${longestChain.ops.length}${chainOps.length > 0 ? ` (${chainOps.slice(0, 6).map((f) => `\`${f}\``).join(" → ")}${chainOps.length > 6 ? " → …" : ""})` : ""}` : ""}.`,
    ];
    const rmsnorm = groups.some((k) => /rsqrt/.test(k.name)) && groups.some((k) => /MeanOps/.test(k.name));
    if (rmsnorm) {
      suggestions.push(
        "The norms are written out op by op (pow → mean → add → rsqrt → mul → mul: a hand-written RMSNorm): use a fused RMSNorm kernel — Transformer Engine's te.RMSNorm, Apex's FusedRMSNorm, Liger-Kernel's LigerRMSNorm — or let torch.compile fuse it.",
      );
    }
    const copy = w.byClass.find((s) => s.cls === "copy");
    if (copy && copy.ns >= 0.1 * glueNs) {
      suggestions.push(
        `Copies and casts on the GPU take ${msRounded(copy.ns)} ms (most in \`${kernelLabel(copy.topName)}\`): keep tensors in the dtype and memory layout the next op reads (no .float()/.half() round trips, no .contiguous() after a transpose), and write into preallocated slices instead of torch.cat in the loop.`,
      );
    }
    suggestions.push(`The glue kernels with the most time: ${names.join("; ")}.`);
    return {
      title: `Unfused glue: elementwise, reduction, normalization and copy kernels take ${pct(glueNs, g.busyNs)} % of GPU busy time; fusing their runs would remove ${msRounded(fusable)} ms`,
      severity: severityFor(fusable, g.windowNs),
      confidence: round(clamp01(0.6 + 0.3 * Math.min(1, fusable / g.windowNs / 0.25))),
      impact_ms: msRounded(fusable),
      evidence: {
        glue_ms: msRounded(glueNs),
        glue_pct_of_busy: pct(glueNs, g.busyNs),
        by_class_ms: byClass,
        chains: chains.length,
        kernels_in_chains: inChains,
        fusable_ms: msRounded(fusable),
        kernels: groups.slice(0, 3).map(kernelEvidence),
      },
      suggestions,
      saving: {
        kind: "time",
        claim: claim.build(),
        basis: "A fused kernel still reads and writes the data once: in each run of glue kernels the longest stays and the others go, where the GPU sets the pace.",
      },
    };
  },
};
