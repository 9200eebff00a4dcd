// A CUDA stream belongs to one process: the same stream id in two processes of a run is two
// streams (issue 18, GPU collection in every process).
import { expect, setDefaultTimeout, test } from "bun:test";
import { byStream } from "../../src/analyze/gpu-work.ts";
import type { GpuOp } from "../../src/trace/model.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

const k = (start: number, stream: number, pid?: number): GpuOp => ({ kind: "kernel", name: "k", start, end: start + 5, device: 0, stream, ...(pid !== undefined ? { pid } : {}) });

test("ops of two processes on stream 7 are two streams; ops without a pid (Kineto) one per stream id", () => {
  expect(byStream([k(0, 7, 10), k(10, 7, 20), k(20, 7, 10), k(30, 9, 10)])).toEqual([[0, 2], [1], [3]]);
  expect(byStream([k(0, 7), k(10, 7), k(20, 9)])).toEqual([[0, 1], [2]]);
});
