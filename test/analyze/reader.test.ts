// The trace readers: exact times, the streaming parser against one-shot parsing, odd JSON, the
// InferScope format (through the project's own writer) and format detection.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { TraceJsonParser } from "../../src/trace/json-framer.ts";
import { parseTrace, readTrace } from "../../src/trace/read.ts";
import { usToNs } from "../../src/trace/kineto.ts";
import { deviceFromRecord } from "../../src/trace/device-record.ts";
import { writeTrace } from "../../src/trace/writer.ts";
import { mergeTrace } from "../../src/merge/index.ts";
import { analyze } from "../../src/analyze/index.ts";
import type { Trace } from "../../src/trace/model.ts";
import { tempDir } from "../helpers.ts";
import { FIXTURES, loadRaw, ns } from "./raw.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

const dir = tempDir("inferscope-reader-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function plain(t: Trace): unknown {
  return JSON.parse(
    JSON.stringify({ ...t, threadNames: [...t.threadNames], processNames: [...t.processNames] }),
  );
}

function rawJson(name: string): Uint8Array {
  return gunzipSync(readFileSync(join(FIXTURES, `${name}.kineto.json.gz`)));
}

describe("times", () => {
  test("µs → ns is exact for every ts and dur of every fixture (Math.round(ts * 1000) is not)", () => {
    let n = 0;
    let naiveWrong = 0;
    for (const name of ["vit_fp16", "llama_tiny_generate", "sync_stall", "pinned_nonblocking", "cudagraph"]) {
      for (const e of loadRaw(name).events) {
        for (const k of ["ts", "dur"] as const) {
          if (typeof e[k] !== "number") continue;
          n++;
          expect(usToNs(e[k])).toBe(ns(e[k]));
          if (Math.round(e[k] * 1000) !== ns(e[k])) naiveWrong++;
        }
      }
    }
    expect(n).toBe(83345);
    expect(naiveWrong).toBeGreaterThan(1000); // why usToNs exists
  });

  test("a kernel's start and end in the model", async () => {
    const t = await readTrace(join(FIXTURES, "pinned_nonblocking.kineto.json.gz"), { progress: false });
    const copy = t.gpu.find((g) => g.kind === "memcpy" && g.copyKind === "HtoD")!;
    // "ts": 4492805493500.459, "dur": 2440.072 in the file
    expect(copy.start).toBe(4492805493500459);
    expect(copy.end).toBe(4492805493500459 + 2440072);
    expect(copy).toMatchObject({ srcMem: "pinned", dstMem: "device", bytes: 134217728, correlation: 15, externalId: 5, device: 0, stream: 7 });
  });
});

