// The Chrome-trace writer: exact ns → µs, every event kind, streamed, gzip; and what it writes
// reads back (through the project's own reader) to the same model.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { parseTrace, readTrace } from "../../src/trace/read.ts";
import { emptyTrace, type Trace } from "../../src/trace/model.ts";
import { nsToUs, writeTrace } from "../../src/trace/writer.ts";
import { tempDir } from "../helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

describe("nsToUs", () => {
  test("exactly three decimals, exact for integer ns", () => {
    expect(nsToUs(0)).toBe("0.000");
    expect(nsToUs(1)).toBe("0.001");
    expect(nsToUs(999)).toBe("0.999");
    expect(nsToUs(1000)).toBe("1.000");
    expect(nsToUs(1234567)).toBe("1234.567");
    expect(nsToUs(-1)).toBe("-0.001");
    expect(nsToUs(-1500)).toBe("-1.500");
    // Largest integer a double holds exactly: no rounding on the way.
    expect(nsToUs(9007199254740991)).toBe("9007199254740.991");
    for (let i = 0; i < 2000; i++) {
      const n = Math.floor(Math.random() * 1e15);
      expect(Math.round(Number(nsToUs(n)) * 1000)).toBe(n);
    }
  });
});

function sample(): Trace {
  const t = emptyTrace("inferscope");
  const B = 4065123456789;
  const pid = 4242;
  t.meta.command = ["python", "infer.py", "--batch", "8"];
  t.meta.exitCode = 0;
  t.meta.pythonVersion = "3.12.1";
  t.meta.dropped = { python: 3, cupti: 0 };
  t.meta.buffer = { policy: "wrap", sizeMb: 7 };
  t.meta.gpuCollection = "cupti";
  t.meta.devices = [{ index: 0, name: "NVIDIA H100 80GB HBM3", memoryBytes: 85e9, numaNode: 1, pciBusId: "00000000:65:00.0" }];
  t.warnings.push("a warning");
  t.processNames.set(pid, "python infer.py --batch 8");
  t.threadNames.set(pid, "MainThread");
  t.threadNames.set(pid + 1, "loader \"q\"");
  t.spans.push({ cat: "python", name: "tokenize", start: B + 1001, end: B + 5_000_003, pid, tid: pid, file: "/x/pre\"process.py", line: 41 });
  t.spans.push({ cat: "scope", name: "step", start: B + 1000, end: B + 9_000_000, pid, tid: pid, args: { batch: 8, tag: "a<b>" } });
  t.api.push({ api: "runtime", kind: "launch", name: "cudaLaunchKernel", start: B + 6_000_000, end: B + 6_004_001, pid, tid: pid, correlation: 77 });
  t.gpu.push({ kind: "kernel", name: "void gemm<float>(…)", start: B + 6_010_000, end: B + 6_110_000, device: 0, stream: 7, correlation: 77, grid: [1, 2, 3], block: [128, 1, 1], registers: 64, sharedMemory: 1024, launcher: { tid: pid, api: "cudaLaunchKernel", function: "tokenize", file: "/x/preprocess.py", line: 41, scope: "step" } });
  t.gpu.push({ kind: "memcpy", name: "Memcpy HtoD (Pageable -> Device)", start: B + 7_000_000, end: B + 7_500_000, device: 0, stream: 7, bytes: 1 << 20, copyKind: "HtoD", srcMem: "pageable", dstMem: "device", async: false });
  t.syncs.push({ type: "stream", start: B + 7_500_000, end: B + 7_600_001, pid, tid: pid, stream: 7, correlation: 78 });
  t.instants.push({ name: "checkpoint", ts: B + 8_000_000, pid, tid: pid + 1, args: { step: 3 } });
  t.counters.push({ track: "memory", ts: B, values: { rss_mb: 512.5, threads: 9 } });
  t.counters.push({ track: "numa node 0", ts: B + 20_000_000, values: { free_mb: 100, total_mb: 200, process_mb: 3.25 } });
  return t;
}

