// The GPU-bound rules on traces built in code with real kernel names: each fires at its threshold
// and not just below it, stays silent on data the trace lacks, and prices its finding by its
// formula (hand-computed answers). Kernels run back to back, launched well ahead: the GPU sets
// the pace, so the whole kernel time counts.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { analyze } from "../../src/analyze/index.ts";
import type { Finding } from "../../src/analyze/report-types.ts";
import type { DeviceInfo } from "../../src/trace/model.ts";
import { Builder, MS, US } from "./trace-builder.ts";

setDefaultTimeout(60_000);

const H100: DeviceInfo = { index: 0, name: "NVIDIA H100 80GB HBM3", smCount: 132, computeMajor: 9, computeMinor: 0 };
const A100: DeviceInfo = { index: 0, name: "NVIDIA A100-SXM4-80GB", smCount: 108, computeMajor: 8, computeMinor: 0 };
const T4: DeviceInfo = { index: 0, name: "Tesla T4", smCount: 40, computeMajor: 7, computeMinor: 5 };

// real kernel names: test/fixtures/kineto (H100 recordings) and public cuBLAS / PyTorch names
const SGEMM = "void cutlass::Kernel2<cutlass_80_simt_sgemm_256x128_8x4_nn_align1>(cutlass_80_simt_sgemm_256x128_8x4_nn_align1::Params)";
const GEMV = "void gemmSN_TN_kernel<float, 128, 16, 2, 4, 8, 9, false, cublasGemvTensorStridedBatched<float const>, cublasGemvTensorStridedBatched<float const>, cublasGemvTensorStridedBatched<float> >(cublasGemmSmallNParams<cublasGemvTensorStridedBatched<float const>, cublasGemvTensorStridedBatched<float const>, cublasGemvTensorStridedBatched<float>, float>)";
const BF16 = "nvjet_tst_256x128_64x4_1x2_h_bz_coopA_TNT";
const MUL = "void at::native::vectorized_elementwise_kernel<4, at::native::BinaryFunctor<float, float, float, at::native::binary_internal::MulFunctor<float> >, std::array<char*, 3ul> >(int, at::native::BinaryFunctor<float, float, float, at::native::binary_internal::MulFunctor<float> >, std::array<char*, 3ul>)";
const ADD = "void at::native::vectorized_elementwise_kernel<4, at::native::CUDAFunctor_add<float>, std::array<char*, 3ul> >(int, at::native::CUDAFunctor_add<float>, std::array<char*, 3ul>)";
const MEAN = "void at::native::reduce_kernel<512, 1, at::native::ReduceOp<float, at::native::MeanOps<float, float, float, float>, unsigned int, float, 4, 4> >(at::native::ReduceOp<float, at::native::MeanOps<float, float, float, float>, unsigned int, float, 4, 4>)";
const SCALE = "void at::native::vectorized_elementwise_kernel<4, at::native::AUnaryFunctor<float, float, float, at::native::binary_internal::MulFunctor<float> >, std::array<char*, 2ul> >(int, at::native::AUnaryFunctor<float, float, float, at::native::binary_internal::MulFunctor<float> >, std::array<char*, 2ul>)";
const FMHA = "fmha_cutlassF_f32_aligned_64x64_rf_sm80(PyTorchMemEffAttention::AttentionKernel<float, cutlass::arch::Sm80, true, 64, 64, 64, true, true>::Params)";
const SOFTMAX = "void (anonymous namespace)::softmax_warp_forward<float, float, float, 10, false, false>(float*, float const*, int, int, int, bool const*, int, bool)";

interface K {
  name: string;
  us: number;
  grid?: [number, number, number];
}

/** The kernels back to back (1 µs apart), all launched in the first microseconds, on `device`. */
function gpuBound(device: DeviceInfo | null, kernels: K[]) {
  const b = new Builder();
  if (device) b.t.meta.devices.push(device);
  let t = 10 * US;
  kernels.forEach((k, i) => {
    b.op("kernel", k.name, i * 100, t, t + k.us * US, { grid: k.grid ?? [1024, 1, 1], block: [128, 1, 1] });
    t += k.us * US + US;
  });
  return analyze(b.t, { path: "x" });
}
const find = (r: ReturnType<typeof analyze>, rule: string): Finding | undefined => r.findings.find((f) => f.rule === rule);

