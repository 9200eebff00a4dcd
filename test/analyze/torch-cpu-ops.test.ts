// torch_cpu_ops on real CPU traces (torch.profiler, test/fixtures/diff and torch_cpu): the MLP run
// 8 times at batch 1 per step had no finding before ("nothing stands out") though torch ops were
// all of its CPU time.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { analyze } from "../../src/analyze/index.ts";
import { readTrace } from "../../src/trace/read.ts";
import { ROOT } from "../helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

async function finding(file: string) {
  const r = analyze(await readTrace(join(ROOT, "test/fixtures", file), { progress: false }), { path: file });
  return r.findings.find((f) => f.rule === "torch_cpu_ops");
}

describe("torch_cpu_ops", () => {
  test("batch 1 on the CPU: small ops, batching first, with the op's calls and the view ops' overhead", async () => {
    const f = (await finding("diff/mlp_cpu_batch1.kineto.json.gz"))!;
    expect(f.title).toBe("Torch ops on the CPU take 100 % of the CPU busy time: `aten::addmm` 58.3 % (960 calls, 25 µs each), `aten::t` 13.2 %, `aten::clamp_min` 11.1 %");
    expect(f.suggestions[0]).toBe(
      "Batch the inputs: `aten::addmm` ran 960 times, 25 µs each, and the ops 11520 times in all; view and metadata ops alone (aten::t, aten::transpose …) take 24.3 %, pure per-call overhead; every op call pays the dispatcher's fixed cost, so one call over a batch of N items (torch.stack the samples, one forward) costs far less than N calls.",
    );
    expect(f.suggestions[1]).toStartWith("Cut the per-op overhead: run under torch.inference_mode(), and compile the model");
    expect(f.evidence).toMatchObject({ op_calls: 11520, small_ops: true, view_ops_pct: 24.3, top_ops: [{ op: "aten::addmm", calls: 960, per_call_us: 25 }, { op: "aten::t" }, { op: "aten::clamp_min" }] });
  });

  test("a CNN's convolutions: large ops, threads and precision first", async () => {
    const f = (await finding("torch_cpu/cnn.kineto.json.gz"))!;
    expect(f.title).toStartWith("Torch ops on the CPU take 96.7 % of the CPU busy time: `aten::mkldnn_convolution` 80.6 %");
    expect(f.evidence.small_ops).toBe(false);
    expect(f.suggestions[0]).toStartWith("Match the threads and the precision to the work");
  });

  test("a GPU trace: not this rule's (its CPU ops are launch overhead, launch_bound's)", async () => {
    expect(await finding("kineto/llama_tiny_generate.kineto.json.gz")).toBeUndefined();
  });
});
