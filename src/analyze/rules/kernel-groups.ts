// What the GPU-bound rules say about kernels: the chosen kernels grouped by name, each with the
// code that launched most of its time, in words for a suggestion.
import type { GpuOp, Launcher } from "../../trace/model.ts";
import { kernelLabel } from "../kernel-classes.ts";
import type { DeviceFacts } from "../device-peaks.ts";
import type { GemmKind } from "../gemm.ts";
import type { GpuWork } from "../gpu-work.ts";
import { type AnalysisContext, cleanRef, codeName, msRounded, pct } from "./common.ts";

export interface KernelGroup {
  name: string;
  count: number;
  ns: number;
  /** The launcher with the most of this kernel's time. */
  ref: Launcher | undefined;
}

/** The ops `pick` chooses, grouped by name, most time first. */
export function kernelGroups(ops: GpuOp[], pick: (op: GpuOp, index: number) => boolean): KernelGroup[] {
  // launchers are interned by the merger (equal ones are one object): grouped by identity
  const m = new Map<string, { count: number; ns: number; refs: Map<Launcher | undefined, number> }>();
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    if (!pick(op, i)) continue;
    let e = m.get(op.name);
    if (!e) m.set(op.name, (e = { count: 0, ns: 0, refs: new Map() }));
    const d = op.end - op.start;
    e.count++;
    e.ns += d;
    e.refs.set(op.launcher, (e.refs.get(op.launcher) ?? 0) + d);
  }
  return [...m]
    .map(([name, e]) => {
      let ref: Launcher | undefined;
      let best = -1;
      for (const [l, ns] of e.refs) if (ns > best) [ref, best] = [l, ns];
      return { name, count: e.count, ns: e.ns, ref };
    })
    .sort((a, b) => b.ns - a.ns || a.name.localeCompare(b.name));
}

/** "`cutlass_80_simt_sgemm_256x128_8x4_nn_align1` launched by `aten::mm` in scope `step` (80×, 27.04 ms, 92.7 % of GPU busy time)" */
export function kernelPhrase(k: KernelGroup, busyNs: number): string {
  const by = k.ref?.function || k.ref?.scope ? ` launched by ${codeName(k.ref)}` : "";
  return `\`${kernelLabel(k.name)}\`${by} (${k.count}×, ${msRounded(k.ns)} ms, ${pct(k.ns, busyNs)} % of GPU busy time)`;
}

/** A group for evidence: name, count, ms and the launcher. */
export function kernelEvidence(k: KernelGroup): Record<string, unknown> {
  return cleanRef({ kernel: k.name, count: k.count, ms: msRounded(k.ns), function: k.ref?.function, file: k.ref?.file, line: k.ref?.line, scope: k.ref?.scope });
}


/** Σ duration of the ops `pick` chooses (by index), and of those among them in the pace-setting time. */
export function opTime(w: GpuWork, pick: (index: number) => boolean): { ns: number; paced: number } {
  let ns = 0;
  let inPace = 0;
  for (let i = 0; i < w.dur.length; i++) {
    if (!pick(i)) continue;
    ns += w.dur[i]!;
    if (w.paced[i]) inPace += w.dur[i]!;
  }
  return { ns, paced: inPace };
}

/** The thresholds the GEMM-precision rules share (fp32_gemm, fp8_candidate). */
export interface GemmShareParams {
  min_busy_share: number;
  min_pace_share: number;
  min_compute_capability: number;
}

/**
 * The GEMMs of the kinds `want` picks (skinny ones never: memory-bound, a faster math path does
 * not help them), when they take ≥ min_busy_share of the GPU's busy time and ≥ min_pace_share of
 * the window in pace-setting time on a GPU of at least min_compute_capability; else null.
 */
export function dominantGemms(ctx: AnalysisContext, p: GemmShareParams, want: (k: GemmKind) => boolean) {
  const g = ctx.gpu;
  const w = ctx.work;
  const dev = w?.device;
  if (!g || !w || !dev || dev.cc === null || dev.cc < p.min_compute_capability || g.windowNs <= 0) return null;
  const pick = (i: number): boolean => {
    const k = w.gemmKinds[i];
    return k !== null && k !== undefined && !k.skinny && want(k);
  };
  const { ns, paced } = opTime(w, pick);
  if (ns < p.min_busy_share * g.busyNs || paced < p.min_pace_share * g.windowNs) return null;
  return { g, w, dev: dev as DeviceFacts & { cc: number }, pick, ns, paced, groups: kernelGroups(g.ops, (_, i) => pick(i)) };
}
