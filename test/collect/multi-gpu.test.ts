// Device rules of the parent (planGpu), against the SIMULATED driver (test/gpu-sim/README.md): it
// lists the GPUs of $GPUSIM_GPUS in CUDA's default order and honours CUDA_VISIBLE_DEVICES and
// CUDA_DEVICE_ORDER as the driver does. Not a GPU proof: a check of what the parent decides from
// what a driver lists. (These tests used a hand-made fake libcuda before the simulation existed.)
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { deviceEnv } from "../../src/collect/gpu.ts";
import { ROOT, tempDir } from "../helpers.ts";
import { SIM, SIM_MISSING, simEnv, TWO_GPUS } from "../gpu-sim/helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

const script = (device: string, shim: string) => `
import { planGpu } from ${JSON.stringify(join(ROOT, "src/collect/gpu.ts"))};
import { Native } from ${JSON.stringify(join(ROOT, "src/collect/native.ts"))};
import { KEYS } from ${JSON.stringify(join(ROOT, "src/config/keys.ts"))};

const cfg = Object.fromEntries(Object.entries(KEYS).map(([k, d]) => [k, d.default]));
cfg.device = ${device};
try {
  const plan = planGpu(new Native(${JSON.stringify(shim)}), cfg, "/shim.so", "/tmp/s", process.env);
  console.log(JSON.stringify({ env: plan.env, devices: plan.devices.map((d) => d.name + " " + d.pciBusId), off: plan.off ?? null, pid: process.pid }));
} catch (e) { console.log(JSON.stringify({ error: e.message })); }
`;

function plan(device: string, env: Record<string, string>, shim = join(ROOT, "build/libinferscope.so")) {
  const r = Bun.spawnSync([process.execPath, "-e", script(device, shim)], { env: simEnv(env), stdout: "pipe", stderr: "pipe" });
  return JSON.parse(r.stdout.toString() || JSON.stringify({ stderr: r.stderr.toString() }));
}

describe.skipIf(SIM_MISSING !== null)("device rules against the simulated driver", () => {
  test("two visible GPUs: refused with the count and the fix", () => {
    expect(plan('"auto"', { GPUSIM_GPUS: TWO_GPUS })).toEqual({
      error: "2 GPUs are visible and InferScope profiles one: pass --device N (0..1), which sets CUDA_VISIBLE_DEVICES for the script",
    });
  });

  test("--device N is nvidia-smi's number (PCI bus order), not CUDA's fastest-first order", () => {
    const p = plan("0", { GPUSIM_GPUS: TWO_GPUS });
    expect(p.devices).toEqual(["NVIDIA A100-SXM4-40GB 0000:18:00.0"]);
    expect(p.off).toBeNull();
    expect(p.env).toEqual({ CUDA_VISIBLE_DEVICES: "0", CUDA_DEVICE_ORDER: "PCI_BUS_ID", CUDA_INJECTION64_PATH: "/shim.so", _INFERSCOPE_GPU_OUT: "/tmp/s/gpu" });
    // an order the user chose is kept
    expect(plan("0", { GPUSIM_GPUS: TWO_GPUS, CUDA_DEVICE_ORDER: "FASTEST_FIRST" }).devices).toEqual(["NVIDIA H100 80GB HBM3 0000:b1:00.0"]);
  });

  test("--device N with CUDA_VISIBLE_DEVICES already set indexes into it", () => {
    const p = plan("1", { GPUSIM_GPUS: TWO_GPUS, CUDA_VISIBLE_DEVICES: "GPU-aaaaaaaa,GPU-bbbbbbbb" });
    expect(p.env.CUDA_VISIBLE_DEVICES).toBe("GPU-bbbbbbbb");
    expect(p.devices).toEqual(["NVIDIA A100-SXM4-40GB 0000:18:00.0"]);
    expect(plan("2", { GPUSIM_GPUS: TWO_GPUS, CUDA_VISIBLE_DEVICES: "1,0" })).toEqual({
      error: "--device 2: CUDA_VISIBLE_DEVICES=1,0 lists 2 GPUs; pass --device 0..1 (an index into that list)",
    });
  });

  test("one GPU under nsys (CUDA_INJECTION64_PATH already set): CPU-only, said plainly", () => {
    const p = plan('"auto"', { CUDA_INJECTION64_PATH: "/opt/nsys/libToolsInjection64.so" });
    expect(p.env).toEqual({});
    expect(p.off).toEqual({
      status: "cupti-busy",
      warning: "GPU collection off: CUDA_INJECTION64_PATH is already set (/opt/nsys/libToolsInjection64.so; nsys or another CUPTI tool?) and CUPTI serves one client per process",
    });
  });

  test("a shim built without CUPTI has no InitializeInjection: nothing is injected, the warning says why", () => {
    const shim = join(tempDir("shim-nocupti-"), "libinferscope.so");
    const srcs = ["clock.c", "device.c", "procfs.c", "pytrace.c"].map((f) => join(ROOT, "ffi", f));
    const cc = Bun.spawnSync(["cc", "-O1", "-fPIC", "-shared", "-o", shim, ...srcs, "-ldl", "-lpthread"], { stderr: "pipe" });
    expect(cc.exitCode).toBe(0);
    const p = plan('"auto"', {}, shim);
    expect(p.env).toEqual({});
    expect(p.off).toEqual({
      status: "no-cupti",
      warning: "GPU collection off: this InferScope was built without the CUDA headers (cupti.h), so it cannot record GPU activity; rebuild it with CUDA_HOME set; the report is CPU-only",
    });
  });
});

test("deviceEnv: auto leaves the environment alone", () => {
  expect(deviceEnv("auto", { CUDA_VISIBLE_DEVICES: "3" })).toEqual({});
  expect(deviceEnv(2, {})).toEqual({ CUDA_VISIBLE_DEVICES: "2", CUDA_DEVICE_ORDER: "PCI_BUS_ID" });
  expect(deviceEnv(0, { CUDA_VISIBLE_DEVICES: " 3 , 5 " })).toEqual({ CUDA_VISIBLE_DEVICES: "3" });
  expect(deviceEnv(1, { CUDA_VISIBLE_DEVICES: "" })).toEqual({ CUDA_VISIBLE_DEVICES: "1", CUDA_DEVICE_ORDER: "PCI_BUS_ID" });
  expect(SIM === null || SIM.dir.length > 0).toBe(true);
});

describe.skipIf(SIM_MISSING !== null)("device records", () => {
  test("carry the SM count and compute capability the driver reports", () => {
    const code = `
import { scanDevices } from ${JSON.stringify(join(ROOT, "src/collect/devices.ts"))};
import { Native } from ${JSON.stringify(join(ROOT, "src/collect/native.ts"))};
console.log(JSON.stringify(scanDevices(new Native(${JSON.stringify(join(ROOT, "build/libinferscope.so"))})).devices.map((d) => [d.name, d.smCount, d.computeMajor, d.computeMinor])));
`;
    const r = Bun.spawnSync([process.execPath, "-e", code], { env: simEnv({ GPUSIM_GPUS: TWO_GPUS }), stdout: "pipe", stderr: "pipe" });
    expect(JSON.parse(r.stdout.toString() || "null")).toEqual([
      ["NVIDIA H100 80GB HBM3", 132, 9, 0],
      ["NVIDIA A100-SXM4-40GB", 108, 8, 0],
    ]);
  });
});
