// autograd_on: the tracer's forward-pass counts (pythonTracer.forwards, src/tracer/inferscope/
// _modules.py) in hand-made traces built in code; the real tracer's counts are tested in
// test/run/modules.test.ts. A torch.profiler trace has no counts: no finding.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { analyze } from "../../src/analyze/index.ts";
import { emptyTrace, type Trace } from "../../src/trace/model.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

/** One Python call of 10 ms and the tracer's counts. */
function trace(forwards: unknown): Trace {
  const tr = emptyTrace("inferscope");
  tr.spans.push({ cat: "python", name: "main", file: "infer.py", line: 1, start: 0, end: 10_000_000, pid: 1, tid: 1 });
  tr.meta.pythonTracer = { backend: "sys.monitoring+c", forwards };
  return tr;
}
const finding = (forwards: unknown) => analyze(trace(forwards), { path: "x", window: "all" }).findings.find((f) => f.rule === "autograd_on");

describe("autograd_on", () => {
  test("fires from half of the forward passes with autograd on, naming the count and inference_mode", () => {
    const f = finding({ calls: 200, withGrad: 200 })!;
    expect(f.title).toBe("Autograd is on during inference: 200 of 200 forward passes ran with grad mode enabled and parameters that require grad");
    expect(f.evidence).toEqual({ forwards: 200, with_grad: 200, pct_with_grad: 100, model_ms: null });
    expect(f.suggestions[0]).toStartWith("Run inference under `with torch.inference_mode():` (or `torch.no_grad()`)");
    expect(f.suggestions[0]).toContain("`model.eval()` does not do this");
    expect(f.estimated_saving).toMatchObject({ ms: null, basis: "not estimated: the cost of recording the backward graph depends on the ops (per-op bookkeeping, tensors kept for backward)" });
    expect(finding({ calls: 10, withGrad: 5 })).toBeDefined();
    expect(finding({ calls: 10, withGrad: 4 })).toBeUndefined();
    expect(finding({ calls: 10, withGrad: 0 })).toBeUndefined();
  });

  test("no counts, or counts that make no sense: no finding", () => {
    for (const bad of [undefined, null, {}, { calls: 0, withGrad: 0 }, { calls: 3, withGrad: 4 }, { calls: 2.5, withGrad: 2 }, { calls: "9", withGrad: 9 }, { calls: 9, withGrad: -1 }]) {
      expect([bad, finding(bad)]).toEqual([bad, undefined]);
    }
  });
});