describe("streaming parser", () => {
  test.each([1, 7, 1000, 65537, 1 << 20])("pinned_nonblocking fed in %i-byte chunks equals one feed", (size) => {
    const bytes = rawJson("pinned_nonblocking");
    const whole = parseTrace(bytes, "x");
    const p = new TraceJsonParser("x");
    for (let i = 0; i < bytes.length; i += size) p.feed(bytes.subarray(i, Math.min(bytes.length, i + size)), false);
    p.feed(new Uint8Array(0), true);
    expect(plain(p.finish())).toEqual(plain(whole));
  });

  test("llama_tiny_generate (9.9 MB, more than one batch) from .json, .json.gz and 1 MB chunks: all equal", async () => {
    const whole = parseTrace(rawJson("llama_tiny_generate"), "x");
    expect(whole.spans.length).toBe(16019);
    const plainPath = join(dir, "llama.json");
    await Bun.write(plainPath, rawJson("llama_tiny_generate"));
    for (const path of [plainPath, join(FIXTURES, "llama_tiny_generate.kineto.json.gz")]) {
      const streamed = await readTrace(path, { progress: false });
      expect(plain(streamed)).toEqual(plain(whole));
    }
    const p = new TraceJsonParser("x");
    const bytes = rawJson("llama_tiny_generate");
    for (let i = 0; i < bytes.length; i += 1 << 20) p.feed(bytes.subarray(i, Math.min(bytes.length, i + (1 << 20))), false);
    p.feed(new Uint8Array(0), true);
    expect(plain(p.finish())).toEqual(plain(whole));
  });

  test("names with brackets, commas, quotes, escapes and non-ASCII (the fast cut guesses wrong)", () => {
    const names = ['a},{"b', "x\\", 'q"},', "}, {", "ü→☃ 名前", "\\\\},", "\u2028"];
    const events = names.map((name, i) => ({ ph: "X", cat: "cpu_op", name, pid: 1, tid: 1, ts: i, dur: 0.5 }));
    const text = JSON.stringify({ traceEvents: events, tail: { n: [{ a: "}," }, 1] } });
    const bytes = new TextEncoder().encode(text);
    for (const size of [1, 3, 10, bytes.length]) {
      const p = new TraceJsonParser("x");
      for (let i = 0; i < bytes.length; i += size) p.feed(bytes.subarray(i, Math.min(bytes.length, i + size)), false);
      p.feed(new Uint8Array(0), true);
      const t = p.finish();
      expect(t.spans.map((s) => s.name)).toEqual(names);
      expect(t.spans.map((s) => s.end - s.start)).toEqual(names.map(() => 500));
    }
  });

  test("the Chrome array form ([event, …]) is read too", () => {
    const t = parseTrace(JSON.stringify([{ ph: "X", cat: "kernel", name: "k", pid: 0, tid: 7, ts: 1, dur: 2, args: { correlation: 3 } }]), "x");
    expect(t.format).toBe("kineto");
    expect(t.gpu).toEqual([{ kind: "kernel", name: "k", start: 1000, end: 3000, device: 0, stream: 7, correlation: 3 }]);
  });

  test("unknown categories are counted in a warning, not silently dropped", () => {
    const t = parseTrace(
      JSON.stringify({ traceEvents: [{ ph: "X", cat: "mystery", name: "m", pid: 1, tid: 1, ts: 0, dur: 1 }, { ph: "X", cat: "kernel", name: "k", pid: 0, tid: 7, ts: 1, dur: 2 }] }),
      "x",
    );
    expect(t.warnings).toEqual(['ignored events of unknown kinds: cat "mystery" ×1']);
  });
});

