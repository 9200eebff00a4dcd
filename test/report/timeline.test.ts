import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { buildTimeline, type Timeline, type TimelineLane } from "../../src/report/timeline.ts";
import { renderReport } from "../../src/report/render.ts";
import { analysisContext } from "../../src/analyze/index.ts";
import { emptyTrace } from "../../src/trace/model.ts";
import type { Report } from "../../src/analyze/report-types.ts";
import { eventCount, syntheticTrace } from "./synthetic.ts";
import { fixtureAnalysis } from "./fixtures.ts";
import handmade from "./handmade_cpu_bound.json";

// Real traces, a real browser, millions of events: slower than a unit test, on a busy machine too.
setDefaultTimeout(60_000);

function starts(l: TimelineLane): number[] {
  let t = 0;
  return l.s.map((d) => (t += d));
}

test("GPU work of two processes on the same device and stream: a lane each, named for its process", () => {
  const tr = emptyTrace("inferscope");
  tr.processNames.set(10, "python3 serve.py");
  tr.processNames.set(20, "EngineCore");
  tr.meta.devices = [{ index: 0, name: "NVIDIA H100 80GB HBM3" }];
  tr.spans.push({ cat: "python", name: "main", start: 0, end: 100_000, pid: 10, tid: 10 });
  tr.gpu.push({ kind: "kernel", name: "a", start: 10_000, end: 30_000, device: 0, stream: 7, pid: 20 });
  tr.gpu.push({ kind: "kernel", name: "b", start: 20_000, end: 40_000, device: 0, stream: 7, pid: 10 });
  tr.gpu.push({ kind: "kernel", name: "c", start: 50_000, end: 60_000, device: 0, stream: 7, pid: 20 });
  const tl = buildTimeline(analysisContext(tr), { utilBins: 10, densityBins: 10 });
  const gpu = tl.lanes.filter((l) => l.kind === "gpu");
  expect(gpu.map((l) => [l.label, l.sub, l.n.map((i) => tl.names[i])])).toEqual([
    ["GPU 0 · stream 7", "python3 serve.py · pid 10 · NVIDIA H100 80GB HBM3", ["b"]],
    ["GPU 0 · stream 7", "EngineCore · pid 20 · NVIDIA H100 80GB HBM3", ["a", "c"]],
  ]);
});

