// One classification of CUDA calls (src/trace/cuda-calls.ts) for both paths: the names libcupti
// gives live (every cbid of the CUDA 13 headers) and the names Kineto writes (the fixtures), read
// through the two real readers, give one kind and one display name per call.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { cudaInclude } from "../../tools/shim.ts";
import { GPU_MAGIC, readGpuRecords } from "../../src/collect/gpu-records.ts";
import { cudaCallKind, cudaCallName } from "../../src/trace/cuda-calls.ts";
import type { ApiCall } from "../../src/trace/model.ts";
import { parseTrace } from "../../src/trace/read.ts";
import { cbidNames } from "../gpu-sim/build.ts";
import { ROOT } from "../helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

/** A gpu.bin holding one API record per name (layout: ffi/gpu_records.h). */
function liveRecords(names: { name: string; runtime: boolean }[]): ApiCall[] {
  const parts: Uint8Array[] = [new TextEncoder().encode(GPU_MAGIC)];
  const rec = (type: number, payload: Uint8Array) => {
    const h = new DataView(new ArrayBuffer(4));
    h.setUint16(0, type, true);
    h.setUint16(2, payload.length, true);
    parts.push(new Uint8Array(h.buffer), payload);
  };
  names.forEach(({ name, runtime }, i) => {
    const s = new TextEncoder().encode(name);
    const str = new Uint8Array(4 + s.length);
    new DataView(str.buffer).setUint32(0, i + 1, true);
    str.set(s, 4);
    rec(7, str);
    const api = new DataView(new ArrayBuffer(44));
    api.setBigUint64(0, BigInt(1000 + i * 10), true);
    api.setBigUint64(8, BigInt(1005 + i * 10), true);
    for (const [off, v] of [[16, runtime ? 1 : 2], [24, 1], [28, 1], [32, i + 1], [40, i + 1]] as const) api.setUint32(off, v, true);
    rec(4, new Uint8Array(api.buffer));
  });
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) bytes.set(p, (o += p.length) - p.length);
  return readGpuRecords(bytes, 1).api;
}

/** The same names as Kineto events, through the Kineto reader. */
function kinetoRecords(names: { name: string; runtime: boolean }[]): ApiCall[] {
  const traceEvents = names.map(({ name, runtime }, i) => ({ ph: "X", cat: runtime ? "cuda_runtime" : "cuda_driver", name, pid: 1, tid: 1, ts: 1 + i, dur: 0.5, args: { correlation: i + 1 } }));
  return parseTrace(JSON.stringify({ traceEvents })).api.sort((a, b) => a.correlation - b.correlation);
}

const inc = cudaInclude();

