// Device rules against a hand-made fake libcuda (see handmade_fake_libcuda.c): not a GPU proof,
// a check of what the parent decides from what the driver lists.
import { beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { ROOT, tempDir } from "../helpers.ts";

let libDir = "";
beforeAll(() => {
  libDir = tempDir();
  const r = Bun.spawnSync(["cc", "-shared", "-fPIC", "-o", join(libDir, "libcuda.so.1"), join(import.meta.dir, "handmade_fake_libcuda.c")], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(r.stderr.toString());
});

setDefaultTimeout(60_000); // per file: see test/preload.ts

const script = (device: string) => `
import { planGpu } from ${JSON.stringify(join(ROOT, "src/collect/gpu.ts"))};
import { Native } from ${JSON.stringify(join(ROOT, "src/collect/native.ts"))};
import { KEYS } from ${JSON.stringify(join(ROOT, "src/config/keys.ts"))};

const cfg = Object.fromEntries(Object.entries(KEYS).map(([k, d]) => [k, d.default]));
cfg.device = ${device};
try {
  const plan = planGpu(new Native(${JSON.stringify(join(ROOT, "build/libinferscope.so"))}), cfg, "/shim.so", "/tmp/s", process.env);
  console.log(JSON.stringify({ env: plan.env, devices: plan.devices.map((d) => d.name), off: plan.off ?? null, pid: process.pid }));
} catch (e) { console.log(JSON.stringify({ error: e.message })); }
`;

function plan(device: string, env: Record<string, string>) {
  const r = Bun.spawnSync([process.execPath, "-e", script(device)], { env: { ...process.env, LD_LIBRARY_PATH: libDir, ...env }, stdout: "pipe", stderr: "pipe" });
  return JSON.parse(r.stdout.toString() || JSON.stringify({ stderr: r.stderr.toString() }));
}

test("two visible GPUs: refused with the count and the fix", () => {
  expect(plan('"auto"', { FAKE_GPUS: "2" })).toEqual({
    error: "2 GPUs are visible and InferScope profiles one: pass --device N (0..1), which sets CUDA_VISIBLE_DEVICES for the script",
  });
});

test("--device 1 picks one GPU and injects the shim", () => {
  const p = plan("1", { FAKE_GPUS: "2" });
  expect(p.devices).toEqual(["Fake GPU 0"]);
  expect(p.off).toBeNull();
  expect(p.env).toEqual({ CUDA_VISIBLE_DEVICES: "1", CUDA_INJECTION64_PATH: "/shim.so", _INFERSCOPE_GPU_OUT: "/tmp/s/gpu.bin", _INFERSCOPE_GPU_PPID: String(p.pid) });
});

test("one GPU under nsys (CUDA_INJECTION64_PATH already set): CPU-only, said plainly", () => {
  const p = plan('"auto"', { FAKE_GPUS: "1", CUDA_INJECTION64_PATH: "/opt/nsys/libToolsInjection64.so" });
  expect(p.env).toEqual({});
  expect(p.off).toEqual({
    status: "cupti-busy",
    warning: "GPU collection off: CUDA_INJECTION64_PATH is already set (/opt/nsys/libToolsInjection64.so; nsys or another CUPTI tool?) and CUPTI serves one client per process",
  });
});