describe("writeTrace", () => {
  for (const name of ["trace.json", "trace.json.gz"]) {
    test(`${name}: metadata block, lanes, every event kind; the reader gets the same ns back`, async () => {
      const dir = tempDir("inferscope-writer-");
      const path = join(dir, name);
      const t = sample();
      const res = await writeTrace(t, path, { version: "9.9.9", pid: 4242 });
      const raw = readFileSync(path);
      const text = (name.endsWith(".gz") ? gunzipSync(raw) : raw).toString("utf8");
      const json = JSON.parse(text);
      expect(json.baseTimeNanoseconds).toBe(4065123456789);
      expect(json.displayTimeUnit).toBe("ns");
      expect(json.inferscope).toMatchObject({ schema: "inferscope.trace/v1", version: "9.9.9", clock: "CLOCK_MONOTONIC", exitCode: 0, python: "3.12.1", dropped: { python: 3, cupti: 0 }, buffer: { policy: "wrap", sizeMb: 7 }, gpuCollection: "cupti", warnings: ["a warning"] });
      expect(res.events).toBe(json.traceEvents.length);
      // ts strings with exactly three decimals.
      expect(text).toContain(`"ts":1.001,"dur":4999.002`);
      const flows = json.traceEvents.filter((e: { cat?: string }) => e.cat === "ac2g");
      expect(flows.map((e: { ph: string; id: number }) => [e.ph, e.id])).toEqual([["s", 77], ["f", 77]]);
      const kernel = json.traceEvents.find((e: { cat?: string }) => e.cat === "kernel");
      expect(kernel.args).toMatchObject({ correlation: 77, grid: [1, 2, 3], "registers per thread": 64, "launch api": "cudaLaunchKernel", "python function": "tokenize", "python line": 41, scope: "step" });

      const back = await readTrace(path);
      expect(back.format).toBe("inferscope");
      expect(back.meta.baseTimeNs).toBe(4065123456789);
      const py = back.spans.find((s) => s.cat === "python")!;
      expect([py.name, py.start, py.end, py.file, py.line]).toEqual(["tokenize", t.spans[0]!.start, t.spans[0]!.end, "/x/pre\"process.py", 41]);
      const sc = back.spans.find((s) => s.cat === "scope")!;
      expect(sc.args).toEqual({ batch: 8, tag: "a<b>" });
      expect(back.api[0]).toMatchObject({ name: "cudaLaunchKernel", start: t.api[0]!.start, end: t.api[0]!.end, correlation: 77, kind: "launch" });
      const k = back.gpu.find((g) => g.kind === "kernel")!;
      expect([k.start, k.end, k.stream, k.device, k.registers]).toEqual([t.gpu[0]!.start, t.gpu[0]!.end, 7, 0, 64]);
      const cp = back.gpu.find((g) => g.kind === "memcpy")!;
      expect([cp.bytes, cp.srcMem, cp.dstMem, cp.copyKind]).toEqual([1 << 20, "pageable", "device", "HtoD"]);
      expect(back.syncs[0]).toMatchObject({ type: "stream", start: t.syncs[0]!.start, end: t.syncs[0]!.end, stream: 7 });
      expect(back.instants[0]).toMatchObject({ name: "checkpoint", ts: t.instants[0]!.ts, tid: 4243, args: { step: 3 } });
      expect(back.counters.map((c) => [c.track, c.ts, c.values])).toEqual(t.counters.map((c) => [c.track, c.ts, c.values]));
      expect(back.threadNames.get(4243)).toBe("loader \"q\"");
      expect(back.meta.dropped).toEqual({ python: 3, cupti: 0 });
      expect(back.meta.devices[0]).toMatchObject({ name: "NVIDIA H100 80GB HBM3", numaNode: 1 });
    });
  }

  test("GPU work of several processes: lanes under each process (one per device and stream), the pids read back", async () => {
    const t = sample();
    const child = 5151;
    t.processNames.set(child, "Process-1");
    t.gpu[0]!.pid = 4242;
    t.gpu[1]!.pid = 4242;
    t.api.push({ api: "runtime", kind: "launch", name: "cudaLaunchKernel", start: t.api[0]!.start + 10, end: t.api[0]!.end + 10, pid: child, tid: child, correlation: 90 });
    t.gpu.push({ kind: "kernel", name: "void child()", start: t.gpu[0]!.start + 5, end: t.gpu[0]!.end, device: 0, stream: 7, correlation: 90, pid: child });
    const path = join(tempDir("inferscope-writer-"), "trace.json");
    await writeTrace(t, path, { version: "9.9.9", pid: 4242 });
    const json = JSON.parse(readFileSync(path, "utf8"));
    type E = { ph: string; cat?: string; name: string; pid: number; tid: number; id?: number; args?: Record<string, unknown> };
    const ev: E[] = json.traceEvents;
    const lane = 0x40000000 + 7; // GPU_LANE_TID + device 0 × 1e6 + stream 7
    expect(ev.filter((e) => e.ph === "X" && (e.cat === "kernel" || e.cat === "gpu_memcpy")).map((e) => [e.name, e.pid, e.tid])).toEqual([
      ["void gemm<float>(…)", 4242, lane],
      ["Memcpy HtoD (Pageable -> Device)", 4242, lane],
      ["void child()", child, lane],
    ]);
    expect(ev.filter((e) => e.ph === "M" && e.name === "thread_name" && e.tid === lane).map((e) => [e.pid, e.args!.name])).toEqual([
      [4242, "GPU 0 stream 7"],
      [child, "GPU 0 stream 7"],
    ]);
    // no "GPU 0: …" process when every GPU op has its process
    expect(ev.filter((e) => e.ph === "M" && e.name === "process_name").map((e) => e.args!.name)).toEqual(["python infer.py --batch 8", "Process-1"]);
    // each flow ends on its own process's lane
    expect(ev.filter((e) => e.cat === "ac2g" && e.ph === "f").map((e) => [e.id, e.pid, e.tid])).toEqual([
      [77, 4242, lane],
      [90, child, lane],
    ]);
    const back = await readTrace(path);
    expect(back.gpu.map((g) => [g.name, g.pid, g.device, g.stream])).toEqual([
      ["void gemm<float>(…)", 4242, 0, 7],
      ["Memcpy HtoD (Pageable -> Device)", 4242, 0, 7],
      ["void child()", child, 0, 7],
    ]);
  });

  test("streams a large trace (300 000 spans) to a valid file", async () => {
    const t = emptyTrace("inferscope");
    for (let i = 0; i < 300000; i++) t.spans.push({ cat: "python", name: `f${i % 50}`, start: 1e12 + i * 1000, end: 1e12 + i * 1000 + 500, pid: 1, tid: 1, file: "a.py", line: i % 100 });
    const path = join(tempDir("inferscope-writer-"), "big.json");
    const res = await writeTrace(t, path, { version: "0" });
    expect(res.bytes).toBeGreaterThan(20e6);
    const back = parseTrace(readFileSync(path), path);
    expect(back.spans).toHaveLength(300000);
    expect(back.spans[299999]!.end).toBe(1e12 + 299999 * 1000 + 500);
  });
});

describe("a write that fails (a full disk)", () => {
  // The temp file the writer opens is made a link to /dev/full: every write fails with ENOSPC.
  function bigTrace(): Trace {
    const t = emptyTrace("inferscope");
    for (let i = 0; i < 60_000; i++) t.spans.push({ pid: 1, tid: 1, name: `function_${i % 50}`, cat: "python", start: i * 1000, end: i * 1000 + 500 });
    return t;
  }
  for (const gzip of [false, true]) {
    test(`${gzip ? "gzip: " : ""}rejects with ENOSPC at once (it waited forever for 'drain'), leaves no temp file`, async () => {
      const dir = tempDir("inferscope-full-");
      const path = join(dir, gzip ? "trace.json.gz" : "trace.json");
      symlinkSync("/dev/full", `${path}.tmp-${process.pid}`);
      const outcome = await Promise.race([
        writeTrace(bigTrace(), path, { version: "test" }).then(
          () => "written",
          (e: NodeJS.ErrnoException) => e.code,
        ),
        Bun.sleep(20_000).then(() => "hung"),
      ]);
      expect(outcome).toBe("ENOSPC");
      expect(readdirSync(dir)).toEqual([]);
      rmSync(dir, { recursive: true, force: true });
    });
  }
});