describe("one classification of CUDA calls", () => {
  test("names and kinds of calls users meet, as libcupti names them", () => {
    const cases: [string, string, string][] = [
      ["cudaLaunchKernel_v7000", "cudaLaunchKernel", "launch"],
      ["cudaLaunchKernel_ptsz_v7000", "cudaLaunchKernel", "launch"],
      ["__cudaLaunchKernel_v13000", "cudaLaunchKernel", "launch"],
      ["__cudaLaunchKernel_ptsz_v13000", "cudaLaunchKernel", "launch"],
      ["cudaLaunchKernelExC_v11060", "cudaLaunchKernelExC", "launch"],
      ["cuLaunchKernel", "cuLaunchKernel", "launch"],
      ["cuLaunchKernelEx_ptsz", "cuLaunchKernelEx", "launch"],
      ["cudaGraphLaunch_ptsz_v10000", "cudaGraphLaunch", "graph_launch"],
      ["cuGraphLaunch", "cuGraphLaunch", "graph_launch"],
      ["cudaMemcpyAsync_v3020", "cudaMemcpyAsync", "memcpy"],
      ["cuMemcpyHtoDAsync_v2_ptsz", "cuMemcpyHtoDAsync_v2", "memcpy"],
      ["cudaMemsetAsync_ptsz_v7000", "cudaMemsetAsync", "memset"],
      ["cudaStreamSynchronize_v3020", "cudaStreamSynchronize", "sync"],
      ["cudaDeviceSynchronize_v3020", "cudaDeviceSynchronize", "sync"],
      ["cuCtxSynchronize_v2", "cuCtxSynchronize_v2", "sync"],
      ["cudaEventSynchronize_v3020", "cudaEventSynchronize", "sync"],
      ["cudaStreamWaitEvent_v3020", "cudaStreamWaitEvent", "other"], // the GPU waits, not the CPU
      ["cudaMalloc_v3020", "cudaMalloc", "alloc"],
      ["cudaMallocAsync_ptsz_v11020", "cudaMallocAsync", "alloc"],
      ["cuMemAlloc_v2", "cuMemAlloc_v2", "alloc"],
      ["cudaFreeHost_v3020", "cudaFreeHost", "free"],
      ["cudaGetDevice_v3020", "cudaGetDevice", "other"],
      ["cudaStreamIsCapturing_v10000", "cudaStreamIsCapturing", "other"],
    ];
    expect(cases.map(([raw]) => [raw, cudaCallName(raw), cudaCallKind(raw)])).toEqual(cases);
  });

  test.skipIf(inc === null)("every cbid of the CUDA 13 headers: the live reader and the Kineto reader agree on its name and kind", () => {
    const names = [
      ...[...cbidNames(inc!, "cupti_runtime_cbid.h", "CUPTI_RUNTIME_TRACE_CBID_")].filter(([id]) => id > 0).map(([, name]) => ({ name, runtime: true })),
      ...[...cbidNames(inc!, "cupti_driver_cbid.h", "CUPTI_DRIVER_TRACE_CBID_")].filter(([id]) => id > 0).map(([, name]) => ({ name, runtime: false })),
    ];
    expect(names.length).toBeGreaterThan(1300);
    const live = liveRecords(names);
    // Kineto writes the name without libcupti's suffixes
    const kineto = kinetoRecords(names.map((n) => ({ ...n, name: cudaCallName(n.name) })));
    expect(live.map((a) => [a.name, a.kind])).toEqual(kineto.map((a) => [a.name, a.kind]));
    const counts: Record<string, number> = {};
    for (const a of live) counts[a.kind] = (counts[a.kind] ?? 0) + 1;
    expect(counts.launch).toBeGreaterThan(20);
    expect(counts.sync).toBeGreaterThan(8);
  });

  test.skipIf(inc === null)("the calls in the real Kineto fixtures read like libcupti's names for the same cbid", () => {
    const runtime = cbidNames(inc!, "cupti_runtime_cbid.h", "CUPTI_RUNTIME_TRACE_CBID_");
    const driver = cbidNames(inc!, "cupti_driver_cbid.h", "CUPTI_DRIVER_TRACE_CBID_");
    const seen = new Map<string, { name: string; cbid: number; runtime: boolean }>();
    for (const f of ["cudagraph", "llama_tiny_generate", "pinned_nonblocking", "sync_stall", "vit_fp16"]) {
      const t = JSON.parse(gunzipSync(readFileSync(join(ROOT, `test/fixtures/kineto/${f}.kineto.json.gz`))).toString()) as { traceEvents: Record<string, any>[] }; // eslint-disable-line @typescript-eslint/no-explicit-any
      for (const e of t.traceEvents)
        if (e.cat === "cuda_runtime" || e.cat === "cuda_driver") seen.set(`${e.cat}:${e.name}`, { name: e.name, cbid: e.args.cbid, runtime: e.cat === "cuda_runtime" });
    }
    const calls = [...seen.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
    expect(calls.length).toBe(14);
    const kineto = kinetoRecords(calls);
    const live = liveRecords(calls.map((c) => ({ name: (c.runtime ? runtime : driver).get(c.cbid)!, runtime: c.runtime })));
    expect(live.map((a) => [a.name, a.kind])).toEqual(kineto.map((a) => [a.name, a.kind]));
    expect(Object.fromEntries(kineto.map((a) => [a.name, a.kind]))).toEqual({
      cuLaunchKernel: "launch",
      cuLaunchKernelEx: "launch",
      cudaDeviceGetAttribute: "other",
      cudaDeviceSynchronize: "sync",
      cudaFuncSetAttribute: "other",
      cudaGetErrorString: "other",
      cudaGraphLaunch: "graph_launch",
      cudaLaunchKernel: "launch",
      cudaLaunchKernelExC: "launch",
      cudaMemcpyAsync: "memcpy",
      cudaMemsetAsync: "memset",
      cudaPeekAtLastError: "other",
      cudaStreamIsCapturing: "other",
      cudaStreamSynchronize: "sync",
    });
  });
});
