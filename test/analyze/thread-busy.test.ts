// Per-thread busy time (report cpu.threads): the union of a thread's code spans, CUDA calls and
// syncs, in hand-made traces built in code. Scopes do not count; a thread known only from its CUDA
// calls is listed; a call without a thread (tid < 0) is left out.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { analyze } from "../../src/analyze/index.ts";
import { emptyTrace, type ApiCall } from "../../src/trace/model.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

const MS = 1_000_000;
const call = (tid: number, start: number, end: number, correlation: number): ApiCall => ({ api: "runtime", kind: "launch", name: "cudaLaunchKernel", start: start * MS, end: end * MS, pid: 7, tid, correlation });

describe("thread busy time", () => {
  test("code spans, CUDA calls and syncs of a thread are merged; scopes are not counted", () => {
    const tr = emptyTrace("inferscope");
    tr.spans.push(
      { cat: "scope", name: "step", start: 0, end: 20 * MS, pid: 7, tid: 1 },
      { cat: "python", name: "main", file: "infer.py", line: 1, start: 0, end: 10 * MS, pid: 7, tid: 1 },
      { cat: "cpu_op", name: "aten::mm", start: 1 * MS, end: 2 * MS, pid: 7, tid: 1 },
      { cat: "scope", name: "idle", start: 0, end: 5 * MS, pid: 7, tid: 3 },
    );
    // thread 1: a call past the end of main; thread 2: two overlapping calls and nothing else
    tr.api.push(call(2, 0, 1, 1), call(2, 0.5, 3, 2), call(1, 9, 12, 3), call(-1, 30, 40, 4));
    tr.syncs.push({ type: "device", start: 15 * MS, end: 16 * MS, pid: 7, tid: 1 });
    tr.threadNames.set(1, "MainThread");
    const threads = analyze(tr, { path: "x", window: "all" }).cpu.threads;
    expect(threads.map((t) => [t.tid, t.name, t.pid, t.busy_ms, t.python_ms, t.spans])).toEqual([
      [1, "MainThread", 7, 13, 10, 3],
      [2, "thread 2", 7, 3, 0, 0],
      [3, "thread 3", 7, 0, 0, 1],
    ]);
  });

  test("without Python spans python_ms is not measured (null)", () => {
    const tr = emptyTrace("kineto");
    tr.spans.push({ cat: "cpu_op", name: "aten::mm", start: 0, end: 4 * MS, pid: 7, tid: 1 });
    tr.api.push(call(1, 3, 6, 1));
    const threads = analyze(tr, { path: "x", window: "all" }).cpu.threads;
    expect(threads.map((t) => [t.tid, t.busy_ms, t.python_ms])).toEqual([[1, 6, null]]);
  });
});
