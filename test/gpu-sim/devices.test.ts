// Which physical GPU the report names: the one CUPTI's device record says the script used,
// matched by UUID with the parent's list (SIMULATED driver and CUPTI, README.md).
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { SCENARIO, SIM_MISSING, simRun, TWO_GPUS } from "./helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

describe.skipIf(SIM_MISSING !== null)("the GPU the script used", () => {
  test("--device 0 on a machine whose CUDA order is not nvidia-smi's: the report names nvidia-smi's GPU 0", () => {
    const r = simRun(SCENARIO, ["many_names", "3"], { flags: ["--formats", "json", "--device", "0"], env: { GPUSIM_GPUS: TWO_GPUS } });
    expect(r.code).toBe(0);
    expect(r.report!.gpu.devices).toEqual([{ index: 0, name: "NVIDIA A100-SXM4-40GB" }]);
    expect(r.trace!.inferscope.devices).toEqual([
      { index: 0, name: "NVIDIA A100-SXM4-40GB", memoryBytes: 42949672960, smCount: 108, computeMajor: 8, computeMinor: 0, pciBusId: "0000:18:00.0", uuid: "GPU-bbbbbbbb-0000-4000-8000-000000000002" },
    ]);
    expect(r.warnings.filter((w) => /ran on/.test(w))).toEqual([]);
  });

  test("a script that picks another GPU itself: the report names the GPU CUPTI saw, and says so", () => {
    const r = simRun(SCENARIO, ["switch_gpu", "1"], { flags: ["--formats", "json", "--device", "0"], env: { GPUSIM_GPUS: TWO_GPUS } });
    expect(r.code).toBe(0);
    expect(r.report!.gpu.devices).toEqual([{ index: 0, name: "NVIDIA H100 80GB HBM3" }]);
    expect(r.warnings).toContain(
      "the script ran on NVIDIA H100 80GB HBM3 (GPU-aaaaaaaa-0000-4000-8000-000000000001), not on the GPU InferScope listed before it started (NVIDIA A100-SXM4-40GB (GPU-bbbbbbbb-0000-4000-8000-000000000002)): the report names the GPU CUPTI saw",
    );
  });
});
