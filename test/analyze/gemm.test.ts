// GEMMs: precision and math path from real kernel names, FLOPs from torch op shapes, achieved
// TFLOP/s against the device peak on code-built kernels with hand-computed answers.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { deviceFacts } from "../../src/analyze/device-peaks.ts";
import { gemmFlops, gemmKind, gemmKinds, gemmMetrics, precisionOfInputType } from "../../src/analyze/gemm.ts";
import { classifyOps, dispatchingOps } from "../../src/analyze/kernel-classes.ts";
import type { CpuSpan, GpuOp } from "../../src/trace/model.ts";

setDefaultTimeout(60_000);

describe("precision and math path from the kernel name", () => {
  const cases: [string, ReturnType<typeof gemmKind>][] = [
    // in the fixtures (H100)
    ["void cutlass::Kernel2<cutlass_80_simt_sgemm_256x128_8x4_nn_align1>(cutlass_80_simt_sgemm_256x128_8x4_nn_align1::Params)", { precision: "fp32", tensorCores: false, skinny: false }],
    ["sm80_xmma_gemm_f32f32_f32f32_f32_tn_n_tilesize32x32x8_stage3_warpsize1x2x1_ffma_aligna4_alignc4_execute_kernel__5x_cublas", { precision: "fp32", tensorCores: false, skinny: false }],
    ["void gemmSN_TN_kernel<float, 128, 16, 2, 4, 8, 9, false, cublasGemvTensorStridedBatched<float const>, cublasGemvTensorStridedBatched<float const>, cublasGemvTensorStridedBatched<float> >(cublasGemmSmallNParams<cublasGemvTensorStridedBatched<float const>, cublasGemvTensorStridedBatched<float const>, cublasGemvTensorStridedBatched<float>, float>)", { precision: "fp32", tensorCores: false, skinny: true }],
    ["void gemmk1_kernel<int, float, 256, 5, true, false, false, false, cublasGemvTensorStridedBatched<float const>, cublasGemvTensorStridedBatched<float const>, cublasGemvTensorStridedBatched<float>, float, 0>(cublasGemmk1Params<float, cublasGemvTensorStridedBatched<float const>, cublasGemvTensorStridedBatched<float const>, cublasGemvTensorStridedBatched<float>, biasType<cublasGemvTensorStridedBatched<float>::value_type, float>::type>)", { precision: "fp32", tensorCores: false, skinny: true }],
    ["void cublasLt::splitKreduce_kernel<32, 16, int, float, float, float, float, false, float, float, float, true, false, false, false>(cublasLt::cublasSplitKParams<float>, float const*, float const*, float*, float const*, float const*, float const*, float const*, float*, void*, long, float*, int*, float*, float*, float const*, float const*, float const*, float const*, float const*)", { precision: null, tensorCores: false, skinny: false }],
    ["nvjet_sm90_hsh_128x144_64x6_2x1_v_bz_coopA_bias_TNT", { precision: "fp16", tensorCores: true, skinny: false }],
    // public cuBLAS / CUTLASS names of the other paths
    ["ampere_sgemm_128x64_tn", { precision: "fp32", tensorCores: false, skinny: false }],
    ["void cutlass::Kernel2<cutlass_80_tensorop_s1688gemm_128x256_16x3_nn_align4>(cutlass_80_tensorop_s1688gemm_128x256_16x3_nn_align4::Params)", { precision: "tf32", tensorCores: true, skinny: false }],
    ["ampere_fp16_s16816gemm_fp16_128x128_ldg8_f2f_stages_32x5_nn", { precision: "fp16", tensorCores: true, skinny: false }],
    ["ampere_bf16_s16816gemm_bf16_128x64_ldg8_f2f_stages_64x4_tn", { precision: "bf16", tensorCores: true, skinny: false }],
    ["nvjet_tst_256x128_64x4_1x2_h_bz_coopA_NNT", { precision: "bf16", tensorCores: true, skinny: false }],
    // FP8 names as published (truncated there)
    ["sm89_xmma_gemm_e4m3bf16_", { precision: "fp8", tensorCores: true, skinny: false }],
    ["cutlass3x_sm90_tensorop_gemm_e4m3", { precision: "fp8", tensorCores: true, skinny: false }],
  ];
  for (const [name, kind] of cases) test(name.slice(0, 70), () => expect(gemmKind(name)).toEqual(kind));
  test("Kineto input types", () => {
    expect(["c10::BFloat16", "c10::Half", "float", "double", "c10::Float8_e4m3fn", undefined].map(precisionOfInputType)).toEqual(["bf16", "fp16", null, "fp64", "fp8", null]);
  });
});