describe("timeline summary, small trace (everything kept)", () => {
  const tr = emptyTrace("inferscope");
  tr.threadNames.set(10, "MainThread");
  tr.processNames.set(10, "python3 x.py");
  // t = 0 at 1000 ns
  tr.spans.push({ cat: "scope", name: "step", start: 1000, end: 101_000, pid: 10, tid: 10 });
  tr.spans.push({ cat: "python", name: "outer", start: 2000, end: 50_000, pid: 10, tid: 10, file: "/a/b/c.py", line: 3 });
  tr.spans.push({ cat: "python", name: "inner", start: 3000, end: 4000, pid: 10, tid: 10 });
  tr.api.push({ api: "runtime", kind: "launch", name: "cudaLaunchKernel", start: 5000, end: 6000, pid: 10, tid: 10, correlation: 1 });
  tr.gpu.push({ kind: "kernel", name: "k1", start: 11_000, end: 21_000, device: 0, stream: 7, launcher: { tid: 10, function: "outer", file: "/a/b/c.py", line: 3, scope: "step" } });
  tr.gpu.push({ kind: "kernel", name: "k2", start: 41_000, end: 51_000, device: 0, stream: 9 });
  tr.gpu.push({ kind: "memcpy", name: "Memcpy HtoD", start: 51_000, end: 61_000, device: 0, stream: 7, bytes: 1 << 20, srcMem: "pageable", dstMem: "device" });
  tr.counters.push({ track: "memory", ts: 1000, values: { rss_mb: 10 } }, { track: "memory", ts: 101_000, values: { rss_mb: 20 } });
  const tl = buildTimeline(analysisContext(tr), { utilBins: 10, densityBins: 10 });

  test("window, lanes and their order", () => {
    expect(tl.start).toBe(1000);
    expect(tl.span).toBe(100_000);
    expect(tl.lanes.map((l) => [l.kind, l.label])).toEqual([
      ["cpu", "MainThread"],
      ["gpu", "GPU 0 · stream 7"],
      ["gpu", "GPU 0 · stream 9"],
    ]);
    expect(tl.lanes[0]!.sub).toBe("python3 x.py · pid 10 · tid 10");
    expect(tl.lod).toMatchObject({ events: 7, kept: 7, minDurNs: 0 });
    for (const l of tl.lanes) {
      expect(l.dens).toBeNull();
      expect(l.cut).toBe(0);
    }
  });
  test("nesting rows and delta-encoded starts", () => {
    const cpu = tl.lanes[0]!;
    expect(cpu.rows).toBe(3);
    expect(starts(cpu)).toEqual([0, 1000, 2000, 4000]);
    expect(cpu.n.map((i) => tl.names[i])).toEqual(["step", "outer", "inner", "cudaLaunchKernel"]);
    expect(cpu.r).toEqual([0, 1, 2, 2]);
    expect(cpu.d).toEqual([100_000, 48_000, 1000, 1000]);
    expect(cpu.c.map((c) => tl.cats[c])).toEqual(["scope", "python", "python", "cuda_api"]);
    expect(tl.names[cpu.x![1]!]).toBe("b/c.py:3");
  });
  test("GPU details, utilization and idle gaps come from every op", () => {
    const s7 = tl.lanes[1]!;
    expect(starts(s7)).toEqual([10_000, 50_000]);
    expect(tl.names[s7.x![0]!]).toBe("from outer (b/c.py:3) · scope step");
    expect(tl.names[s7.x![1]!]).toBe("1.0 MiB pageable → device");
    // busy: [10k,20k) and [40k,60k) of a 100k window in bins of 10k
    expect(tl.util.series[0]!.v).toEqual([0, 1000, 0, 0, 1000, 1000, 0, 0, 0, 0]);
    expect(tl.idle).toEqual([{ device: 0, label: "GPU 0", gaps: [20_000, 20_000], total: 1 }]);
    expect(tl.counters).toEqual([{ track: "memory", key: "rss_mb", t: [0, 100_000], v: [10, 20] }]);
  });
});

/** The 1.5 M-event tests take seconds on an idle 2-core box and minutes on a loaded one. */
const HEAVY_MS = 300_000;