describe("InferScope traces", () => {
  test("a Kineto fixture written by the InferScope writer reads back with the same analysis", async () => {
    for (const [name, ext] of [
      ["sync_stall", ".json"],
      ["llama_tiny_generate", ".json.gz"],
    ] as const) {
      const src = await readTrace(join(FIXTURES, `${name}.kineto.json.gz`), { progress: false });
      const before = analyze(src, { path: "x", merge: mergeTrace(src) });
      const out = join(dir, `${name}.inferscope${ext}`);
      await writeTrace(src, out, { version: "0.0.0-test" });
      const back = await readTrace(out, { progress: false });
      expect(back.format).toBe("inferscope");
      expect(back.gpu.length).toBe(src.gpu.length);
      expect(back.gpu.map((g) => [g.start, g.end, g.launcher])).toEqual(src.gpu.map((g) => [g.start, g.end, g.launcher]));
      const after = analyze(back, { path: "x" });
      expect(after.gpu).toEqual(before.gpu);
      expect(after.scopes).toEqual(before.scopes);
      // same findings; only the advice on how to see untraced Python differs by format
      const strip = (r: typeof before) => r.findings.map(({ suggestions, ...f }) => ({ ...f, n: suggestions.length }));
      expect(strip(after)).toEqual(strip(before));
      expect(after.bottleneck.classification).toBe(before.bottleneck.classification);
      expect(after.collection.producer).toBe("inferscope 0.0.0-test");
    }
  });

  test("metadata block, base time, Python spans, scopes, marks, counters", () => {
    const base = 4065123456789;
    const doc = {
      schemaVersion: 1,
      baseTimeNanoseconds: base,
      displayTimeUnit: "ns",
      inferscope: {
        schema: "inferscope.trace/v1",
        version: "0.1.0",
        clock: "CLOCK_MONOTONIC",
        command: ["python3", "infer.py", "--batch", "8"],
        exitCode: 0,
        python: "3.12.3",
        torch: "2.11.0",
        devices: [{ index: 0, name: "NVIDIA H100 80GB HBM3", memoryBytes: 85017493504, numaNode: 1, pcieLinkGen: 5, pcieLinkWidth: 16 }],
        dropped: { python: 0, cupti: 2 },
        clockErrorBoundNs: 0,
        gpuCollection: "cupti",
        warnings: ["a collector warning"],
      },
      traceEvents: [
        { ph: "M", name: "thread_name", pid: 100, tid: 101, args: { name: "MainThread" } },
        { ph: "X", cat: "python", name: "tokenize", pid: 100, tid: 101, ts: 1.5, dur: 10.25, args: { file: "preprocess.py", line: 41 } },
        { ph: "X", cat: "scope", name: "step", pid: 100, tid: 101, ts: 0, dur: 100, args: { batch: 8 } },
        { ph: "i", s: "t", cat: "mark", name: "done", pid: 100, tid: 101, ts: 99, args: { ok: true } },
        { ph: "X", cat: "cuda_runtime", name: "cudaLaunchKernel", pid: 100, tid: 101, ts: 12, dur: 3, args: { correlation: 5, kind: "launch", cbid: 211 } },
        { ph: "X", cat: "kernel", name: "k", pid: 0, tid: 7, ts: 20, dur: 5, args: { correlation: 5, device: 0, stream: 7, "launch tid": 101, "python function": "forward", "python file": "model.py", "python line": 9, scope: "step" } },
        { ph: "X", cat: "gpu_memcpy", name: "Memcpy HtoD (Pageable -> Device)", pid: 0, tid: 7, ts: 30, dur: 5, args: { bytes: 4096, "copy kind": "HtoD", "src kind": "pageable", "dst kind": "device", async: false } },
        { ph: "X", cat: "cuda_sync", name: "cuda sync (stream)", pid: 100, tid: 101, ts: 40, dur: 2, args: { type: "stream", stream: 7, correlation: 9 } },
        { ph: "C", name: "memory", pid: 100, ts: 50, args: { rss_mb: 1200, mem_available_mb: 30000 } },
        { ph: "C", name: "numa node 0", pid: 100, ts: 50, args: { process_mb: 900 } },
        { ph: "C", name: "numa node 1", pid: 100, ts: 50, args: { process_mb: 300 } },
      ],
    };
    const t = parseTrace(JSON.stringify(doc), "x");
    expect(t.format).toBe("inferscope");
    expect(t.meta).toMatchObject({
      producer: "inferscope 0.1.0",
      clock: "CLOCK_MONOTONIC",
      baseTimeNs: base,
      command: ["python3", "infer.py", "--batch", "8"],
      exitCode: 0,
      pythonVersion: "3.12.3",
      torchVersion: "2.11.0",
      dropped: { python: 0, cupti: 2 },
      gpuCollection: "cupti",
    });
    expect(t.meta.devices[0]).toEqual({ index: 0, name: "NVIDIA H100 80GB HBM3", memoryBytes: 85017493504, numaNode: 1, pcieLinkGen: 5, pcieLinkWidth: 16 });
    expect(t.warnings).toEqual(["a collector warning"]);
    expect(t.spans.find((s) => s.cat === "python")).toEqual({ cat: "python", name: "tokenize", start: base + 1500, end: base + 11750, pid: 100, tid: 101, file: "preprocess.py", line: 41 });
    expect(t.spans.find((s) => s.cat === "scope")!.args).toEqual({ batch: 8 });
    expect(t.instants).toEqual([{ name: "done", ts: base + 99000, pid: 100, tid: 101, args: { ok: true } }]);
    expect(t.api[0]).toMatchObject({ api: "runtime", kind: "launch", correlation: 5, start: base + 12000 });
    expect(t.gpu[0]!.launcher).toEqual({ tid: 101, function: "forward", file: "model.py", line: 9, scope: "step" });
    expect(t.gpu[1]).toMatchObject({ copyKind: "HtoD", srcMem: "pageable", dstMem: "device", async: false, bytes: 4096 });
    expect(t.syncs).toEqual([{ type: "stream", start: base + 40000, end: base + 42000, pid: 100, tid: 101, stream: 7, correlation: 9 }]);
    expect(t.counters.map((c) => c.track)).toEqual(["memory", "numa node 0", "numa node 1"]);
    expect(t.threadNames.get(101)).toBe("MainThread");
    const r = analyze(t, { path: "x" });
    expect(r.source).toEqual({ path: "x", format: "inferscope", events: 11 });
    expect(r.cpu.memory).toEqual({ peak_rss_mb: 1200, min_available_mb: 30000, swap_used_mb: null });
    expect(r.cpu.numa).toEqual({ gpu_node: 1, pages_mb_by_node: { "0": 900, "1": 300 }, remote_pct: 75 });
    expect(r.gpu!.memcpy.h2d.sync_count).toBe(1);
    expect(r.dropped).toEqual({ python: 0, cupti: 2 });
  });

  test("device records read alike from the shim, an InferScope trace and a Kineto trace; -1 (unknown) reads as absent", () => {
    // The three readers had three copies of this; the shim's treated a negative number as absent
    // and the trace readers kept it. A negative count, size or NUMA node now means unknown in all.
    const shim = { index: 0, name: "NVIDIA H100", memoryBytes: 85017493504, smCount: 132, computeMajor: 9, computeMinor: 0, pciBusId: "0000:17:00.0", numaNode: -1, pcieLinkWidth: -1 };
    const fromShim = deviceFromRecord(shim, 0);
    expect(fromShim).toEqual({ index: 0, name: "NVIDIA H100", memoryBytes: 85017493504, smCount: 132, computeMajor: 9, computeMinor: 0, pciBusId: "0000:17:00.0" });
    const inferscope = parseTrace(
      JSON.stringify({ inferscope: { devices: [shim, { name: "second" }] }, baseTimeNanoseconds: 0, traceEvents: [{ ph: "X", cat: "kernel", name: "k", pid: 0, tid: 7, ts: 1, dur: 1 }] }),
      "x",
    );
    expect(inferscope.meta.devices).toEqual([fromShim, { index: 1, name: "second" }]);
    const kineto = parseTrace(
      JSON.stringify({ deviceProperties: [{ id: 0, name: "NVIDIA H100", totalGlobalMem: 85017493504, numSms: 132, computeMajor: 9, computeMinor: 0 }], traceEvents: [{ ph: "X", cat: "kernel", name: "k", pid: 0, tid: 7, ts: 1, dur: 1 }] }),
      "x",
    );
    expect(kineto.meta.devices).toEqual([{ index: 0, name: "NVIDIA H100", memoryBytes: 85017493504, smCount: 132, computeMajor: 9, computeMinor: 0 }]);
  });
});

