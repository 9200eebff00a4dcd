// The parent's GPU decisions with the real shim on this machine (CI has no NVIDIA driver).
import { expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KEYS, type Config } from "../../src/config/keys.ts";
import { collectGpu, otherCuptiClientWarning, planGpu } from "../../src/collect/gpu.ts";
import { Native } from "../../src/collect/native.ts";
import { ROOT, tempDir } from "../helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

const defaults = Object.fromEntries(Object.entries(KEYS).map(([k, d]) => [k, d.default])) as unknown as Config;
const native = new Native(join(ROOT, "build/libinferscope.so"));
const hasDriver = native.gpuCount().count >= 0;

test.skipIf(hasDriver)("no NVIDIA driver: GPU collection off with one warning, nothing injected", () => {
  const dir = tempDir();
  const plan = planGpu(native, defaults, "/x/libinferscope.so", dir, {});
  expect(plan.off).toEqual({ status: "no-driver", warning: "GPU collection off: no NVIDIA driver: libcuda.so.1 not found; the report is CPU-only" });
  expect(plan.env).toEqual({});
  expect(collectGpu(plan, 1)).toEqual({ status: "no-driver", records: null, warning: plan.off?.warning });
});

test("--device N reaches the script as CUDA_VISIBLE_DEVICES", () => {
  const plan = planGpu(native, { ...defaults, device: 1 }, "/x/libinferscope.so", tempDir(), {});
  expect(plan.env.CUDA_VISIBLE_DEVICES).toBe("1");
});

test("the shim's status file decides: libcupti missing → CPU-only with the shim's reason", () => {
  const dir = tempDir();
  mkdirSync(dir, { recursive: true });
  const plan = { env: {}, devices: [], recordsBase: join(dir, "gpu") };
  expect(collectGpu(plan, 1)).toEqual({ status: "not-used", records: null });
  writeFileSync(join(dir, "gpu-1.bin.status"), "no-cupti: libcupti not found (set cuptiPath / INFERSCOPE_CUPTI_PATH)");
  expect(collectGpu(plan, 1)).toEqual({
    status: "no-cupti",
    records: null,
    warning: "GPU collection off: no-cupti: libcupti not found (set cuptiPath / INFERSCOPE_CUPTI_PATH); the report is CPU-only",
  });
});

test("the real shim with a libcupti path that does not exist says no-cupti", () => {
  const dir = tempDir();
  const out = join(dir, "gpu");
  const py = `import ctypes; lib = ctypes.CDLL(${JSON.stringify(join(ROOT, "build/libinferscope.so"))}); lib.InitializeInjection()`;
  const r = Bun.spawnSync(["python3", "-c", py], { env: { ...process.env, _INFERSCOPE_GPU_OUT: out, _INFERSCOPE_CUPTI_PATH: "/nonexistent/libcupti.so" } });
  expect(r.exitCode).toBe(0);
  const got = collectGpu({ env: {}, devices: [], recordsBase: out }, 1);
  expect(got.status).toBe("no-cupti");
  expect(got.warning).toBe(
    "GPU collection off: no-cupti: cannot load /nonexistent/libcupti.so: /nonexistent/libcupti.so: cannot open shared object file: No such file or directory (set cuptiPath / INFERSCOPE_CUPTI_PATH to a libcupti.so); the report is CPU-only",
  );
});

test("a script that starts torch.profiler itself is named in one warning", () => {
  const span = (name: string, file: string) => ({ cat: "python" as const, name, file, start: 0, end: 1, pid: 1, tid: 1 });
  expect(otherCuptiClientWarning([span("step", "/app/infer.py")])).toBeNull();
  expect(otherCuptiClientWarning([span("step", "/app/infer.py"), span("_KinetoProfile.start", "/venv/lib/python3.12/site-packages/torch/profiler/profiler.py")])).toBe(
    "the script starts torch.profiler itself (_KinetoProfile.start in /venv/lib/python3.12/site-packages/torch/profiler/profiler.py): CUPTI serves one client per process, so GPU records from then on may be missing here or in torch.profiler's trace; profile without it",
  );
  expect(otherCuptiClientWarning([span("profile.__enter__", "/usr/lib/python3/dist-packages/torch/autograd/profiler.py")])).not.toBeNull();
});
