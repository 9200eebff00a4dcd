// GEMMs (docs/analysis.md, "GEMMs"): the precision each GEMM kernel computes in, read from its
// name, and — where the trace has the shapes (Kineto `Input Dims` of the op that dispatched it,
// torch.profiler(record_shapes=True)) — its floating-point work, so achieved TFLOP/s can be set
// against the device's peak for that precision (device-peaks.ts).
import type { CpuSpan, GpuOp } from "../trace/model.ts";
import { ARG } from "../trace/event-args.ts";
import type { DeviceFacts, Precision } from "./device-peaks.ts";
import type { KernelClass } from "./kernel-classes.ts";

export type GemmPrecision = Precision | "fp64";

export interface GemmKind {
  /** null: the name does not say (a split-K reduction, a custom kernel). */
  precision: GemmPrecision | null;
  /** Runs on tensor cores (false: CUDA-core FMA, "SIMT"). */
  tensorCores: boolean;
  /**
   * A matrix–vector or small-N kernel (gemv, gemmSN, gemmk1): limited by memory bandwidth, so a
   * faster math path (TF32, FP8) does not speed it up.
   */
  skinny: boolean;
}

/** Ordered: the first match decides. Names are cuBLAS / cuBLASLt / CUTLASS / nvjet kernel names. */
const PRECISION_PATTERNS: readonly [RegExp, GemmPrecision, boolean][] = [
  [/e4m3|e5m2|fp8/i, "fp8", true],
  [/imma|i8816|i16832|int8/i, "int8", true],
  [/bf16|bfloat16/i, "bf16", true],
  [/fp16|f16|hgemm|half|h884|h1688|h16816/i, "fp16", true],
  [/tf32|s1688|s16816/i, "tf32", true],
  [/dgemm|f64|fp64|double/i, "fp64", false],
  // CUDA-core FP32: SIMT SGEMMs (cuBLAS ampere_sgemm, CUTLASS simt_sgemm, xmma …_ffma_), and the
  // gemv / small-N kernels cuBLAS picks for skinny float products
  [/sgemm|simt|_ffma_|f32f32_f32f32|[<,] ?float\b/i, "fp32", false],
];

/** nvjet_sm90_hsh_…: cuBLAS's Hopper/Blackwell tensor-core kernels name A/compute/C types (h half, t bf16, s fp32 → TF32). */
const NVJET = /nvjet_(?:sm\d+_)?([a-z])[a-z]([a-z])_/;
const NVJET_TYPES: Record<string, GemmPrecision> = { h: "fp16", t: "bf16", s: "tf32" };

const SKINNY = /gemv|gemmSN|gemmk1|dot_kernel/i;
const SPLIT_K_REDUCE = /splitKreduce/i;

/** The kind of every GEMM-class op (null for the others), aligned with `ops`; names are read once each. */
export function gemmKinds(ops: GpuOp[], classes: KernelClass[]): (GemmKind | null)[] {
  const byName = new Map<string, GemmKind>();
  return ops.map((op, i) => {
    if (classes[i] !== "gemm") return null;
    let k = byName.get(op.name);
    if (!k) byName.set(op.name, (k = gemmKind(op.name)));
    return k;
  });
}

/** Precision and math path of a GEMM kernel, from its name. */
export function gemmKind(name: string): GemmKind {
  const skinny = SKINNY.test(name);
  if (SPLIT_K_REDUCE.test(name)) return { precision: null, tensorCores: false, skinny: false };
  const nv = NVJET.exec(name);
  if (nv) {
    const p = NVJET_TYPES[nv[1]!];
    if (p) return { precision: p, tensorCores: true, skinny };
  }
  for (const [re, precision, tensorCores] of PRECISION_PATTERNS) {
    if (re.test(name)) return { precision, tensorCores, skinny };
  }
  return { precision: null, tensorCores: /tensorop|wgmma|hmma|mma/i.test(name), skinny };
}

/** Kineto `Input type` of an op's first matrix operand → the precision it implies (float: fp32 or TF32, undecided). */
export function precisionOfInputType(t: string | undefined): GemmPrecision | null {
  if (!t) return null;
  if (/BFloat16/i.test(t)) return "bf16";
  if (/Half/i.test(t)) return "fp16";
  if (/Float8/i.test(t)) return "fp8";
  if (/^double$/i.test(t)) return "fp64";
  if (/^(signed )?char$|int8/i.test(t)) return "int8";
  return null;
}

function dims(v: unknown): number[][] | null {
  if (!Array.isArray(v)) return null;
  const out: number[][] = [];
  for (const d of v) {
    if (!Array.isArray(d) || !d.every((x) => typeof x === "number" && Number.isFinite(x) && x >= 0)) out.push([]);
    else out.push(d as number[]);
  }
  return out;
}

const prod = (a: number[]): number => a.reduce((x, y) => x * y, 1);

/**
 * Floating-point operations of a torch GEMM op from its `Input Dims` (2 per multiply–add), or
 * null when the op or its shapes are not understood. Bias additions are not counted.
 */