describe("values a broken producer writes", () => {
  const K = (extra: Record<string, unknown>, args: Record<string, unknown> = {}) => ({ ph: "X", cat: "kernel", name: "k", pid: 0, tid: 7, ts: 10, dur: 2, ...extra, args: { correlation: 3, ...args } });
  const launch = { ph: "X", cat: "cuda_runtime", name: "cudaLaunchKernel", pid: 1, tid: 1, ts: 5, dur: 1, args: { correlation: 3 } };

  test("an id that is not a whole number is dropped from its event, counted and named (it crashed the merge: correlation 490.5)", () => {
    const t = parseTrace(JSON.stringify({ traceEvents: [launch, K({}, { correlation: 490.5 }), K({ name: "k2" }, { "External id": -2 })] }), "x");
    expect(t.gpu.map((g) => g.correlation)).toEqual([undefined, 3]);
    expect(t.gpu[1]!.externalId).toBeUndefined();
    expect(t.warnings).toEqual(['ignored 2 ids that are not whole numbers ≥ 0 (the events are kept without them): 1 correlation not a whole number (e.g. 490.5 on kernel "k"), 1 External id not a whole number (e.g. -2 on kernel "k2")']);
    const report = analyze(t, { path: "x" });
    expect(report.gpu?.kernels.count).toBe(2);
  });

  test("absurd times are ignored with the event named: no figure becomes Infinity or NaN (a 1e20 µs memcpy crashed the Markdown)", () => {
    const copy = { ph: "X", cat: "gpu_memcpy", name: "Memcpy HtoD (Pageable -> Device)", pid: 0, tid: 7, ts: 12, dur: 1e20, args: { bytes: 1024 } };
    const far = K({ ts: 1.5e308 });
    const t = parseTrace(JSON.stringify({ traceEvents: [launch, K({}), copy, far] }), "x");
    expect(t.gpu.map((g) => g.kind)).toEqual(["kernel"]);
    expect(t.warnings).toEqual(['ignored 2 malformed events: 2 events with an impossible time (e.g. gpu_memcpy "Memcpy HtoD (Pageable -> Device)": dur 100000000000000000000 µs)']);
  });

  test("a missing or odd ph / cat is named as such, never as `undefined` or `[object Object]`", () => {
    const t = parseTrace(
      JSON.stringify({ traceEvents: [K({}), { name: "no ph", ts: 1 }, K({ ph: { a: 1 } }), K({ cat: undefined }), K({ cat: ["x"] }), K({ ph: 7 })] }),
      "x",
    );
    expect(t.warnings).toEqual(["ignored events of unknown kinds: events without ph ×1, ph an object ×1, X events without cat ×1, cat an array ×1, ph 7 ×1"]);
  });

  test("a trace whose only event lacks cat says so (it was called 'not a complete event')", () => {
    expect(() => parseTrace(JSON.stringify({ traceEvents: [{ ph: "X", name: "k", ts: 1, dur: 2, pid: 1, tid: 1 }] }), "t.json")).toThrow(
      "t.json: the trace has no usable events: of its 1 entries, 1 X events without cat; check that the profiled code ran inside the profiler",
    );
  });
});

