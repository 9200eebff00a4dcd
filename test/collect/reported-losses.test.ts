// Figures the collectors compute about their own losses reach the trace: a sampler that fell
// behind, a Python or CUPTI file cut off inside a record (the script killed mid-write).
import { expect, setDefaultTimeout, test } from "bun:test";
import { assembleTrace } from "../../src/collect/assemble.ts";
import { readPythonEvents } from "../../src/collect/python-events.ts";
import { samplerWarning, type SamplerSummary } from "../../src/collect/sampler.ts";
import { KEYS, type Config } from "../../src/config/keys.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

const config = Object.fromEntries(Object.entries(KEYS).map(([k, d]) => [k, d.default])) as unknown as Config;
const child = { pid: 4242, exitCode: 0, signalsReceived: [] };

/** One record of the tracer's file: <4s I Q> "ISC1", type, payload length; then the payload. */
function record(type: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(16 + payload.length);
  const dv = new DataView(out.buffer);
  out.set(new TextEncoder().encode("ISC1"), 0);
  dv.setUint32(4, type, true);
  dv.setBigUint64(8, BigInt(payload.length), true);
  out.set(payload, 16);
  return out;
}

const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
};

const end = record(3, new TextEncoder().encode(JSON.stringify({ pid: 4242, tStart: 0, tEnd: 1, dropped: 0, threads: [] })));
const chunk = record(2, new Uint8Array(16 + 8 * 2)); // tid 0, no words: header only, padded

test("a Python events file cut off inside its last record: the bytes lost are counted and said", () => {
  const killed = readPythonEvents(concat(chunk, chunk.subarray(0, 20)), { pid: 4242 });
  expect(killed.truncatedBytes).toBe(20);
  expect(killed.warnings).toEqual([
    "the Python tracer's final record is missing (the process was killed, or crashed): the Python events after its last periodic flush (at most about a second) are lost (the file ends inside a record: 20 bytes cut off)",
  ]);
  const after = readPythonEvents(concat(end, chunk.subarray(0, 20)), { pid: 4242 });
  expect(after.warnings).toEqual(["python events: the file ends inside a record after the final one (20 bytes cut off); the events in it are lost"]);
  expect(readPythonEvents(end, { pid: 4242 }).warnings).toEqual([]);
});

test("the trace says what the Python tracer and the sampler did, and warns when the sampler fell behind", () => {
  const python = readPythonEvents(end, { pid: 4242 });
  const behind: SamplerSummary = { intervalMs: 10, samples: 30, due: 100, meanSampleUs: 25000.5, maxSampleUs: 41000 };
  const t = assembleTrace({
    config,
    command: ["python3", "x.py"],
    child,
    processes: [{ pid: 4242, info: { pid: 4242, role: "main", label: "main", traced: true }, recording: python }],
    counters: [],
    sampler: behind,
    gpuPlan: null,
    gpu: { status: "cupti", records: { gpu: [], api: [], syncs: [], memory: [], dropped: 0, incomplete: 0, info: ["flushed"], devices: [], empty: true, truncatedBytes: 24 } },
    sampleIntervalMs: 10,
  });
  expect(t.meta.sampler).toEqual(behind);
  expect(t.meta.pythonTracer).toMatchObject({ unmatchedEnds: 0, unfinished: 0, truncatedBytes: 0 });
  expect(t.warnings).toEqual([
    "the /proc sampler took 30 samples where 100 were due (every 10 ms; the slowest took 41.0 ms): the memory, CPU and NUMA tracks are coarser than asked; raise --sample-interval-ms or --numa-maps-interval-ms",
  ]); // a cut CUPTI file is said by collectGpu, for its process (test/collect/gpu-plan.test.ts)
  expect(samplerWarning({ ...behind, samples: 50 })).toBeNull(); // half of what was due: kept up
  expect(samplerWarning({ ...behind, samples: 3, due: 9 })).toBeNull(); // too short a run to say
});
