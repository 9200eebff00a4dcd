// The building blocks of the saving formulas (docs/analysis.md, "Estimated savings"): the pieces
// of the window a fix removes — idle gaps it fills, copy time it hides or shortens, kernel time it
// cuts — as claims for savings.ts to share out.
import type { GpuOp } from "../trace/model.ts";
import type { GapKind, GpuTime } from "./gpu.ts";
import { type Union, subtractUnion, unionOf } from "../core/intervals.ts";
import { type Claim, ClaimBuilder } from "./savings.ts";

/** Gap kinds as numbers, for GapTable.kind. */
export const GAP_KIND: Record<GapKind, number> = { host_wait: 0, kernel_wait: 1, other: 2 };

/** The GPU's idle gaps as typed arrays (the rules' gap claims read them: no pass over the gap objects each). */
export interface GapTable {
  starts: Float64Array;
  ends: Float64Array;
  /** GAP_KIND of each gap */
  kind: Uint8Array;
  /** the sync occasion a host-wait gap followed (SyncMetrics.gapOccasion), or -1 */
  afterSync: Int32Array;
}

export function gapTable(gpu: GpuTime, gapOccasion: Int32Array): GapTable {
  const n = gpu.gaps.length;
  const t: GapTable = { starts: new Float64Array(n), ends: new Float64Array(n), kind: new Uint8Array(n), afterSync: gapOccasion };
  for (let i = 0; i < n; i++) {
    const g = gpu.gaps[i]!;
    t.starts[i] = g.start;
    t.ends[i] = g.end;
    t.kind[i] = GAP_KIND[g.kind];
  }
  return t;
}

/** The idle gaps `pick` chooses (by index and GAP_KIND), whole: the fix leaves the GPU no reason to wait there. */
export function gapClaim(gaps: GapTable, pick: (index: number, kind: number) => boolean, weight = 1): Claim {
  // gaps are sorted and disjoint already: the claim is built directly, without a union
  const n0 = gaps.starts.length;
  const chosen = new Uint8Array(n0);
  let n = 0;
  if (weight > 0) for (let i = 0; i < n0; i++) if (gaps.ends[i]! > gaps.starts[i]! && pick(i, gaps.kind[i]!)) (chosen[i] = 1), n++;
  const c: Claim = { starts: new Float64Array(n), ends: new Float64Array(n), weights: new Float64Array(n).fill(Math.min(1, weight)) };
  for (let i = 0, k = 0; i < n0; i++) {
    if (!chosen[i]) continue;
    c.starts[k] = gaps.starts[i]!;
    c.ends[k++] = gaps.ends[i]!;
  }
  return c;
}

/** The part of the chosen copies during which no kernel or memset runs: copy time that lengthens the window. */
export function exposedCopies(gpu: GpuTime, pick: (op: GpuOp) => boolean): Union {
  const s: number[] = [];
  const e: number[] = [];
  for (const op of gpu.ops) {
    if (op.kind === "memcpy" && pick(op)) {
      s.push(op.start);
      e.push(op.end);
    }
  }
  return subtractUnion(unionOf(s, e), gpu.compute);
}

/**
 * GPU ops (by index in gpu.ops) with the share of each that a fix removes (`weight` 0 skips an
 * op); only ops in the pace-setting time count (`paced`, aligned with the ops: savings.ts,
 * pacedOps), where finishing sooner shortens the run.
 */
export function opClaim(gpu: GpuTime, paced: Uint8Array, weight: (op: GpuOp, index: number) => number): Claim {
  const b = new ClaimBuilder();
  for (let i = 0; i < gpu.ops.length; i++) {
    if (!paced[i]) continue;
    const op = gpu.ops[i]!;
    const w = weight(op, i);
    if (w > 0) b.add(op.start, op.end, w);
  }
  return b.build();
}
