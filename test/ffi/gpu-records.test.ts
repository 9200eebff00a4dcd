// The C writer's layouts and magic (ffi/gpu_records.h) against the TypeScript reader, byte for byte.
import { beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { GPU_MAGIC, readGpuRecords } from "../../src/collect/gpu-records.ts";
import { tempDir } from "../helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

let exe = "";
beforeAll(() => {
  exe = join(tempDir(), "write_records");
  const cc = Bun.spawnSync([process.env.CC ?? "cc", "-O1", "-Wall", "-o", exe, join(import.meta.dir, "write_records.c")], { stderr: "pipe" });
  expect(cc.stderr.toString()).toBe("");
});

test("one magic: the C header's IS_GPU_MAGIC is the TypeScript reader's GPU_MAGIC", () => {
  const c = Bun.spawnSync([exe, "magic"]).stdout.toString().trim();
  expect(c).toBe(Buffer.from(GPU_MAGIC, "latin1").toString("hex"));
});

test("records written with the shim's structs read back exactly", () => {
  const dir = tempDir();
  expect(Bun.spawnSync([exe, join(dir, "gpu.bin")]).exitCode).toBe(0);
  const r = readGpuRecords(readFileSync(join(dir, "gpu.bin")), 99);
  expect(r.info).toEqual(["cupti test 130000", "start 700"]);
  expect(r.startNs).toBe(700);
  expect(r.lastNs).toBe(9900);
  expect(r.dropped).toBe(3);
  expect(r.incomplete).toBe(2);
  expect(r.empty).toBe(false);
  expect(r.truncatedBytes).toBe(2);
  expect(r.gpu).toEqual([
    { kind: "kernel", name: "void at::native::vectorized_elementwise_kernel<4>(int)", start: 1000, end: 3500, device: 0, stream: 7, correlation: 42, grid: [128, 2, 1], block: [256, 1, 1], registers: 32, sharedMemory: 3072 },
    { kind: "memcpy", name: "Memcpy HtoD (Pageable -> Device)", start: 4000, end: 9000, bytes: 1048576, device: 0, stream: 7, correlation: 43, copyKind: "HtoD", srcMem: "pageable", dstMem: "device", async: true },
    { kind: "memset", name: "Memset (Device)", start: 9500, end: 9600, bytes: 4096, device: 0, stream: 7, correlation: 44, dstMem: "device" },
  ]);
  // libcupti's names, as users know them (Kineto's): no _vNNNN, _ptsz or leading underscores
  expect(r.api).toEqual([
    { api: "runtime", kind: "launch", name: "cudaLaunchKernel", start: 900, end: 990, pid: 1234, tid: 5678, correlation: 42 },
    { api: "runtime", kind: "launch", name: "cudaLaunchKernel", start: 9400, end: 9450, pid: 1234, tid: 5678, correlation: 44 },
  ]);
  expect(r.syncs).toEqual([{ type: "stream", start: 9700, end: 9900, pid: 99, tid: -1, correlation: 45, stream: 7 }]);
  expect(r.memory).toEqual([
    { track: "gpu 0", ts: 800, values: { allocated_mb: 2 } },
    { track: "gpu 0 managed", ts: 820, values: { allocated_mb: 1 } },
  ]);
  expect(r.devices).toEqual([{ id: 0, name: "NVIDIA H100 80GB HBM3", smCount: 132, memoryBytes: 85017493504, uuid: "GPU-5e0c2d4a-1b7f-4c3e-9a2d-6f1e8b3c7d90" }]);
});

test("a file cut short before or inside its header reads as empty, not as an error", () => {
  for (const n of [0, 3, 8]) {
    const r = readGpuRecords(new TextEncoder().encode(GPU_MAGIC).subarray(0, n), 1);
    expect(r.empty).toBe(true);
    expect(r.gpu).toEqual([]);
  }
});

test("a file that is not a record file is refused", () => {
  expect(() => readGpuRecords(new TextEncoder().encode("{}"), 1)).toThrow("not an InferScope GPU record file (bad magic)");
});
