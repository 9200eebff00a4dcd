// Synchronous copies: large copies during which the CPU waits (a blocking .to()/.cuda()/.cpu(),
// cudaMemcpy), so neither side can run ahead.
import { type AnalysisContext, type Rule, type RuleFinding, clamp01, cleanRef, codeName, formatBytes, msRounded, pct, round, severityFor } from "./common.ts";
import type { ParamDefs } from "../params.ts";
import { blockingCopyCalls } from "../transfers.ts";
import type { ApiCall, GpuOp } from "../../trace/model.ts";
import { exposedCopies, gapClaim } from "../claims.ts";
import { ClaimBuilder } from "../savings.ts";

/** Blocking copies are a finding when they move at least this many bytes… */
export const SYNC_COPY_MIN_BYTES = 1 << 20;
/** …and the CPU spends at least this share of the GPU window blocked in them. */
export const SYNC_COPY_MIN_SHARE = 0.05;

/** The thresholds a rules file may override by name (`rule_id.param`, docs/rules.md). */
const PARAMS = {
  min_bytes: { default: SYNC_COPY_MIN_BYTES, unit: "bytes", doc: "blocking copies moving at least this many bytes…", integer: true },
  min_share: { default: SYNC_COPY_MIN_SHARE, unit: "share of the GPU window", doc: "…with the CPU blocked in them at least this share of the GPU window", max: 1 },
} satisfies ParamDefs;

export const syncCopiesRule: Rule<typeof PARAMS> = {
  id: "sync_copies",
  description: `blocking copies moving ≥ ${SYNC_COPY_MIN_BYTES >> 20} MiB with the CPU blocked ≥ ${SYNC_COPY_MIN_SHARE * 100} % of the GPU window`,
  params: PARAMS,
  evaluate(ctx: AnalysisContext, p): RuleFinding | null {
    const g = ctx.gpu;
    if (!g || g.windowNs <= 0 || ctx.trace.api.length === 0) return null;
    const blocking = blockingCopyCalls(ctx.trace);
    let count = 0;
    let bytes = 0;
    let blockedNs = 0;
    const seen = new Set<ApiCall>();
    const copies = new Set<GpuOp>();
    const bySource = new Map<string, { op: (typeof g.ops)[number]; count: number; bytes: number; blockedNs: number }>();
    for (let i = 0; i < g.ops.length; i++) {
      const op = g.ops[i]!;
      if (op.kind !== "memcpy") continue;
      const call = ctx.merge.opCall[i];
      if (!call || !(op.async === false || blocking.has(call))) continue;
      count++;
      copies.add(op);
      bytes += op.bytes ?? 0;
      let b = 0;
      if (!seen.has(call)) {
        seen.add(call);
        const wait = blocking.get(call);
        b = call.end - call.start + (wait ? wait.end - wait.start : 0);
        blockedNs += b;
      }
      const l = op.launcher;
      const key = `${l?.function ?? ""}\u0000${l?.file ?? ""}\u0000${l?.line ?? ""}\u0000${l?.scope ?? ""}`;
      const e = bySource.get(key);
      if (e) {
        e.count++;
        e.bytes += op.bytes ?? 0;
        e.blockedNs += b;
      } else bySource.set(key, { op, count: 1, bytes: op.bytes ?? 0, blockedNs: b });
    }
    if (count === 0 || bytes < p.min_bytes || blockedNs < p.min_share * g.windowNs) return null;
    const sources = [...bySource.values()].sort((a, b) => b.blockedNs - a.blockedNs);
    const top = sources[0]!;
    // the CPU waits these copies made: the copy calls and the syncs after them
    const waits = new Set<ApiCall>(seen);
    for (const c of seen) {
      const w = blocking.get(c);
      if (w) waits.add(w);
    }
    const after = gapClaim(ctx.work!.gaps, (i) => {
      const o = ctx.syncs.gapOccasion[i]!;
      const call = o >= 0 ? ctx.syncs.occasions[o]!.call : undefined;
      return call !== undefined && waits.has(call);
    });
    const claim = new ClaimBuilder().addClaim(after).addUnion(exposedCopies(g, (op) => copies.has(op))).build();
    return {
      title: `${count} blocking copies (${formatBytes(bytes)}) keep the CPU waiting ${msRounded(blockedNs)} ms`,
      severity: severityFor(blockedNs, g.windowNs),
      confidence: round(clamp01(0.65 + 0.3 * Math.min(1, blockedNs / g.windowNs / 0.25))),
      impact_ms: msRounded(blockedNs),
      evidence: {
        count,
        bytes,
        cpu_blocked_ms: msRounded(blockedNs),
        cpu_blocked_pct_of_window: pct(blockedNs, g.windowNs),
        sources: sources.slice(0, 3).map((s) =>
          cleanRef({ direction: s.op.copyKind, function: s.op.launcher?.function, file: s.op.launcher?.file, line: s.op.launcher?.line, scope: s.op.launcher?.scope, count: s.count, bytes: s.bytes, blocked_ms: msRounded(s.blockedNs) }),
        ),
      },
      saving: {
        kind: "time",
        claim,
        basis: "Asynchronous copies from pinned memory let the CPU run ahead and the copies overlap compute: at most the GPU idle that followed these copies' waits and the copies' own time with nothing else running go.",
      },
      suggestions: [
        `Make the copy in ${codeName(top.op.launcher, "the copying code")} asynchronous: pinned host memory and .to(device, non_blocking=True) (or out.copy_(x, non_blocking=True) for device→host), then wait on a CUDA event only where the data is used.`,
        "Issue the copy for the next step before the current step's compute (prefetch), so the CPU keeps launching while the copy runs.",
        "Avoid round trips: keep intermediate results on the GPU instead of .cpu()/.numpy() and back.",
      ],
    };
  },
};
