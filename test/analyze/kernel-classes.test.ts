// Kernel classes: every pattern of the table on real kernel names. Names marked with a fixture
// occur in that recorded trace (the test checks it); the others are real names of kinds the
// fixtures do not contain (NCCL, Triton, FlashAttention, unfused softmax, cuDNN implicit-GEMM
// convolutions), as they appear in public torch.profiler / nsys output on GitHub.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import {
  CLASS_PATTERNS,
  type KernelClass,
  classStats,
  classifyOps,
  dispatchingOps,
  kernelClassOf,
  matchingPattern,
} from "../../src/analyze/kernel-classes.ts";
import { readTrace } from "../../src/trace/read.ts";
import type { CpuSpan, GpuOp } from "../../src/trace/model.ts";
import { join } from "node:path";
import { FIXTURES, loadRaw, ns } from "./raw.ts";

setDefaultTimeout(60_000);

const FIXTURE_NAMES = ["cudagraph", "llama_tiny_generate", "pinned_nonblocking", "sync_stall", "vit_fp16"] as const;

/** Kernel names of each fixture, from the raw JSON. */
const names = new Map<string, Set<string>>();
for (const f of FIXTURE_NAMES) {
  names.set(f, new Set(loadRaw(f).events.filter((e) => e.ph === "X" && e.cat === "kernel").map((e) => e.name as string)));
}
const inFixture = (fixture: string, prefix: string): string => {
  const hit = [...names.get(fixture)!].find((n) => n.startsWith(prefix));
  if (!hit) throw new Error(`no kernel starting with ${prefix} in ${fixture}`);
  return hit;
};

/** Per pattern (by its class and position in the table): real names it must decide. */
const CASES: { cls: KernelClass; index: number; names: string[] }[] = [
  {
    cls: "communication",
    index: 0,
    names: ["ncclDevKernel_AllReduce_Sum_bf16_RING_LL(ncclDevKernelArgsStorage<4096ul>)", "ncclDevKernel_SendRecv"],
  },
  { cls: "triton", index: 1, names: ["triton_poi_fused_add_0", "triton_red_fused__to_copy_add_mean_mul_pow_rsqrt_0", "triton_per_fused_0"] },
  {
    cls: "attention",
    index: 2,
    names: [
      inFixture("llama_tiny_generate", "fmha_cutlassF_f32_aligned_64x64_rf_sm80"),
      inFixture("vit_fp16", "cudnn_generated_fort_native_sdpa_sm90_flash_fprop_wgmma_f16"),
      "void pytorch_flash::flash_fwd_kernel<Flash_fwd_kernel_traits<128, 128, 64, 4, false, false, cutlass::bfloat16_t, Flash_kernel_traits<128, 128, 64, 4, cutlass::bfloat16_t> >, false, true, false, false, true, true, false>(Flash_fwd_params)",
    ],
  },
  {
    cls: "conv",
    index: 3,
    names: [
      inFixture("vit_fp16", "void cutlass__5x_cudnn::Kernel<cutlass_tensorop_f16_s16816fprop_optimized_f16"),
      "void implicit_convolve_sgemm<float, float, 128, 5, 5, 3, 3, 3, 1, false, false, true>(int, int, int, float const*, int, float*, float const*, kernel_conv_params, unsigned long long, int, float, float, int, float const*, float const*, bool, int, int)",
      "sm80_xmma_fprop_implicit_gemm_indexed_f16f16_f16f32_f32_nhwckrsc_nhwc_tilesize128x128x64_stage4_warpsize2x2x1_g1_tensor16x8x16_execute_kernel__5x_cudnn",
    ],
  },
  {
    cls: "normalization",
    index: 4,
    names: [inFixture("vit_fp16", "void at::native::(anonymous namespace)::vectorized_layer_norm_kernel<c10::Half, float, false>")],
  },
  {
    cls: "gemm",
    index: 5,
    names: [
      inFixture("sync_stall", "void cutlass::Kernel2<cutlass_80_simt_sgemm_256x128_8x4_nn_align1>"),
      inFixture("llama_tiny_generate", "sm80_xmma_gemm_f32f32_f32f32_f32_tn_n_tilesize32x32x8"),
      inFixture("llama_tiny_generate", "void cublasLt::splitKreduce_kernel<"),
      inFixture("llama_tiny_generate", "void gemmk1_kernel<int, float"),
      inFixture("cudagraph", "void gemmSN_TN_kernel<float"),
      inFixture("vit_fp16", "nvjet_sm90_hsh_128x144_64x6_2x1_v_bz_coopA_bias_TNT"),
      "ampere_sgemm_128x64_tn",
    ],
  },
  {
    cls: "reduction",
    index: 6,
    names: [
      inFixture("sync_stall", "void at::native::reduce_kernel<512, 1, at::native::ReduceOp<float, at::native::MeanOps"),
      inFixture("llama_tiny_generate", "void at::native::tensor_kernel_scan_innermost_dim<long"),
      "void (anonymous namespace)::softmax_warp_forward<float, float, float, 7, false, false>(float*, float const*, int, int, int, bool const*, int, bool)",
    ],
  },
  {
    cls: "copy",
    index: 7,
    names: [
      inFixture("llama_tiny_generate", "void at::native::unrolled_elementwise_kernel<at::native::direct_copy_kernel_cuda"),
      inFixture("llama_tiny_generate", "void at::native::(anonymous namespace)::CatArrayBatchedCopy<"),
      inFixture("llama_tiny_generate", "void at::native::vectorized_gather_kernel<16, long>"),
      inFixture("llama_tiny_generate", "void at::native::(anonymous namespace)::indexSelectSmallIndex<float"),
      inFixture("vit_fp16", "void cudnn::engines_precompiled::nchwToNhwcKernel<__half"),
    ],
  },
  {
    cls: "elementwise",
    index: 8,
    names: [
      inFixture("sync_stall", "void at::native::vectorized_elementwise_kernel<4, at::native::tanh_kernel_cuda"),
      inFixture("vit_fp16", "void at::native::vectorized_elementwise_kernel<8, at::native::GeluCUDAKernelImpl"),
      inFixture("llama_tiny_generate", "void at::native::elementwise_kernel<128, 2, at::native::gpu_kernel_impl_nocast<at::native::BinaryFunctor<float, float, float, at::native::binary_internal::MulFunctor<float> >"),
      inFixture("llama_tiny_generate", "void at::native::vectorized_elementwise_kernel<4, at::native::FillFunctor<bool>"),
    ],
  },
];

