// Which CUDA calls the shim asks CUPTI to record, and how launches arrive: through the SIMULATED
// driver and CUPTI (README.md), which deliver only what the shim enabled.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { cudaInclude } from "../../tools/shim.ts";
import { cudaCallKind } from "../../src/trace/cuda-calls.ts";
import { cbidNames } from "./build.ts";
import { SCENARIO, SIM_MISSING, simRun } from "./helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

/** The cbids the simulated CUPTI logged as enabled, per domain. */
function enabled(log: string, domain: "runtime" | "driver"): number[] {
  const line = log.split("\n").find((l) => l.includes(`enabled ${domain} cbids:`)) ?? "";
  return line.split(":").pop()!.trim().split(/\s+/).filter(Boolean).map(Number);
}

describe.skipIf(SIM_MISSING !== null)("CUDA calls through the simulated driver", () => {
  test("nvcc-13 launches (__cudaLaunchKernel, _ptsz) are recorded as cudaLaunchKernel with their Python caller; a nested launch counts once", () => {
    const r = simRun(SCENARIO, ["nvcc13_launches"]);
    expect(r.code).toBe(0);
    const byName = Object.fromEntries(r.kernels.map((k) => [k.name, k.args!]));
    expect(Object.keys(byName).sort()).toEqual(["sm90_xmma_gemm_f16f16_f16f32", "void at::native::elementwise<1>()", "void at::native::elementwise<2>()", "void at::native::elementwise<3>()"]);
    expect(byName["void at::native::elementwise<1>()"]).toMatchObject({ "launch api": "cudaLaunchKernel", "python function": "nvcc13_launches.<locals>.torch_own_kernel" });
    expect(byName["void at::native::elementwise<2>()"]).toMatchObject({ "launch api": "cudaLaunchKernel", "python function": "nvcc13_launches.<locals>.per_thread_stream" });
    expect(byName["void at::native::elementwise<3>()"]).toMatchObject({ "launch api": "cudaLaunchKernel", "python function": "nvcc13_launches.<locals>.nested_launch" });
    expect(byName["sm90_xmma_gemm_f16f16_f16f32"]).toMatchObject({ "launch api": "cuLaunchKernel", "python function": "nvcc13_launches.<locals>.cublas_gemm" });
    // four launches, four launch calls: the nested cudaLaunchKernel is not a second one
    expect(r.report!.gpu.kernels.launch_calls).toBe(4);
    const launchCalls = r.trace!.traceEvents.filter((e) => (e.cat === "cuda_runtime" || e.cat === "cuda_driver") && /Launch/.test(e.name));
    expect(launchCalls.map((e) => e.name).sort()).toEqual(["cuLaunchKernel", "cudaLaunchKernel", "cudaLaunchKernel", "cudaLaunchKernel"]);
  });

  test("the shim enables exactly the calls the one classification table does not call 'other', and a newer libcupti's new cbids by the same rule", () => {
    // cbids past the CUDA 13.0 headers, as a newer libcupti would name them
    const extra = "runtime:600=cudaGetDeviceProperties_v14000,runtime:601=__cudaLaunchKernelEx_v14000,driver:900=cuLaunchKernelEx_v2,driver:901=cuDeviceGetName_v2";
    const r = simRun(SCENARIO, ["nvcc13_launches"], { env: { GPUSIM_EXTRA_CBIDS: extra } });
    expect(r.code).toBe(0);
    const inc = cudaInclude()!;
    for (const [domain, header, prefix, more] of [
      ["runtime", "cupti_runtime_cbid.h", "CUPTI_RUNTIME_TRACE_CBID_", [601]],
      ["driver", "cupti_driver_cbid.h", "CUPTI_DRIVER_TRACE_CBID_", [900]],
    ] as const) {
      const names = cbidNames(inc, header, prefix);
      const want = [...names].filter(([id, n]) => id > 0 && cudaCallKind(n) !== "other").map(([id]) => id);
      expect(enabled(r.simLog, domain)).toEqual([...want, ...more]);
    }
    // what that means for a few calls users meet
    const runtime = enabled(r.simLog, "runtime");
    for (const on of [211, 214, 505, 506, 430, 311, 41, 51, 131, 165, 20, 22]) expect(runtime).toContain(on);
    for (const off of [147 /* cudaStreamWaitEvent */, 317 /* cudaStreamIsCapturing */, 200 /* cudaDeviceGetAttribute */, 600]) expect(runtime).not.toContain(off);
  });
});
