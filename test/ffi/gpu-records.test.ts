// The C writer's layouts (ffi/gpu_records.h) against the TypeScript reader, byte for byte.
import { expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readGpuRecords } from "../../src/collect/gpu-records.ts";
import { tempDir } from "../helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

test("records written with the shim's structs read back exactly", () => {
  const dir = tempDir();
  const exe = join(dir, "write_records");
  const cc = Bun.spawnSync([process.env.CC ?? "cc", "-O1", "-Wall", "-o", exe, join(import.meta.dir, "write_records.c")], { stderr: "pipe" });
  expect(cc.stderr.toString()).toBe("");
  expect(Bun.spawnSync([exe, join(dir, "gpu.bin")]).exitCode).toBe(0);
  const r = readGpuRecords(readFileSync(join(dir, "gpu.bin")), 99);
  expect(r.info).toEqual(["cupti test 130000"]);
  expect(r.dropped).toBe(3);
  expect(r.truncatedBytes).toBe(2);
  expect(r.gpu).toEqual([
    { kind: "kernel", name: "void at::native::vectorized_elementwise_kernel<4>(int)", start: 1000, end: 3500, device: 0, stream: 7, correlation: 42, grid: [128, 2, 1], block: [256, 1, 1], registers: 32, sharedMemory: 3072 },
    { kind: "memcpy", name: "Memcpy HtoD (Pageable -> Device)", start: 4000, end: 9000, bytes: 1048576, device: 0, stream: 7, correlation: 43, copyKind: "HtoD", srcMem: "pageable", dstMem: "device", async: true },
    { kind: "memset", name: "Memset (Device)", start: 9500, end: 9600, bytes: 4096, device: 0, stream: 7, correlation: 44, dstMem: "device" },
  ]);
  expect(r.api).toEqual([{ api: "runtime", kind: "launch", name: "cudaLaunchKernel_v7000", start: 900, end: 990, pid: 1234, tid: 5678, correlation: 42 }]);
  expect(r.syncs).toEqual([{ type: "stream", start: 9700, end: 9900, pid: 99, tid: -1, correlation: 45, stream: 7 }]);
  expect(r.memory).toEqual([{ track: "gpu 0", ts: 800, values: { allocated_mb: 2 } }]);
});

test("a file that is not a record file is refused", () => {
  expect(() => readGpuRecords(new TextEncoder().encode("{}"), 1)).toThrow("not an InferScope GPU record file (bad magic)");
});