describe("fp32_gemm: SIMT SGEMMs ≥ 20 % of busy time on sm80+", () => {
  test("at 20 % it fires; the saving is their time × (1 − 67 / 494.5) on an H100 SXM", () => {
    const r = gpuBound(H100, [{ name: SGEMM, us: 200 }, { name: MUL, us: 800 }]);
    const f = find(r, "fp32_gemm")!;
    expect(f).toBeDefined();
    const saved = 200 * (1 - 67 / 494.5); // 172.902 µs of a 1001 µs window
    expect(f.estimated_saving).toMatchObject({ ms: Math.floor(saved) / 1e3, pct_of_window: Math.floor((saved / 1001) * 1000) / 10, per: "window" });
    expect(f.suggestions.length).toBeGreaterThanOrEqual(2);
    expect(f.suggestions[0]).toContain('torch.set_float32_matmul_precision("high")');
    expect(f.suggestions[0]).toContain("`cutlass_80_simt_sgemm_256x128_8x4_nn_align1`");
    expect(f.suggestions[1]).toContain("torch.autocast");
  });
  test("at 19.9 % it does not", () => {
    expect(find(gpuBound(H100, [{ name: SGEMM, us: 199 }, { name: MUL, us: 801 }]), "fp32_gemm")).toBeUndefined();
  });
  test("not on a GPU without TF32 (T4, sm75), nor on a device the trace does not describe", () => {
    expect(find(gpuBound(T4, [{ name: SGEMM, us: 900 }]), "fp32_gemm")).toBeUndefined();
    expect(find(gpuBound(null, [{ name: SGEMM, us: 900 }]), "fp32_gemm")).toBeUndefined();
  });
  test("skinny fp32 products (gemv, gemmSN) are memory-bound: TF32 would not help, so they do not count", () => {
    expect(find(gpuBound(H100, [{ name: GEMV, us: 900 }]), "fp32_gemm")).toBeUndefined();
  });
  test("a GPU the peak table does not know: the finding stands, the saving is not estimated", () => {
    const f = find(gpuBound({ index: 0, name: "NVIDIA B200", smCount: 148, computeMajor: 10, computeMinor: 0 }, [{ name: SGEMM, us: 900 }]), "fp32_gemm")!;
    expect(f.estimated_saving).toEqual({ ms: null, pct_of_window: null, per: "window", basis: "not estimated: no FP32 and TF32 peak figures for NVIDIA B200 in the device table" });
  });
  test("SGEMMs the CPU left waiting (a host-wait gap after them, no sync) do not set the pace: no finding", () => {
    const b = new Builder();
    b.t.meta.devices.push(H100);
    b.op("kernel", SGEMM, 0, 10 * US, 910 * US);
    b.op("kernel", MUL, 5 * MS, 5 * MS + 10 * US, 5 * MS + 110 * US); // launched after a long CPU stretch
    expect(find(analyze(b.t, { path: "x" }), "fp32_gemm")).toBeUndefined();
  });
});

describe("fp8_candidate: bf16/fp16 GEMMs ≥ 50 % of busy time on sm89+", () => {
  test("at 50 % it fires on an H100; the saving is half their time (989.5 → 1979 TFLOP/s)", () => {
    const f = find(gpuBound(H100, [{ name: BF16, us: 500 }, { name: MUL, us: 500 }]), "fp8_candidate")!;
    expect(f.estimated_saving).toMatchObject({ ms: 0.25, per: "window" });
    expect(f.suggestions.some((s) => s.includes("Transformer Engine") && s.includes("torch._scaled_mm"))).toBe(true);
  });
  test("at 49.9 % it does not; nor on an A100 (no FP8 tensor cores)", () => {
    expect(find(gpuBound(H100, [{ name: BF16, us: 499 }, { name: MUL, us: 501 }]), "fp8_candidate")).toBeUndefined();
    expect(find(gpuBound(A100, [{ name: BF16, us: 900 }]), "fp8_candidate")).toBeUndefined();
  });
  test("bf16 GEMMs never get the TF32 finding", () => {
    expect(find(gpuBound(H100, [{ name: BF16, us: 900 }]), "fp32_gemm")).toBeUndefined();
  });
});