describe("level of detail on a large trace", () => {
  const tr = syntheticTrace(2200); // ~1.5 M events
  const total = eventCount(tr);
  const analysis = analysisContext(tr);
  let tl: Timeline;
  let ms = 0;
  test("keeps at most the budget (build time: bench/report-open.ts)", () => {
    const t0 = performance.now();
    tl = buildTimeline(analysis, { maxEvents: 100_000 });
    ms = performance.now() - t0;
    console.log(`timeline: ${total} events → ${tl.lod.kept} kept in ${ms.toFixed(0)} ms, ${(JSON.stringify(tl).length / 1e6).toFixed(2)} MB`);
    expect(total).toBeGreaterThan(1_000_000);
    expect(tl.lod.events).toBe(total);
    expect(tl.lod.kept).toBeLessThanOrEqual(100_000);
    expect(tl.lod.kept).toBeGreaterThan(90_000);
  }, HEAVY_MS);
  test("each lane keeps its longest events and a fair share; the others become density", () => {
    const lanes = new Map(tl.lanes.map((l) => [l.label, l]));
    const main = lanes.get("MainThread")!;
    const loader = lanes.get("loader")!;
    const s7 = lanes.get("GPU 0 · stream 7")!;
    const s13 = lanes.get("GPU 0 · stream 13")!;
    // the small lane keeps everything; the big ones share the rest evenly
    expect(loader.s.length).toBe(loader.total);
    expect(loader.dens).toBeNull();
    for (const l of [main, s7, s13]) {
      expect(l.s.length).toBeLessThan(l.total);
      expect(l.s.length).toBeGreaterThan(25_000);
      expect(l.cut).toBeGreaterThan(0);
      // every kept event is at least as long as the cut, and the lane's events longer than the
      // cut are all kept
      const longer = l === main
        ? [...tr.spans.filter((e) => e.tid === 4242), ...tr.api, ...tr.syncs].filter((e) => e.end - e.start > l.cut).length
        : tr.gpu.filter((e) => (l === s7 ? e.stream === 7 : e.stream === 13) && e.end - e.start > l.cut).length;
      expect(l.s.length).toBeGreaterThanOrEqual(longer);
      expect(Math.min(...l.d)).toBeGreaterThanOrEqual(Math.min(l.cut, ...l.d.filter((_, i) => tl.cats[l.c[i]!] !== "scope")));
      expect(l.dens).not.toBeNull();
      expect(l.dens!.some((v) => v > 0)).toBe(true);
    }
    // all scopes are kept whatever their length
    const scopeCat = tl.cats.indexOf("scope");
    expect(main.c.filter((c) => c === scopeCat).length).toBe(2200);
    // utilization sees every op, kept or not: ~ (134 ops × ~4 µs) per ~1.7 ms step
    const util = tl.util.series[0]!.v;
    expect(util.reduce((a, b) => a + b, 0) / util.length).toBeGreaterThan(200);
    expect(tl.idle[0]!.total).toBeGreaterThan(2200);
    expect(tl.idle[0]!.gaps.length / 2).toBe(5000);
  }, HEAVY_MS);
  test("the HTML report stays under 10 MB", () => {
    const html = renderReport(handmade as unknown as Report, "html", analysis);
    console.log(`HTML for ${total} events: ${(html.length / 1e6).toFixed(2)} MB`);
    expect(html.length).toBeLessThan(10_000_000);
  }, HEAVY_MS);
  test("a byte cap shrinks the event budget", () => {
    const tr2 = analysisContext(syntheticTrace(300)); // ~200 k events
    const full = buildTimeline(tr2, { maxEvents: 100_000 });
    const small = buildTimeline(tr2, { maxEvents: 100_000, maxBytes: 300_000 });
    expect(JSON.stringify(full).length).toBeGreaterThan(300_000);
    expect(JSON.stringify(small).length).toBeLessThanOrEqual(300_000);
    expect(small.lod.kept).toBeLessThan(full.lod.kept);
  }, HEAVY_MS);
});

describe("the timeline draws the analysis's GPU time", () => {
  test("one GPU: its idle gaps are the report's, in number and in total", async () => {
    const { report, analysis } = await fixtureAnalysis("sync_stall.kineto.json.gz");
    const tl = buildTimeline(analysis, { maxGaps: 1e9 });
    expect(tl.idle).toHaveLength(1);
    const gaps = tl.idle[0]!.gaps;
    expect(tl.idle[0]!.total).toBe(report.gpu!.idle.gaps!);
    let idleNs = 0;
    for (let i = 1; i < gaps.length; i += 2) idleNs += gaps[i]!;
    expect(idleNs / 1e6).toBeCloseTo(report.gpu!.idle.total_ms, 6);
  });

  test("two GPUs: each is drawn from its own ops (the report's idle time is device-wide)", () => {
    const tr = emptyTrace("kineto");
    tr.gpu.push({ kind: "kernel", name: "a", start: 0, end: 10_000, device: 0, stream: 7 });
    tr.gpu.push({ kind: "kernel", name: "b", start: 12_000, end: 18_000, device: 1, stream: 7 });
    tr.gpu.push({ kind: "kernel", name: "c", start: 20_000, end: 30_000, device: 0, stream: 7 });
    const analysis = analysisContext(tr);
    expect(analysis.gpu!.gaps.map((g) => [g.start, g.end])).toEqual([
      [10_000, 12_000],
      [18_000, 20_000],
    ]);
    const tl = buildTimeline(analysis, { utilBins: 3 });
    expect(tl.idle).toEqual([
      { device: 0, label: "GPU 0", gaps: [10_000, 10_000], total: 1 },
      { device: 1, label: "GPU 1", gaps: [], total: 0 },
    ]);
    expect(tl.util.series.map((s) => s.v)).toEqual([
      [1000, 0, 1000],
      [0, 600, 0],
    ]);
  });
});