describe("progress", () => {
  test("a .json.gz reports decompressed JSON and events, its percentage by the compressed file read (it showed nothing: 21 MB compressed was under the threshold)", async () => {
    // ~8 MB of JSON that compresses to far less
    const ev = (i: number) => ({ ph: "X", cat: "cpu_op", name: "aten::mm", pid: 1, tid: 1, ts: i, dur: 0.5 });
    const json = JSON.stringify({ traceEvents: Array.from({ length: 100_000 }, (_, i) => ev(i)) });
    const path = join(dir, "progress.json.gz");
    writeFileSync(path, Bun.gzipSync(new TextEncoder().encode(json)));
    const compressed = readFileSync(path).length;
    const lines: string[] = [];
    const t = await readTrace(path, { progressLine: (l) => lines.push(l), progressEveryMs: 0, progressMinBytes: 1 << 20 });
    expect(t.spans.length).toBe(100_000);
    expect(lines.length).toBeGreaterThan(0);
    const last = lines[lines.length - 1]!;
    expect(last).toMatch(new RegExp(`^reading ${path}: \\d+ MB of JSON \\(\\d+ % of the compressed file\\), [\\d,]+ events, [\\d.]+ s$`));
    const mb = Number(/: (\d+) MB of JSON/.exec(last)![1]);
    expect(mb * 1048576).toBeGreaterThan(compressed * 4); // the decompressed size, not the file's
  });
});