describe("unfused_glue: glue kernels ≥ 30 % of busy time, fusable runs ≥ 5 % of the window", () => {
  test("at 30 % it fires; the saving is each run but its longest kernel", () => {
    const r = gpuBound(H100, [{ name: BF16, us: 700 }, { name: MUL, us: 100 }, { name: ADD, us: 100 }, { name: MEAN, us: 100 }]);
    const f = find(r, "unfused_glue")!;
    expect(f.evidence).toMatchObject({ chains: 1, kernels_in_chains: 3, fusable_ms: 0.2 });
    expect(f.estimated_saving).toMatchObject({ ms: 0.2, per: "window" }); // the first of the equally long kernels stays, the other two go
    expect(f.suggestions[0]).toContain("torch.compile");
  });
  test("at 29.9 % it does not", () => {
    expect(find(gpuBound(H100, [{ name: BF16, us: 701 }, { name: MUL, us: 100 }, { name: ADD, us: 100 }, { name: MEAN, us: 99 }]), "unfused_glue")).toBeUndefined();
  });
  test("glue kernels each between two GEMMs form no run: nothing to fuse, no finding", () => {
    const k: K[] = [];
    for (let i = 0; i < 5; i++) k.push({ name: BF16, us: 100 }, { name: MUL, us: 100 });
    expect(find(gpuBound(H100, k), "unfused_glue")).toBeUndefined();
  });
});

describe("unfused_attention: matmul → softmax → matmul ≥ 10 % of busy time", () => {
  const seq = (big: number): K[] => [{ name: SGEMM, us: big }, { name: SGEMM, us: 100 }, { name: SCALE, us: 50 }, { name: SOFTMAX, us: 50 }, { name: SGEMM, us: 100 }];
  test("at 10 % it fires; the saving is the kernels between the matmuls", () => {
    const r = gpuBound(T4, seq(2700)); // on a T4 the fp32 GEMM rule stays out of the way
    const f = find(r, "unfused_attention")!;
    expect(f.evidence).toMatchObject({ sequences: 1, pattern_ms: 0.3, between_matmuls_ms: 0.1 });
    expect(f.estimated_saving).toMatchObject({ ms: 0.1, per: "window" });
    expect(f.suggestions[0]).toContain("scaled_dot_product_attention");
  });
  test("at 9.997 % it does not; a matmul → mul → matmul without softmax is no attention", () => {
    expect(find(gpuBound(T4, seq(2701)), "unfused_attention")).toBeUndefined();
    expect(find(gpuBound(T4, [{ name: SGEMM, us: 100 }, { name: SCALE, us: 100 }, { name: SGEMM, us: 100 }]), "unfused_attention")).toBeUndefined();
  });
  test("not where the model already runs a fused attention kernel: that softmax between matmuls is something else (a router, a classifier head)", () => {
    expect(find(gpuBound(T4, [...seq(2000), { name: SCALE, us: 10 }]), "unfused_attention")).toBeDefined();
    expect(find(gpuBound(T4, [...seq(2000), { name: FMHA, us: 10 }]), "unfused_attention")).toBeUndefined();
  });
  test("the kernels between the matmuls are the attention's, not also the fusion's: their time is counted once", () => {
    // the same sequence with enough glue for the fusion rule too: softmax + scale are claimed by both
    const r = gpuBound(T4, [{ name: SGEMM, us: 200 }, { name: SGEMM, us: 100 }, { name: SCALE, us: 100 }, { name: SOFTMAX, us: 100 }, { name: SGEMM, us: 100 }]);
    const a = find(r, "unfused_attention")!;
    const g = find(r, "unfused_glue")!;
    expect(a.estimated_saving!.window_ms).toBe(0.2);
    expect(g.estimated_saving).toMatchObject({ window_ms: 0, standalone_ms: 0.1, overlaps: ["unfused_attention"] });
  });
});

describe("underfilled_gpu: kernels with fewer blocks than SMs, ≤ 50 % filled, ≥ 25 % of busy time", () => {
  test("at 25 % and half the SMs it fires; the saving is their time × (1 − blocks / SMs)", () => {
    const f = find(gpuBound(H100, [{ name: BF16, us: 250, grid: [66, 1, 1] }, { name: MUL, us: 750, grid: [264, 1, 1] }]), "underfilled_gpu")!;
    expect(f.evidence).toMatchObject({ sm_count: 132, mean_blocks: 66 });
    expect(f.estimated_saving).toMatchObject({ ms: 0.125, per: "window" });
    expect(f.suggestions[0]).toContain("larger batch");
  });
  test("at 24.9 %, or 67 blocks of 132, it does not; without grids or an SM count it cannot tell", () => {
    expect(find(gpuBound(H100, [{ name: BF16, us: 249, grid: [66, 1, 1] }, { name: MUL, us: 751 }]), "underfilled_gpu")).toBeUndefined();
    expect(find(gpuBound(H100, [{ name: BF16, us: 250, grid: [67, 1, 1] }, { name: MUL, us: 750 }]), "underfilled_gpu")).toBeUndefined();
    expect(find(gpuBound({ index: 0, name: "GPU" }, [{ name: BF16, us: 900, grid: [4, 1, 1] }]), "underfilled_gpu")).toBeUndefined();
  });
});
