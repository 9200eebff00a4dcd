// Launch-bound: many tiny kernels, each launched separately, and the GPU waiting between them.
import { SHORT_KERNEL_NS } from "../kernels.ts";
import { GAP_KIND, gapClaim } from "../claims.ts";
import { dominantLayer } from "../modules.ts";
import { type AnalysisContext, type Rule, type RuleFinding, clamp01, cleanRef, codeName, msRounded, pct, round, severityFor } from "./common.ts";
import type { ParamDefs } from "../params.ts";

/** At least this many kernels launched one by one (not from a CUDA graph)… */
export const LAUNCH_BOUND_MIN_KERNELS = 100;
/** …of which at least this share are short (< SHORT_KERNEL_NS)… */
export const LAUNCH_BOUND_SHORT_SHARE = 0.5;
/** …while the GPU idles at least this share of its window… */
export const LAUNCH_BOUND_MIN_IDLE_SHARE = 0.3;
/** …mostly waiting for launches (host-wait share of the idle time)… */
export const LAUNCH_BOUND_HOST_WAIT_SHARE = 0.5;
/**
 * …in many small gaps rather than a few long ones: at least this many host-wait gaps per launched
 * kernel (a preprocessing-bound loop has about one long gap per step instead).
 */
export const LAUNCH_BOUND_GAPS_PER_KERNEL = 0.25;
/** A layer pattern launching at least this share of the kernels is named in the suggestions. */
export const LAUNCH_BOUND_LAYER_SHARE = 0.25;

/** The thresholds a rules file may override by name (`rule_id.param`, docs/rules.md). */
const PARAMS = {
  min_kernels: { default: LAUNCH_BOUND_MIN_KERNELS, unit: "kernels", doc: "at least this many kernels launched one by one (not from a CUDA graph)", integer: true },
  short_share: { default: LAUNCH_BOUND_SHORT_SHARE, unit: "share", doc: "at least this share of them shorter than 10 µs", max: 1 },
  min_idle_share: { default: LAUNCH_BOUND_MIN_IDLE_SHARE, unit: "share of the GPU window", doc: "the GPU idles at least this share of its window", max: 1 },
  host_wait_share: { default: LAUNCH_BOUND_HOST_WAIT_SHARE, unit: "share of the idle time", doc: "at least this share of the idle time is host-wait", max: 1 },
  gaps_per_kernel: { default: LAUNCH_BOUND_GAPS_PER_KERNEL, unit: "gaps per kernel", doc: "at least this many host-wait gaps per launched kernel (many short gaps, not one long gap per step)" },
} satisfies ParamDefs;