describe("kernel classes: one test per pattern, on real kernel names", () => {
  test("the table has a case for every pattern, in order", () => {
    expect(CASES.map((c) => [c.index, c.cls])).toEqual(CLASS_PATTERNS.map((p, i) => [i, p.cls]));
  });
  for (const c of CASES) {
    test(`pattern ${c.index} (${c.cls}) decides ${c.names.length} names`, () => {
      for (const n of c.names) {
        expect([n, matchingPattern(n)]).toEqual([n, c.index]);
        expect(kernelClassOf(n)).toBe(c.cls);
      }
    });
  }
});

describe("kernel classes on the fixtures", () => {
  test("no fixture kernel is left as 'other'", () => {
    for (const [f, set] of names) for (const n of set) expect([f, n, kernelClassOf(n)]).not.toEqual([f, n, "other"]);
  });

  test("sync_stall: time and count per class, exactly", async () => {
    const t = await readTrace(join(FIXTURES, "sync_stall.kineto.json.gz"), { progress: false });
    const stats = classStats(t.gpu, classifyOps(t.gpu, dispatchingOps(t.spans)));
    const by = Object.fromEntries(stats.map((s) => [s.cls, { count: s.count, us: s.ns / 1e3 }]));
    // from the raw trace: 80 SGEMMs; 80 mul + 80 tanh; 80 means; 80 D2H copies; 80 memsets
    const sgemmNs = loadRaw("sync_stall")
      .events.filter((e) => e.cat === "kernel" && /simt_sgemm/.test(e.name))
      .reduce((a, e) => a + ns(e.dur), 0);
    expect(by.gemm).toEqual({ count: 80, us: sgemmNs / 1e3 });
    expect(by.elementwise!.count).toBe(160);
    expect(by.reduction!.count).toBe(80);
    expect(by.memcpy!.count).toBe(80);
    expect(by.memset!.count).toBe(80);
    expect(stats[0]!.cls).toBe("gemm");
    expect(stats[0]!.topName).toStartWith("void cutlass::Kernel2<cutlass_80_simt_sgemm_256x128_8x4_nn_align1>");
  });
});

describe("a kernel whose name says nothing is classed by the op that dispatched it", () => {
  const op = (name: string, externalId?: number): GpuOp => ({ kind: "kernel", name, start: 0, end: 1000, device: 0, stream: 7, ...(externalId !== undefined && { externalId }) });
  const span = (name: string, externalId: number): CpuSpan => ({ cat: "cpu_op", name, start: 0, end: 10, pid: 1, tid: 1, externalId });
  test("an unknown name launched by aten::mm is a GEMM; by aten::softmax a reduction; with no op, other", () => {
    const ops = [op("my_kernel_v2", 7), op("my_kernel_v2", 8), op("my_kernel_v2"), op("my_kernel_v2", 99)];
    const d = dispatchingOps([span("aten::mm", 7), span("aten::_softmax", 8)]);
    expect(classifyOps(ops, d)).toEqual(["gemm", "reduction", "other", "other"]);
  });
  test("the name wins over the op: cuDNN's layout transform inside aten::cudnn_convolution is a copy", () => {
    const name = inFixture("vit_fp16", "void cudnn::engines_precompiled::nchwToNhwcKernel<__half");
    expect(classifyOps([op(name, 3)], dispatchingOps([span("aten::cudnn_convolution", 3)]))).toEqual(["copy"]);
  });
  test("copies and memsets are classed by what they are", () => {
    const ops: GpuOp[] = [
      { kind: "memcpy", name: "Memcpy HtoD (Pageable -> Device)", start: 0, end: 1, device: 0, stream: 7 },
      { kind: "memset", name: "Memset (Device)", start: 0, end: 1, device: 0, stream: 7 },
    ];
    expect(classifyOps(ops, new Map())).toEqual(["memcpy", "memset"]);
  });
});
