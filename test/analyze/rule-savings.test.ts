// The saving formula of every rule that fired before the GPU-bound ones, on traces built in code
// with hand-computed answers, and how overlapping findings share the window: the more specific
// cause keeps the contested time, the other reports what is left and names it.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { analyze } from "../../src/analyze/index.ts";
import type { Finding, Report } from "../../src/analyze/report-types.ts";
import { Builder, MS, US, twoThreads } from "./trace-builder.ts";

setDefaultTimeout(60_000);

const find = (r: Report, rule: string): Finding => {
  const f = r.findings.find((x) => x.rule === rule);
  if (!f) throw new Error(`${rule} did not fire: ${r.findings.map((x) => x.rule).join(", ")}`);
  return f;
};
const sum = (r: Report) => r.findings.reduce((s, f) => s + (f.estimated_saving?.window_ms ?? 0), 0);

describe("idle the CPU caused: sync_stalls, then gpu_idle with what is left", () => {
  /**
   * 10 steps of 1 ms (scope `step`): K1 [10, 300] µs while the CPU waits in a sync [5, 302]; K2
   * launched at 310 runs [330, 500] (a 30 µs gap after the sync); the CPU works until 901 and
   * launches K3 [910, 1000] (a 410 µs gap, no sync). The next step's K1 starts 10 µs later.
   */
  function syncy() {
    const b = new Builder();
    for (let k = 0; k < 10; k++) {
      const t0 = k * MS;
      b.span("scope", "step", t0, t0 + MS);
      b.op("kernel", "k1", t0 + 1 * US, t0 + 10 * US, t0 + 300 * US);
      b.t.api.push({ api: "runtime", kind: "sync", name: "cudaStreamSynchronize", start: t0 + 5 * US, end: t0 + 302 * US, pid: 100, tid: 101, correlation: 10_000 + k });
      b.op("kernel", "k2", t0 + 310 * US, t0 + 330 * US, t0 + 500 * US);
      b.op("kernel", "k3", t0 + 901 * US, t0 + 910 * US, t0 + 1000 * US);
    }
    return analyze(b.t, { path: "x" });
  }
  test("sync_stalls: the gaps after the syncs, 10 × 30 µs = 300 µs, 30 µs per step", () => {
    const s = find(syncy(), "sync_stalls").estimated_saving!;
    expect(s).toMatchObject({ ms: 0.03, per: "step", scope: "step", steps: 10, window_ms: 0.3 });
    expect(s.overlaps).toBeUndefined();
  });
  test("gpu_idle: host-wait + sync/other gaps (10 × 440 + 9 × 10 µs = 4 490 µs) less the 300 µs sync_stalls holds", () => {
    const r = syncy();
    const s = find(r, "gpu_idle").estimated_saving!;
    expect(s).toMatchObject({ ms: 0.419, per: "step", window_ms: 4.19, standalone_ms: 4.49, overlaps: ["sync_stalls"] });
    // window 10 µs … 10 ms: 9 990 µs
    expect(s.pct_of_window).toBe(Math.floor((4190 / 9990) * 1000) / 10);
    expect(r.findings.map((f) => f.rule)).toEqual(["gpu_idle", "sync_stalls"]); // ranked by saving
    expect(sum(r)).toBeLessThanOrEqual(r.gpu!.window_ms);
  });
  test("without launch calls every idle gap counts for gpu_idle", () => {
    const b = new Builder();
    b.op("kernel", "k", 0, 10 * US, 20 * US);
    b.op("kernel", "k", 0, 100 * US, 110 * US);
    b.op("kernel", "k", 0, 200 * US, 210 * US);
    b.t.api = [];
    const s = find(analyze(b.t, { path: "x" }), "gpu_idle").estimated_saving!;
    expect(s).toMatchObject({ ms: 0.17, per: "window", basis: expect.stringContaining("every idle gap counts") });
  });
});