export const launchBoundRule: Rule<typeof PARAMS> = {
  id: "launch_bound",
  description: `≥ ${LAUNCH_BOUND_MIN_KERNELS} separately launched kernels, ≥ ${LAUNCH_BOUND_SHORT_SHARE * 100} % of them < ${SHORT_KERNEL_NS / 1000} µs, GPU idle ≥ ${LAUNCH_BOUND_MIN_IDLE_SHARE * 100} % in many short host-wait gaps`,
  params: PARAMS,
  evaluate(ctx: AnalysisContext, p): RuleFinding | null {
    const g = ctx.gpu;
    const k = ctx.kernels;
    if (!g || !k || g.windowNs <= 0 || !g.launchesKnown) return null;
    const launched = k.count - k.graphCount;
    if (launched < p.min_kernels) return null;
    let shortLaunched = 0;
    for (const s of k.shortByLauncher) shortLaunched += s.count;
    const shortShare = shortLaunched / launched;
    const idleShare = g.idleNs / g.windowNs;
    const hostShare = g.idleNs > 0 ? g.hostWaitNs / g.idleNs : 0;
    const hostGaps = g.gaps.filter((x) => x.kind === "host_wait").length;
    if (shortShare < p.short_share || idleShare < p.min_idle_share || hostShare < p.host_wait_share) return null;
    if (hostGaps < p.gaps_per_kernel * launched) return null;
    const meanKernelUs = k.count > 0 ? k.totalNs / k.count / 1e3 : 0;
    const meanLaunchUs = k.launchApiNs !== null && k.launchCalls > 0 ? k.launchApiNs / k.launchCalls / 1e3 : null;
    const hostPerKernelUs = (g.windowNs / launched) / 1e3;
    const top = k.shortByLauncher.slice(0, 3);
    const evidence: Record<string, unknown> = {
      kernels: k.count,
      launched_individually: launched,
      from_cuda_graphs: k.graphCount,
      short_kernels: shortLaunched,
      short_pct: pct(shortLaunched, launched),
      short_threshold_us: SHORT_KERNEL_NS / 1000,
      mean_kernel_us: round(meanKernelUs, 2),
      mean_launch_call_us: meanLaunchUs === null ? null : round(meanLaunchUs, 2),
      window_per_kernel_us: round(hostPerKernelUs, 2),
      gpu_utilization_pct: pct(g.busyNs, g.windowNs),
      host_wait_ms: msRounded(g.hostWaitNs),
      host_wait_gaps: hostGaps,
      mean_host_wait_gap_us: hostGaps > 0 ? round(g.hostWaitNs / hostGaps / 1e3, 2) : null,
      queue_depth_mean: k.queueDepth ? round(k.queueDepth.mean, 2) : null,
      top_launchers_of_short_kernels: top.map((s) => cleanRef({ function: s.ref?.function, file: s.ref?.file, line: s.ref?.line, scope: s.ref?.scope, kernels: s.count, gpu_ms: msRounded(s.ns) })),
    };
    const names = top.filter((s) => s.ref?.function).map((s) => `${codeName(s.ref)} (${s.count})`);
    // the layer that launches the most of them, when the trace knows the modules
    // (shares of the kernels the layer table counts: those of the step, when it has one)
    const layer = ctx.modules ? dominantLayer(ctx.modules, (s) => s.kernels, ctx.modules.kernelAllCount, LAUNCH_BOUND_LAYER_SHARE) : null;
    if (layer) evidence.top_layer = { pattern: layer.pattern, instances: layer.instances, kernels: layer.value, pct_of_kernels: round(layer.share * 100, 1) };
    const suggestions = [
      `Capture the steady-state step in a CUDA graph so ${launched} launches become one: torch.compile(model, mode="reduce-overhead"), or torch.cuda.CUDAGraph with static input buffers${ctx.scopes.stats[0] ? ` around \`${ctx.scopes.stats[0].name}\`` : ""}.`,
      `Fuse the small kernels${names.length > 0 ? ` launched by ${names.join(", ")}` : ""} with torch.compile (elementwise chains become one Triton kernel) or fused ops (torch.nn.functional.scaled_dot_product_attention, fused layer norms).`,
      "Give each launch more work: a larger batch, or for generation a static KV cache (generate(..., cache_implementation=\"static\")) that makes the decode step graph-capturable.",
    ];
    if (layer) {
      suggestions.splice(
        2,
        0,
        `Start with the layer that launches the most: \`${layer.pattern}\` launches ${round(layer.share * 100, 1)} % of the kernels (${layer.value} of ${ctx.modules!.kernelAllCount}${layer.instances > 1 ? `, over ${layer.instances} instances` : ""}): compile or fuse it first.`,
      );
    }
    const confidence = round(clamp01(0.5 + 0.45 * shortShare * hostShare));
    return {
      title: `Launch-bound: ${pct(shortLaunched, launched)} % of ${launched} kernels run < ${SHORT_KERNEL_NS / 1000} µs (mean ${round(meanKernelUs, 1)} µs) and the GPU waits between launches`,
      severity: severityFor(g.hostWaitNs, g.windowNs),
      confidence,
      impact_ms: msRounded(g.hostWaitNs),
      evidence,
      suggestions,
      saving: {
        kind: "time",
        claim: gapClaim(ctx.work!.gaps, (_, kind) => kind === GAP_KIND.host_wait),
        basis: "A CUDA graph or fused kernels remove at most the host-wait gaps between launches; the GPU still runs every kernel.",
      },
    };
  },
};
