// Transfer overhead: copies take a large share of the GPU window.
import type { GpuOp } from "../../trace/model.ts";
import { gbps } from "../transfers.ts";
import { exposedCopies } from "../claims.ts";
import { ClaimBuilder } from "../savings.ts";
import { type AnalysisContext, type Rule, type RuleFinding, clamp01, cleanRef, codeName, formatBytes, msRounded, pct, round, severityFor } from "./common.ts";
import type { ParamDefs } from "../params.ts";

/** Copies running more than this share of the GPU window is a finding (the seeds' 20 %). */
export const TRANSFER_SHARE_MIN = 0.2;

interface CopySource {
  op: GpuOp;
  count: number;
  bytes: number;
  ns: number;
}

/** Copies grouped by their launcher, largest byte count first. */
export function copySources(ops: GpuOp[]): CopySource[] {
  const m = new Map<string, CopySource>();
  for (const op of ops) {
    if (op.kind !== "memcpy") continue;
    const l = op.launcher;
    const key = `${op.copyKind}\u0000${l?.function ?? ""}\u0000${l?.file ?? ""}\u0000${l?.line ?? ""}\u0000${l?.scope ?? ""}`;
    const e = m.get(key);
    if (e) {
      e.count++;
      e.bytes += op.bytes ?? 0;
      e.ns += op.end - op.start;
    } else m.set(key, { op, count: 1, bytes: op.bytes ?? 0, ns: op.end - op.start });
  }
  return [...m.values()].sort((a, b) => b.ns - a.ns || b.bytes - a.bytes);
}

/** The thresholds a rules file may override by name (`rule_id.param`, docs/rules.md). */
const PARAMS = {
  min_share: { default: TRANSFER_SHARE_MIN, unit: "share of the GPU window", doc: "copies running during more than this share of the GPU window is a finding", max: 1 },
} satisfies ParamDefs;

export const transferOverheadRule: Rule<typeof PARAMS> = {
  id: "transfer_overhead",
  description: `copies run during more than ${TRANSFER_SHARE_MIN * 100} % of the GPU window`,
  params: PARAMS,
  evaluate(ctx: AnalysisContext, p): RuleFinding | null {
    const g = ctx.gpu;
    const t = ctx.transfers;
    if (!g || !t || g.windowNs <= 0) return null;
    const share = g.copyNs / g.windowNs;
    if (share <= p.min_share) return null;
    const overlapped = g.copyNs - g.transferOnlyNs;
    const exposedShare = g.copyNs > 0 ? g.transferOnlyNs / g.copyNs : 0;
    const sources = copySources(g.ops).slice(0, 3);
    const dirs = { h2d: t.h2d, d2h: t.d2h, d2d: t.d2d, other: t.other };
    const evidence: Record<string, unknown> = {
      window_ms: msRounded(g.windowNs),
      copy_ms: msRounded(g.copyNs),
      copy_pct_of_window: pct(g.copyNs, g.windowNs),
      not_overlapped_ms: msRounded(g.transferOnlyNs),
      overlapped_with_compute_ms: msRounded(overlapped),
      compute_ms: msRounded(g.computeNs),
    };
    for (const [k, c] of Object.entries(dirs)) {
      if (c.count === 0) continue;
      evidence[k] = { count: c.count, bytes: c.bytes, ms: msRounded(c.ns), gbps: gbps(c) === null ? null : round(gbps(c)!, 2), pageable_count: c.pageableCount, pinned_count: c.pinnedCount };
    }
    evidence.largest_sources = sources.map((s) =>
      cleanRef({ direction: s.op.copyKind, function: s.op.launcher?.function, file: s.op.launcher?.file, line: s.op.launcher?.line, scope: s.op.launcher?.scope, count: s.count, bytes: s.bytes, ms: msRounded(s.ns) }),
    );
    const suggestions: string[] = [];
    const top = sources[0];
    if (top) {
      const per = top.count > 0 ? top.bytes / top.count : 0;
      suggestions.push(
        `The biggest copy source is ${codeName(top.op.launcher, "an unattributed copy")}: ${top.count} ${top.op.copyKind} copies, ${formatBytes(top.bytes)} in ${msRounded(top.ns)} ms (${formatBytes(per)} each). Keep that data on the GPU between steps, or create it there (torch.tensor(..., device="cuda"), torch.from_numpy(x).cuda() once, outside the loop).`,
      );
    }
    if (exposedShare > 0.5) {
      const pinned = t.h2d.pinnedCount + t.d2h.pinnedCount;
      const pageable = t.h2d.pageableCount + t.d2h.pageableCount;
      suggestions.push(
        pageable > pinned
          ? `Overlap the copies with compute: ${pct(g.transferOnlyNs, g.copyNs)} % of the copy time nothing else runs on the GPU. Put the host tensors in pinned memory (.pin_memory(), DataLoader(pin_memory=True)) and copy with non_blocking=True on a side stream, one batch ahead.`
          : `Overlap the copies with compute: ${pct(g.transferOnlyNs, g.copyNs)} % of the copy time nothing else runs on the GPU. The memory is already pinned; prefetch the next batch on a separate torch.cuda.Stream while the current one computes (double buffering).`,
      );
    }
    suggestions.push(
      "Move fewer bytes: send compact dtypes over PCIe (uint8 images, fp16/bf16 tensors) and convert/normalize on the GPU; copy only what the model reads (slice before .to()).",
    );
    const confidence = round(clamp01(0.6 + 0.35 * exposedShare));
    return {
      title: `Copies run ${pct(g.copyNs, g.windowNs)} % of the GPU time${exposedShare > 0.5 ? ", mostly not overlapped with compute" : ""}`,
      severity: severityFor(g.transferOnlyNs, g.windowNs),
      confidence,
      impact_ms: msRounded(g.transferOnlyNs),
      evidence,
      suggestions,
      saving: {
        kind: "time",
        claim: new ClaimBuilder().addUnion(exposedCopies(g, () => true)).build(),
        basis: "Overlapping the copies with compute (or not copying) removes at most the time the GPU only copies.",
      },
    };
  },
};
