// The parent's GPU decisions with the real shim on this machine (CI has no NVIDIA driver).
import { expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KEYS, type Config } from "../../src/config/keys.ts";
import { collectGpu, gpuProcessFiles, otherCuptiClientWarning, planGpu } from "../../src/collect/gpu.ts";
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
  const pid = gpuProcessFiles(out, 0)[0]!.pid; // the Python's: its own status file, gpu-<pid>.bin.status
  const got = collectGpu({ env: {}, devices: [], recordsBase: out }, pid);
  expect(got.status).toBe("no-cupti");
  expect(got.warning).toBe(
    "GPU collection off: no-cupti: cannot load /nonexistent/libcupti.so: /nonexistent/libcupti.so: cannot open shared object file: No such file or directory (set cuptiPath / INFERSCOPE_CUPTI_PATH to a libcupti.so); the report is CPU-only",
  );
});

test("the real shim: each process its own file by pid; a program exec'd in the same process takes the next name, never the first's", () => {
  const dir = tempDir();
  const out = join(dir, "gpu");
  const init = `import ctypes; ctypes.CDLL(${JSON.stringify(join(ROOT, "build/libinferscope.so"))}).InitializeInjection()`;
  // one process initialises, then execs a program that initialises again (same pid); a second process initialises
  const py = `${init}; import os, sys; print(os.getpid(), flush=True); os.execv(sys.executable, [sys.executable, "-c", ${JSON.stringify(init)}])`;
  const env = { ...process.env, _INFERSCOPE_GPU_OUT: out, _INFERSCOPE_CUPTI_PATH: "/nonexistent/libcupti.so" };
  const first = Bun.spawnSync(["python3", "-c", py], { env });
  const second = Bun.spawnSync(["python3", "-c", `${init}; import os; print(os.getpid())`], { env });
  const [a, b] = [Number(first.stdout.toString()), Number(second.stdout.toString())];
  expect(readdirSync(dir).sort()).toEqual([`gpu-${a}.1.bin.status`, `gpu-${a}.bin.status`, `gpu-${b}.bin.status`].sort());
  expect(gpuProcessFiles(out, b)).toEqual([
    { pid: b, file: `${out}-${b}.bin` },
    { pid: a, file: `${out}-${a}.bin` },
    { pid: a, file: `${out}-${a}.1.bin` },
  ]);
});

/** A records file as ffi/cupti.c writes it: the magic, a start line, `kernels` kernel records, `flushed` unless cut, then the first `tail` bytes of a record. */
function recordsFile(path: string, o: { start: number; kernels: [number, number][]; flushed: boolean; tail?: number; correlation?: number }): void {
  const recs: Uint8Array[] = [new TextEncoder().encode("ISGPU\0\0\x01")];
  const rec = (type: number, payload: Uint8Array) => {
    const h = new DataView(new ArrayBuffer(4));
    h.setUint16(0, type, true);
    h.setUint16(2, payload.length, true);
    recs.push(new Uint8Array(h.buffer), payload);
  };
  const info = (s: string) => rec(9, new TextEncoder().encode(s));
  info(`start ${o.start}`);
  for (const [start, end] of o.kernels) {
    const k = new DataView(new ArrayBuffer(80));
    k.setBigUint64(0, BigInt(start), true);
    k.setBigUint64(8, BigInt(end), true);
    k.setUint32(24, 7, true); // stream
    k.setUint32(28, o.correlation ?? 1, true); // the same in each process, as CUPTI numbers them
    rec(1, new Uint8Array(k.buffer));
  }
  if (o.flushed) info("flushed");
  if (o.tail) recs.push(new Uint8Array([1, 0, 80, 0]), new Uint8Array(o.tail - 4)); // a kernel record's head, its payload cut
  writeFileSync(path, Buffer.concat(recs));
}

