// A synthetic trace of any size, shaped like a Python inference loop: per step a scope, Python calls
// nested a few levels deep, launches, short kernels on two streams, one copy, one sync.
// Deterministic (no randomness) so sizes and counts are stable.
import { emptyTrace, type Trace } from "../../src/trace/model.ts";

export function syntheticTrace(steps: number, kernelsPerStep = 200): Trace {
  const tr = emptyTrace("inferscope");
  const pid = 4242;
  tr.threadNames.set(pid, "MainThread");
  tr.threadNames.set(pid + 1, "loader");
  tr.processNames.set(pid, "python3 infer.py");
  tr.meta.devices.push({ index: 0, name: "NVIDIA H100 80GB HBM3" });
  let t = 1_000_000_000;
  let corr = 1;
  for (let i = 0; i < steps; i++) {
    const stepStart = t;
    tr.spans.push({ cat: "python", name: "tokenize", start: t + 1000, end: t + 400_000, pid, tid: pid, file: "/app/pre.py", line: 41 });
    for (let j = 0; j < 40; j++) {
      const s = t + 2000 + j * 9000;
      tr.spans.push({ cat: "python", name: "split_words", start: s, end: s + 7000, pid, tid: pid, file: "/app/pre.py", line: 60 });
      tr.spans.push({ cat: "python", name: "<listcomp>", start: s + 500, end: s + 3000, pid, tid: pid, file: "/app/pre.py", line: 61 });
    }
    t += 410_000;
    const copyStart = t;
    tr.api.push({ api: "runtime", kind: "memcpy", name: "cudaMemcpyAsync", start: t, end: t + 60_000, pid, tid: pid, correlation: corr });
    tr.gpu.push({ kind: "memcpy", name: "Memcpy HtoD (Pageable -> Device)", start: t + 5000, end: t + 55_000, device: 0, stream: 7, correlation: corr++, bytes: 64 << 20, copyKind: "HtoD", srcMem: "pageable", dstMem: "device" });
    t += 62_000;
    tr.spans.push({ cat: "python", name: "forward", start: t, end: t + kernelsPerStep * 6000 + 1000, pid, tid: pid, file: "/app/model.py", line: 88 });
    for (let k = 0; k < kernelsPerStep; k++) {
      const s = t + 500 + k * 6000;
      tr.spans.push({ cat: "python", name: "linear", start: s, end: s + 5000, pid, tid: pid, file: "/torch/nn/modules/linear.py", line: 125 });
      tr.api.push({ api: "runtime", kind: "launch", name: "cudaLaunchKernel", start: s + 1000, end: s + 4000, pid, tid: pid, correlation: corr });
      tr.gpu.push({
        kind: "kernel",
        name: k % 7 === 0 ? "ampere_sgemm_128x64_tn" : `void at::native::elementwise_kernel<128, 4, ${k % 5}>(int)`,
        start: s + 8000,
        end: s + 8000 + 3000 + (k % 4) * 500,
        device: 0,
        stream: k % 3 === 0 ? 13 : 7,
        correlation: corr++,
        launcher: { tid: pid, api: "cudaLaunchKernel", function: "linear", file: "/torch/nn/modules/linear.py", line: 125, scope: "model" },
      });
    }
    t += kernelsPerStep * 6000 + 2000;
    tr.syncs.push({ type: "device", start: t, end: t + 20_000, pid, tid: pid });
    tr.spans.push({ cat: "scope", name: "request", start: stepStart, end: t + 21_000, pid, tid: pid, args: { step: i } });
    tr.spans.push({ cat: "python", name: "prefetch", start: stepStart, end: stepStart + 300_000, pid, tid: pid + 1, file: "/app/loader.py", line: 9 });
    tr.counters.push({ track: "memory", ts: stepStart, values: { rss_mb: 1000 + (i % 50) } });
    t += 30_000;
  }
  return tr;
}

export function eventCount(tr: Trace): number {
  return tr.spans.length + tr.api.length + tr.gpu.length + tr.syncs.length;
}