export function gemmFlops(op: string, inputDims: unknown): number | null {
  const d = dims(inputDims);
  if (!d) return null;
  const mk = (a: number[] | undefined, b: number[] | undefined): number | null => {
    // a: [..., M, K], b: [..., K, N] (batch dims broadcast)
    if (!a || !b || a.length < 2 || b.length < 2) return null;
    const K = a[a.length - 1]!;
    if (b[b.length - 2] !== K) return null;
    const M = a[a.length - 2]!;
    const N = b[b.length - 1]!;
    const batch = Math.max(prod(a.slice(0, -2)), prod(b.slice(0, -2)));
    return 2 * batch * M * K * N;
  };
  switch (op) {
    case "aten::mm":
    case "aten::bmm":
    case "aten::matmul":
    case "aten::_scaled_mm":
    case "aten::_int_mm":
      return mk(d[0], d[1]);
    case "aten::addmm":
    case "aten::baddbmm":
      return mk(d[1], d[2]);
    case "aten::linear": {
      // input [..., K], weight [N, K]
      const x = d[0];
      const w = d[1];
      if (!x || !w || x.length < 1 || w.length !== 2 || w[1] !== x[x.length - 1]) return null;
      return 2 * prod(x.slice(0, -1)) * w[1]! * w[0]!;
    }
    case "aten::mv":
    case "aten::addmv": {
      const m = op === "aten::mv" ? d[0] : d[1];
      if (!m || m.length !== 2) return null;
      return 2 * m[0]! * m[1]!;
    }
    default:
      return null;
  }
}

export interface GemmPrecisionStat {
  precision: GemmPrecision | "unknown";
  tensorCores: boolean;
  count: number;
  ns: number;
  /** Kernels whose op's shapes are known, their time and work. */
  measuredNs: number;
  flops: number;
  /** null without shapes; else flops / measured time. */
  achievedTflops: number | null;
  peakTflops: number | null;
}

export interface GemmMetrics {
  /** By precision (and math path), by time. */
  byPrecision: GemmPrecisionStat[];
  /** Why achieved TFLOP/s is not measured, or null when it is (for some GEMMs at least). */
  notMeasured: string | null;
}

/**
 * GEMM kernels by precision, with achieved TFLOP/s where the dispatching op's shapes are known.
 * An op's work is counted once, against the time of all its GEMM kernels (a split-K GEMM is two
 * kernels, the product and its reduction).
 */
export function gemmMetrics(ops: GpuOp[], kinds: (GemmKind | null)[], dispatch: Map<number, CpuSpan>, device: DeviceFacts | null): GemmMetrics | null {
  // per dispatching op: its GEMM kernels' time and the precision of its main (longest) kernel
  const perOp = new Map<number, { ns: number; mainNs: number; kind: GemmKind; span: CpuSpan }>();
  const stats = new Map<string, GemmPrecisionStat>();
  const byKind = new Map<GemmKind, GemmPrecisionStat>();
  let any = false;
  const statFor = (precision: GemmPrecision | "unknown", tensorCores: boolean): GemmPrecisionStat => {
    const key = `${precision}/${tensorCores}`;
    let s = stats.get(key);
    if (!s) {
      const peak = precision === "unknown" || precision === "fp64" ? undefined : device?.peaks?.tflops[precision];
      s = { precision, tensorCores, count: 0, ns: 0, measuredNs: 0, flops: 0, achievedTflops: null, peakTflops: peak ?? null };
      stats.set(key, s);
    }
    return s;
  };
  for (let i = 0; i < ops.length; i++) {
    const kind = kinds[i];
    if (!kind) continue;
    any = true;
    const op = ops[i]!;
    const d = op.end - op.start;
    const span = op.externalId !== undefined ? dispatch.get(op.externalId) : undefined;
    if (span && op.externalId !== undefined) {
      let e = perOp.get(op.externalId);
      if (!e) perOp.set(op.externalId, (e = { ns: 0, mainNs: -1, kind, span }));
      e.ns += d;
      if (d > e.mainNs && kind.precision !== null) [e.mainNs, e.kind] = [d, kind];
    }
    let s: GemmPrecisionStat;
    if (kind.precision === null && span) s = statFor(precisionOfInputType(inputType(span)) ?? "unknown", kind.tensorCores);
    else {
      // kinds are shared per kernel name: one lookup per name, not a key per op
      let k = byKind.get(kind);
      if (!k) byKind.set(kind, (k = statFor(kind.precision ?? "unknown", kind.tensorCores)));
      s = k;
    }
    s.count++;
    s.ns += d;
  }
  if (!any) return null;
  let shapes = false;
  for (const e of perOp.values()) {
    const flops = gemmFlops(e.span.name, e.span.args?.[ARG.inputDims]);
    if (flops === null) continue;
    shapes = true;
    const precision = e.kind.precision ?? precisionOfInputType(inputType(e.span)) ?? "unknown";
    const s = statFor(precision, e.kind.tensorCores);
    s.measuredNs += e.ns;
    s.flops += flops;
  }
  for (const s of stats.values()) if (s.measuredNs > 0) s.achievedTflops = s.flops / s.measuredNs / 1e3;
  const byPrecision = [...stats.values()].filter((s) => s.count > 0 || s.measuredNs > 0).sort((a, b) => b.ns - a.ns);
  return {
    byPrecision,
    notMeasured: shapes ? null : "the trace has no tensor shapes for its GEMMs (record with torch.profiler(record_shapes=True))",
  };
}

function inputType(span: CpuSpan): string | undefined {
  const t = span.args?.[ARG.inputType];
  if (!Array.isArray(t)) return undefined;
  // the first matrix operand: addmm/baddbmm list the bias first
  const first = span.name === "aten::addmm" || span.name === "aten::baddbmm" || span.name === "aten::addmv" ? t[1] : t[0];
  return typeof first === "string" ? first : undefined;
}