describe("FLOPs from Input Dims (2 per multiply–add)", () => {
  test("mm, addmm (bias first), bmm, baddbmm, linear, matmul with broadcast, mv", () => {
    expect(gemmFlops("aten::mm", [[2048, 2048], [2048, 2048]])).toBe(2 * 2048 ** 3);
    expect(gemmFlops("aten::addmm", [[768], [3152, 768], [768, 3072], [], []])).toBe(2 * 3152 * 768 * 3072);
    expect(gemmFlops("aten::bmm", [[96, 197, 64], [96, 64, 197]])).toBe(2 * 96 * 197 * 64 * 197);
    expect(gemmFlops("aten::baddbmm", [[96, 197, 197], [96, 197, 64], [96, 64, 197], [], []])).toBe(2 * 96 * 197 * 64 * 197);
    expect(gemmFlops("aten::linear", [[16, 197, 768], [3072, 768], [3072]])).toBe(2 * 16 * 197 * 768 * 3072);
    expect(gemmFlops("aten::matmul", [[8, 12, 197, 64], [64, 197]])).toBe(2 * 96 * 197 * 64 * 197);
    expect(gemmFlops("aten::mv", [[4096, 1024], [1024]])).toBe(2 * 4096 * 1024);
  });
  test("shapes that do not multiply, unknown ops and missing shapes: null", () => {
    expect(gemmFlops("aten::mm", [[2, 3], [4, 5]])).toBeNull();
    expect(gemmFlops("aten::add", [[2, 3], [2, 3]])).toBeNull();
    expect(gemmFlops("aten::mm", undefined)).toBeNull();
    expect(gemmFlops("aten::mm", [[2, 3]])).toBeNull();
  });
});

describe("achieved TFLOP/s against the device's peak", () => {
  const H100 = deviceFacts({ index: 0, name: "NVIDIA H100 80GB HBM3", smCount: 132, computeMajor: 9, computeMinor: 0 });
  const SGEMM = "void cutlass::Kernel2<cutlass_80_simt_sgemm_256x128_8x4_nn_align1>(cutlass_80_simt_sgemm_256x128_8x4_nn_align1::Params)";
  const REDUCE = "void cublasLt::splitKreduce_kernel<32, 16, int, float, float, float, float, false, float, float, float, true, false, false, false>(cublasLt::cublasSplitKParams<float>)";
  const BF16 = "nvjet_tst_256x128_64x4_1x2_h_bz_coopA_NNT";
  const k = (name: string, start: number, durNs: number, externalId?: number): GpuOp => ({ kind: "kernel", name, start, end: start + durNs, device: 0, stream: 7, ...(externalId !== undefined && { externalId }) });
  const mm = (externalId: number, dims: number[][], types: string[]): CpuSpan => ({ cat: "cpu_op", name: "aten::mm", start: 0, end: 1, pid: 1, tid: 1, externalId, args: { "Input Dims": dims, "Input type": types } });

  test("an fp32 SGEMM and its split-K reduction count once, against the FP32 (CUDA-core) peak; a bf16 GEMM against the BF16 peak", () => {
    // op 1: 2048³ fp32 product, 300 µs SGEMM + 40 µs reduction → 17.18 GFLOP / 340 µs
    // op 2: 4096 × 4096 × 4096 bf16, 200 µs → 137.4 GFLOP / 200 µs
    const ops = [k(SGEMM, 0, 300_000, 1), k(REDUCE, 300_000, 40_000, 1), k(BF16, 400_000, 200_000, 2)];
    const spans = [mm(1, [[2048, 2048], [2048, 2048]], ["float", "float"]), mm(2, [[4096, 4096], [4096, 4096]], ["c10::BFloat16", "c10::BFloat16"])];
    const d = dispatchingOps(spans);
    const g = gemmMetrics(ops, gemmKinds(ops, classifyOps(ops, d)), d, H100)!;
    expect(g.notMeasured).toBeNull();
    const by = Object.fromEntries(g.byPrecision.map((s) => [`${s.precision}/${s.tensorCores}`, s]));
    expect(by["fp32/false"]).toMatchObject({ count: 1, ns: 300_000, measuredNs: 340_000, flops: 2 * 2048 ** 3, peakTflops: 67 });
    expect(by["fp32/false"]!.achievedTflops).toBeCloseTo((2 * 2048 ** 3) / 340e-6 / 1e12, 9); // 50.53
    expect(by["unknown/false"]).toMatchObject({ count: 1, ns: 40_000, measuredNs: 0 }); // the reduction kernel itself
    expect(by["bf16/true"]).toMatchObject({ count: 1, ns: 200_000, measuredNs: 200_000, peakTflops: 989.5 });
    expect(by["bf16/true"]!.achievedTflops).toBeCloseTo((2 * 4096 ** 3) / 200e-6 / 1e12, 9); // 687.2
  });

  test("without shapes: time by precision, achieved TFLOP/s not measured, and why", () => {
    const ops = [k(SGEMM, 0, 300_000)];
    const g = gemmMetrics(ops, gemmKinds(ops, classifyOps(ops, new Map())), new Map(), H100)!;
    expect(g.byPrecision).toEqual([{ precision: "fp32", tensorCores: false, count: 1, ns: 300_000, measuredNs: 0, flops: 0, achievedTflops: null, peakTflops: 67 }]);
    expect(g.notMeasured).toMatch(/record_shapes=True/);
  });

  test("no GEMM kernels: null", () => {
    const ops = [k("void at::native::vectorized_elementwise_kernel<4, at::native::CUDAFunctor_add<float>, std::array<char*, 3ul> >", 0, 10)];
    expect(gemmMetrics(ops, gemmKinds(ops, classifyOps(ops, new Map())), new Map(), H100)).toBeNull();
  });
});