describe("launch_bound holds the host-wait gaps between launches; gpu_idle gets none of them", () => {
  test("200 kernels of 2 µs launched every 20 µs: 199 gaps × 18 µs = 3 582 µs", () => {
    const b = new Builder();
    for (let i = 0; i < 200; i++) b.op("kernel", "tiny", i * 20 * US + 1 * US, i * 20 * US + 5 * US, i * 20 * US + 7 * US);
    const r = analyze(b.t, { path: "x" });
    expect(find(r, "launch_bound").estimated_saving).toMatchObject({ ms: 3.582, window_ms: 3.582 });
    expect(find(r, "gpu_idle").estimated_saving).toMatchObject({ ms: 0, standalone_ms: 3.582, overlaps: ["launch_bound"] });
  });
});

describe("copies", () => {
  const bytes = 64 << 20;
  const copyNs = Math.round(bytes / 10); // 10 GB/s

  test("blocking pageable copies: sync_copies holds the copies and the idle after their waits; pageable_copies and transfer_overhead overlap it", () => {
    // 4 steps of 8 ms: a synchronous pageable H2D copy [10 µs, 10 µs + copy], the CPU blocked in
    // cudaMemcpy until 15 µs after it; relu launched 16 µs after, running from 20 µs after
    const b = new Builder();
    for (let k = 0; k < 4; k++) {
      const t0 = k * 8 * MS;
      b.op("memcpy", "Memcpy HtoD (Pageable -> Device)", t0, t0 + 10 * US, t0 + 10 * US + copyNs, { bytes, copyKind: "HtoD", srcMem: "pageable", dstMem: "device" }, { name: "cudaMemcpy" });
      b.t.api[b.t.api.length - 1]!.end = t0 + copyNs + 15 * US;
      b.op("kernel", "relu", t0 + copyNs + 16 * US, t0 + copyNs + 20 * US, t0 + copyNs + 120 * US);
    }
    const r = analyze(b.t, { path: "x" });
    // each step: the copy (6 710 886 ns) and the 10 µs gap after the CPU's wait
    expect(find(r, "sync_copies").estimated_saving).toMatchObject({ ms: Math.floor((4 * (copyNs + 10_000)) / 1e3) / 1e3, per: "window" });
    expect(find(r, "pageable_copies").estimated_saving).toMatchObject({ window_ms: 0, standalone_ms: Math.floor((4 * copyNs) / 1e3) / 1e3, overlaps: ["sync_copies"] });
    expect(find(r, "pageable_copies").estimated_saving!.basis).toContain("No pinned copy or PCIe link figure");
    expect(find(r, "transfer_overhead").estimated_saving).toMatchObject({ window_ms: 0, overlaps: ["sync_copies"] });
    expect(sum(r)).toBeLessThanOrEqual(r.gpu!.window_ms);
  });

  test("pageable_copies at the pinned bandwidth this trace measures: 1 − 10 / 25 of their exposed time", () => {
    // async pageable H2D copies at 10 GB/s (not blocking: no sync after them), pinned D2H copies at
    // 25 GB/s, a kernel after each
    const b = new Builder();
    const pinnedNs = Math.round(bytes / 25);
    for (let k = 0; k < 4; k++) {
      const t0 = k * 20 * MS;
      b.op("memcpy", "Memcpy HtoD (Pageable -> Device)", t0, t0 + 10 * US, t0 + 10 * US + copyNs, { bytes, copyKind: "HtoD", srcMem: "pageable", dstMem: "device" });
      b.op("kernel", "k", t0 + 20 * US, t0 + 20 * US + copyNs, t0 + 20 * US + copyNs + 3 * MS);
      b.op("memcpy", "Memcpy DtoH (Device -> Pinned)", t0 + 30 * US, t0 + 30 * US + copyNs + 3 * MS, t0 + 30 * US + copyNs + 3 * MS + pinnedNs, { bytes, copyKind: "DtoH", srcMem: "device", dstMem: "pinned" });
    }
    const s = find(analyze(b.t, { path: "x" }), "pageable_copies").estimated_saving!;
    expect(s.window_ms).toBe(Math.floor((4 * copyNs * (1 - 10 / 25)) / 1e3) / 1e3);
    expect(s.basis).toContain("25 GB/s the pinned copies of this trace reach instead of 10 GB/s");
  });

  test("transfer_overhead on its own: only the copy time with no kernel running (3 × 400 of 3 × 600 µs)", () => {
    // 3 blocks of 2 ms: a pinned async H2D copy [10, 610] µs on stream 8, a kernel [410, 1900] µs on
    // stream 7 that overlaps its last 200 µs. Window 10 µs … 5 900 µs; copies run 1 800 µs (30.6 %)
    const b = new Builder();
    for (let k = 0; k < 3; k++) {
      const t0 = k * 2 * MS;
      b.op("memcpy", "Memcpy HtoD (Pinned -> Device)", t0, t0 + 10 * US, t0 + 610 * US, { stream: 8, bytes: 1 << 20, copyKind: "HtoD", srcMem: "pinned", dstMem: "device" });
      b.op("kernel", "k", t0 + 5 * US, t0 + 410 * US, t0 + 1900 * US);
    }
    const r = analyze(b.t, { path: "x" });
    expect(r.findings.map((f) => f.rule)).toEqual(["transfer_overhead"]);
    expect(find(r, "transfer_overhead").estimated_saving).toEqual({
      ms: 1.2,
      pct_of_window: Math.floor((1200 / 5890) * 1000) / 10, // 20.3
      per: "window",
      basis: "Overlapping the copies with compute (or not copying) removes at most the time the GPU only copies.",
      window_ms: 1.2,
    });
  });

  test("pcie_saturation: the host copy time with nothing else running (3 × 256 MiB at 25 GB/s)", () => {
    const b = new Builder();
    b.t.meta.devices.push({ index: 0, name: "GPU", pcieLinkGen: 4, pcieLinkWidth: 16 });
    const n = Math.round((256 << 20) / 25);
    for (let k = 0; k < 3; k++) {
      const t0 = k * 20 * MS;
      b.op("memcpy", "Memcpy HtoD (Pinned -> Device)", t0, t0 + 5 * US, t0 + 5 * US + n, { bytes: 256 << 20, copyKind: "HtoD", srcMem: "pinned", dstMem: "device" });
      b.op("kernel", "k", t0 + 10 * US, t0 + 5 * US + n, t0 + 5 * US + n + 5 * MS);
    }
    const r = analyze(b.t, { path: "x" });
    expect(find(r, "pcie_saturation").estimated_saving).toMatchObject({ ms: Math.floor((3 * n) / 1e3) / 1e3 });
    expect(find(r, "transfer_overhead").estimated_saving).toMatchObject({ window_ms: 0, overlaps: ["pcie_saturation"] });
  });
});

