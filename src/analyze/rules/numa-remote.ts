// NUMA remote placement: most of the process's memory sits on a NUMA node other than the GPU's,
// so every host↔device copy crosses the socket interconnect. Needs the GPU's NUMA node and the
// per-node samples (numa node N tracks); otherwise not measured.
import { exposedCopies } from "../claims.ts";
import { ClaimBuilder } from "../savings.ts";
import { type AnalysisContext, type Rule, type RuleFinding, msRounded, round } from "./common.ts";
import type { ParamDefs } from "../params.ts";

/** At least this share of the process's memory on nodes other than the GPU's. */
export const NUMA_REMOTE_MIN_PCT = 50;
/** Only for processes with at least this much memory on NUMA nodes. */
export const NUMA_MIN_PROCESS_MB = 256;

/** The thresholds a rules file may override by name (`rule_id.param`, docs/rules.md). */
const PARAMS = {
  remote_min_pct: { default: NUMA_REMOTE_MIN_PCT, unit: "%", doc: "at least this share of the process's memory on NUMA nodes other than the GPU's", max: 100 },
  min_process_mb: { default: NUMA_MIN_PROCESS_MB, unit: "MB", doc: "only when the process has at least this much memory on NUMA nodes" },
} satisfies ParamDefs;

export const numaRemoteRule: Rule<typeof PARAMS> = {
  id: "numa_remote",
  description: `≥ ${NUMA_REMOTE_MIN_PCT} % of the process's memory on a NUMA node other than the GPU's`,
  params: PARAMS,
  evaluate(ctx: AnalysisContext, p): RuleFinding | null {
    const n = ctx.cpu.numa;
    if (n.gpuNode === null || n.pagesMbByNode === null || n.remotePct === null || n.processMb === null) return null;
    if (Object.keys(n.pagesMbByNode).length < 2 || n.processMb < p.min_process_mb || n.remotePct < p.remote_min_pct) return null;
    const t = ctx.transfers;
    const hostCopyNs = t ? t.h2d.ns + t.d2h.ns : 0;
    const remoteMb = (n.processMb * n.remotePct) / 100;
    return {
      title: `${round(n.remotePct, 0)} % of the process's memory is on a NUMA node remote from the GPU (node ${n.gpuNode})`,
      severity: n.remotePct >= 80 && hostCopyNs > 0 ? "medium" : "low",
      confidence: 0.7,
      impact_ms: msRounded(hostCopyNs * (n.remotePct / 100) * 0.3),
      evidence: {
        gpu_numa_node: n.gpuNode,
        pages_mb_by_node: n.pagesMbByNode,
        remote_pct: round(n.remotePct, 1),
        remote_mb: round(remoteMb, 0),
        host_copy_ms: msRounded(hostCopyNs),
      },
      saving: ctx.gpu
        ? {
            kind: "time",
            claim: new ClaimBuilder().addUnion(exposedCopies(ctx.gpu, (op) => op.copyKind === "HtoD" || op.copyKind === "DtoH"), n.remotePct / 100).build(),
            basis: `At most the remote share (${round(n.remotePct, 0)} %) of the host↔device copy time with nothing else running, if copies from the remote node cost nothing; the trace has no local-node copy to compare bandwidth with.`,
          }
        : { kind: "none", reason: "the trace has no GPU copies whose time remote memory could lengthen" },
      suggestions: [
        `Run on the GPU's node: numactl --cpunodebind=${n.gpuNode} --membind=${n.gpuNode} python …  (check the GPU's node with nvidia-smi topo -m).`,
        "Allocate pinned staging buffers and load data from a thread/process bound to the GPU's node, so host↔device copies do not cross the socket interconnect.",
      ],
    };
  },
};