test("every process's records file is read: pids on the ops, correlation ids made unique in the run, a child's loss said for that child only", () => {
  const dir = tempDir();
  mkdirSync(dir, { recursive: true });
  const base = join(dir, "gpu");
  for (const pid of [10, 20, 30]) writeFileSync(`${base}-${pid}.bin.status`, "cupti: /x/libcupti.so\n");
  recordsFile(`${base}-10.bin`, { start: 1e9, kernels: [[1.1e9, 1.2e9]], flushed: true });
  recordsFile(`${base}-20.bin`, { start: 2e9, kernels: [[2.1e9, 2.2e9], [2.5e9, 3.5e9]], flushed: false, tail: 24 });
  recordsFile(`${base}-30.bin`, { start: 3e9, kernels: [[3.1e9, 3.2e9]], flushed: true });
  recordsFile(`${base}-40.bin`, { start: 4e9, kernels: [[4.1e9, 4.2e9]], flushed: true, correlation: 0 }); // no correlation: stays 0
  writeFileSync(`${base}-40.bin.status`, "cupti: /x/libcupti.so\n");
  const got = collectGpu({ env: {}, devices: [], recordsBase: base }, 10, 9e9, (pid) => (pid === 20 ? { label: "Process-1", lastSeenNs: 5.5e9 } : {}));
  expect(got.status).toBe("cupti");
  expect(got.records!.gpu.map((op) => [op.pid, op.correlation, op.start])).toEqual([
    [10, 1, 1.1e9],
    [20, 2, 2.1e9],
    [20, 2, 2.5e9],
    [30, 3, 3.1e9],
    [40, 0, 4.1e9],
  ]);
  expect(got.processes).toEqual([
    { pid: 10, status: "cupti", correlationBase: 0 },
    { pid: 20, status: "cupti", correlationBase: 1 },
    { pid: 30, status: "cupti", correlationBase: 2 },
    { pid: 40, status: "cupti", correlationBase: 3 },
  ]);
  expect(got.warning).toBe(
    "process 20 (Process-1) was killed (or crashed) before InferScope's final CUPTI flush: its GPU records cover the first 1.50 s after it started CUDA; its GPU work after that, at least the last 2.00 s before it ended, is missing; other processes' records are whole; " +
      "the CUPTI records file of process 20 (Process-1) ends inside a record (24 bytes cut off: the process was killed while InferScope wrote it); the GPU activity in them is lost",
  );
});

test("one process's collection fails, another's works: the GPU data is kept, the failure named for its process", () => {
  const dir = tempDir();
  mkdirSync(dir, { recursive: true });
  const base = join(dir, "gpu");
  writeFileSync(`${base}-10.bin.status`, "cupti: /x/libcupti.so\n");
  recordsFile(`${base}-10.bin`, { start: 1e9, kernels: [[1.1e9, 1.2e9]], flushed: true });
  writeFileSync(`${base}-11.bin.status`, "cupti-busy: cuptiActivityRegisterCallbacks: CUPTI_ERROR_MULTIPLE_SUBSCRIBERS_NOT_SUPPORTED (another CUPTI client such as torch.profiler or nsys?)\n");
  const got = collectGpu({ env: {}, devices: [], recordsBase: base }, 10, undefined, () => ({ label: "python tool.py" }));
  expect(got.status).toBe("cupti");
  expect(got.records!.gpu.length).toBe(1);
  expect(got.warning).toBe(
    "GPU collection off in process 11 (python tool.py): cupti-busy: cuptiActivityRegisterCallbacks: CUPTI_ERROR_MULTIPLE_SUBSCRIBERS_NOT_SUPPORTED (another CUPTI client such as torch.profiler or nsys?); its GPU work is not in the report",
  );
  // the script's own collection failed, its child's worked: the child's GPU data stays
  const scriptFailed = collectGpu({ env: {}, devices: [], recordsBase: base }, 11);
  expect([scriptFailed.status, scriptFailed.records!.gpu.map((op) => op.pid)]).toEqual(["cupti", [10]]);
  expect(scriptFailed.warning).toBe(
    "GPU collection off: cupti-busy: cuptiActivityRegisterCallbacks: CUPTI_ERROR_MULTIPLE_SUBSCRIBERS_NOT_SUPPORTED (another CUPTI client such as torch.profiler or nsys?); the script's GPU work is not in the report",
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