describe("CPU-side rules", () => {
  test("threading_contention: the host-wait idle, at most the time the threads waited (8.1 ms of 8.5 ms)", () => {
    // twoThreads: the 9 gaps between steps (900 µs each) are host-wait; the threads waited 8.5 ms
    const r = analyze(twoThreads(), { path: "x" });
    expect(find(r, "threading_contention").estimated_saving).toMatchObject({ ms: 8.1, per: "window" });
    expect(find(r, "gpu_idle").estimated_saving).toMatchObject({ window_ms: 0, overlaps: ["threading_contention"] });
  });

  test("memory_pressure: not estimated, and why; numa_remote: the remote share of the exposed host copy time", () => {
    const b = new Builder();
    b.t.meta.devices.push({ index: 0, name: "GPU", numaNode: 0 });
    b.op("memcpy", "Memcpy HtoD (Pinned -> Device)", 0, 10 * US, 1010 * US, { bytes: 1 << 20, copyKind: "HtoD", srcMem: "pinned", dstMem: "device" });
    b.op("kernel", "k", 20 * US, 1010 * US, 5010 * US);
    b.counter("memory", 0, { rss_mb: 30000, mem_available_mb: 300, swap_used_mb: 0 });
    b.counter("numa node 0", 0, { process_mb: 3000 });
    b.counter("numa node 1", 0, { process_mb: 27000 });
    const r = analyze(b.t, { path: "x" });
    expect(find(r, "memory_pressure").estimated_saving).toEqual({
      ms: null,
      pct_of_window: null,
      per: "window",
      basis: "not estimated: memory pressure costs time through swapping, page faults and allocator retries, which the trace does not time",
    });
    expect(find(r, "numa_remote").estimated_saving).toMatchObject({ ms: 0.9, pct_of_window: 18 }); // 90 % of 1 000 µs, of a 5 000 µs window
    expect(r.findings.at(-1)!.rule).toBe("memory_pressure"); // not estimated: ranked last
  });
});
