// PCIe saturation: host↔device copies run near the link's peak bandwidth, so copies cannot get
// faster — only smaller or fewer. Needs the link's generation and width (InferScope device
// metadata) or NVML throughput samples; a Kineto trace has neither, and the rule stays silent.
import { gbps } from "../transfers.ts";
import { exposedCopies } from "../claims.ts";
import { ClaimBuilder } from "../savings.ts";
import { type AnalysisContext, type Rule, type RuleFinding, clamp01, msRounded, pct, round, severityFor } from "./common.ts";
import type { ParamDefs } from "../params.ts";

/** Copies achieving at least this fraction of the link's peak saturate it. */
export const PCIE_SATURATION_FRACTION = 0.7;
/** Only when host↔device copies take at least this share of the GPU window. */
export const PCIE_MIN_COPY_SHARE = 0.1;
/** Usable GB/s per lane and direction, by PCIe generation (after line encoding). */
export const PCIE_LANE_GBPS: Record<number, number> = { 1: 0.25, 2: 0.5, 3: 0.985, 4: 1.969, 5: 3.938, 6: 7.563 };

/** The thresholds a rules file may override by name (`rule_id.param`, docs/rules.md). */
const PARAMS = {
  saturation_fraction: { default: PCIE_SATURATION_FRACTION, unit: "fraction of the link's peak", doc: "copies achieving at least this fraction of the link's peak bandwidth saturate it", max: 1 },
  min_copy_share: { default: PCIE_MIN_COPY_SHARE, unit: "share of the GPU window", doc: "only when host↔device copies take at least this share of the GPU window", max: 1 },
} satisfies ParamDefs;

export const pcieSaturationRule: Rule<typeof PARAMS> = {
  id: "pcie_saturation",
  description: `host↔device copies at ≥ ${PCIE_SATURATION_FRACTION * 100} % of the PCIe link's peak, taking ≥ ${PCIE_MIN_COPY_SHARE * 100} % of the GPU window`,
  params: PARAMS,
  evaluate(ctx: AnalysisContext, p): RuleFinding | null {
    const g = ctx.gpu;
    const t = ctx.transfers;
    if (!g || !t || g.windowNs <= 0) return null;
    const dev = ctx.trace.meta.devices[0];
    const lane = dev?.pcieLinkGen !== undefined ? PCIE_LANE_GBPS[dev.pcieLinkGen] : undefined;
    const width = dev?.pcieLinkWidth;
    if (!dev || lane === undefined || width === undefined || width <= 0) return null; // link not measured
    const peak = lane * width;
    const hostNs = t.h2d.ns + t.d2h.ns;
    if (hostNs < p.min_copy_share * g.windowNs) return null;
    const h2d = gbps(t.h2d);
    const d2h = gbps(t.d2h);
    const best = Math.max(h2d ?? 0, d2h ?? 0);
    const nvmlRx = ctx.cpu.pcieRxPeakMbps.get(dev.index);
    const nvmlTx = ctx.cpu.pcieTxPeakMbps.get(dev.index);
    const nvmlBest = Math.max(nvmlRx ?? 0, nvmlTx ?? 0) / 1000;
    const achieved = Math.max(best, nvmlBest);
    if (achieved < p.saturation_fraction * peak) return null;
    return {
      title: `PCIe link saturated: copies reach ${round(achieved, 1)} GB/s of ~${round(peak, 1)} GB/s (gen ${dev.pcieLinkGen} x${width})`,
      severity: severityFor(hostNs, g.windowNs),
      confidence: round(clamp01(0.6 + 0.3 * Math.min(1, achieved / peak))),
      impact_ms: msRounded(hostNs),
      evidence: {
        link_gen: dev.pcieLinkGen,
        link_width: width,
        link_peak_gbps: round(peak, 2),
        h2d_gbps: h2d === null ? null : round(h2d, 2),
        d2h_gbps: d2h === null ? null : round(d2h, 2),
        nvml_rx_peak_mbps: nvmlRx ?? null,
        nvml_tx_peak_mbps: nvmlTx ?? null,
        host_copy_ms: msRounded(hostNs),
        host_copy_pct_of_window: pct(hostNs, g.windowNs),
      },
      saving: {
        kind: "time",
        claim: new ClaimBuilder().addUnion(exposedCopies(g, (op) => op.copyKind === "HtoD" || op.copyKind === "DtoH")).build(),
        basis: "The link runs at its peak, so only fewer bytes help: at most the host↔device copy time with nothing else running, if those bytes no longer crossed the link.",
      },
      suggestions: [
        "The link is the limit: move fewer bytes (uint8/fp16 instead of fp32 on the wire, decode/normalize on the GPU, send only the rows the model needs).",
        "Keep reused data resident on the GPU (weights, lookup tables, the KV cache) instead of copying it every step.",
        "Overlap the remaining copies with compute (pinned memory, non_blocking=True, a side stream) so the link time hides behind kernels.",
      ],
    };
  },
};
