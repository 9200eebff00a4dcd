// Pageable copies: host↔device copies from/to pageable memory (staged through a driver bounce
// buffer, synchronous for the CPU, and slower than pinned).
import type { CopyMetrics } from "../transfers.ts";
import { exposedCopies } from "../claims.ts";
import { ClaimBuilder, type SavingSpec } from "../savings.ts";
import { PCIE_LANE_GBPS } from "./pcie-saturation.ts";
import { type AnalysisContext, type Rule, type RuleFinding, clamp01, cleanRef, codeName, formatBytes, msRounded, pct, round, severityFor } from "./common.ts";
import type { ParamDefs } from "../params.ts";

/** Pageable copies are a finding when they move at least this many bytes… */
export const PAGEABLE_MIN_BYTES = 1 << 20;
/** …and take at least this share of the GPU window. */
export const PAGEABLE_MIN_SHARE = 0.02;

/** The thresholds a rules file may override by name (`rule_id.param`, docs/rules.md). */
const PARAMS = {
  min_bytes: { default: PAGEABLE_MIN_BYTES, unit: "bytes", doc: "pageable copies moving at least this many bytes…", integer: true },
  min_share: { default: PAGEABLE_MIN_SHARE, unit: "share of the GPU window", doc: "…and taking at least this share of the GPU window", max: 1 },
} satisfies ParamDefs;

export const pageableCopiesRule: Rule<typeof PARAMS> = {
  id: "pageable_copies",
  description: `copies from/to pageable host memory moving ≥ ${PAGEABLE_MIN_BYTES >> 20} MiB and ≥ ${PAGEABLE_MIN_SHARE * 100} % of the GPU window`,
  params: PARAMS,
  evaluate(ctx: AnalysisContext, p): RuleFinding | null {
    const g = ctx.gpu;
    const t = ctx.transfers;
    if (!g || !t || g.windowNs <= 0) return null;
    const dirs: [string, CopyMetrics][] = [
      ["h2d", t.h2d],
      ["d2h", t.d2h],
      ["other", t.other],
    ];
    let count = 0;
    let bytes = 0;
    let ns = 0;
    const launchers: { op: import("../../trace/model.ts").GpuOp; count: number; bytes: number; ns: number }[] = [];
    for (const [, c] of dirs) {
      count += c.pageableCount;
      bytes += c.pageableBytes;
      ns += c.pageableNs;
      launchers.push(...c.pageableLaunchers.values());
    }
    if (count === 0 || bytes < p.min_bytes || ns < p.min_share * g.windowNs) return null;
    launchers.sort((a, b) => b.bytes - a.bytes);
    const pageableGbps = ns > 0 ? bytes / ns : null;
    let pinnedBytes = 0;
    let pinnedNs = 0;
    for (const op of g.ops) {
      if (op.kind === "memcpy" && (op.srcMem === "pinned" || op.dstMem === "pinned") && op.bytes !== undefined) {
        pinnedBytes += op.bytes;
        pinnedNs += op.end - op.start;
      }
    }
    const evidence: Record<string, unknown> = {
      pageable_count: count,
      pageable_bytes: bytes,
      pageable_ms: msRounded(ns),
      pageable_pct_of_window: pct(ns, g.windowNs),
      pageable_gbps: pageableGbps === null ? null : round(pageableGbps, 2),
      pinned_gbps_same_trace: pinnedNs > 0 && pinnedBytes > 0 ? round(pinnedBytes / pinnedNs, 2) : null,
      h2d_pageable: t.h2d.pageableCount,
      d2h_pageable: t.d2h.pageableCount,
      sources: launchers.slice(0, 3).map((l) =>
        cleanRef({ direction: l.op.copyKind, function: l.op.launcher?.function, file: l.op.launcher?.file, line: l.op.launcher?.line, scope: l.op.launcher?.scope, count: l.count, bytes: l.bytes, ms: msRounded(l.ns) }),
      ),
    };
    const top = launchers[0]!;
    const suggestions = [
      `Pin the host buffer copied by ${codeName(top.op.launcher, "the copying code")} (${top.count} pageable ${top.op.copyKind} copies, ${formatBytes(top.bytes)}): allocate it once with torch.empty(..., pin_memory=True) and reuse it, or use DataLoader(pin_memory=True).`,
      "Copy from pinned memory with .to(device, non_blocking=True) so the copy runs asynchronously and can overlap compute; pageable copies are staged through a driver buffer and block the CPU.",
      "For device→host results, copy into a preallocated pinned tensor (out.copy_(gpu_tensor, non_blocking=True)) and synchronize on a CUDA event only when the value is needed.",
    ];
    return {
      title: `${count} copies use pageable host memory (${formatBytes(bytes)}, ${msRounded(ns)} ms)`,
      severity: severityFor(ns, g.windowNs),
      confidence: round(clamp01(0.7 + 0.25 * Math.min(1, ns / g.windowNs / 0.2))),
      impact_ms: msRounded(ns),
      evidence,
      suggestions,
      saving: pageableSaving(ctx, pageableGbps!, pinnedNs > 0 && pinnedBytes > 0 ? pinnedBytes / pinnedNs : null),
    };
  },
};

/**
 * Pinned memory moves the same bytes at the pinned bandwidth: the pageable copies' exposed time
 * (nothing else running on the GPU) shrinks by 1 − pageable / pinned GB/s. Pinned bandwidth as
 * measured by this trace's pinned copies, else the PCIe link's peak when the link is known, else
 * unknown: then at most the whole exposed time (if the copies could overlap compute entirely).
 */
function pageableSaving(ctx: AnalysisContext, pageableGbps: number, pinnedGbps: number | null): SavingSpec {
  const g = ctx.gpu!;
  const exposed = exposedCopies(g, (op) => op.srcMem === "pageable" || op.dstMem === "pageable");
  const dev = ctx.trace.meta.devices[0];
  const lane = dev?.pcieLinkGen !== undefined ? PCIE_LANE_GBPS[dev.pcieLinkGen] : undefined;
  const link = lane !== undefined && dev?.pcieLinkWidth ? lane * dev.pcieLinkWidth : null;
  const fast = pinnedGbps ?? link;
  if (fast === null) {
    return {
      kind: "time",
      claim: new ClaimBuilder().addUnion(exposed).build(),
      basis: "No pinned copy or PCIe link figure in the trace to price pinned bandwidth: at most the pageable copies' time with nothing else running, if pinned memory and non_blocking=True let them overlap compute entirely.",
    };
  }
  const share = Math.max(0, 1 - pageableGbps / fast);
  const what = pinnedGbps !== null ? "the pinned copies of this trace reach" : `the PCIe link's peak (gen ${dev!.pcieLinkGen} x${dev!.pcieLinkWidth})`;
  return {
    kind: "time",
    claim: new ClaimBuilder().addUnion(exposed, share).build(),
    basis: `Pinned memory moves these bytes at the ${round(fast, 1)} GB/s ${what} instead of ${round(pageableGbps, 1)} GB/s: the pageable copies' time with nothing else running shrinks by ${round(share * 100, 0)} %.`,
  };
}
