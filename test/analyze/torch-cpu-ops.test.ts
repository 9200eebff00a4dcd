// torch_cpu_ops on real CPU traces (torch.profiler, test/fixtures/diff and torch_cpu): the MLP run
// 8 times at batch 1 per step had no finding before ("nothing stands out") though torch ops were
// all of its CPU time.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { analyze } from "../../src/analyze/index.ts";
import { readTrace } from "../../src/trace/read.ts";
import { emptyTrace, type Trace } from "../../src/trace/model.ts";
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

  /** An InferScope trace: `threads` thread(s) each running `<module>` with 50 large aten::addmm (2 ms each), torch at `torchThreads` intra-op threads on `cpus` CPUs. */
  function gemms(torchThreads: number, cpus: number, threads = 1): Trace {
    const tr = emptyTrace("inferscope");
    tr.meta.cpus = cpus;
    tr.meta.processes = [{ pid: 1, role: "main", label: "main", traced: true, torchThreads, cpus }];
    for (let tid = 1; tid <= threads; tid++) {
      tr.spans.push({ cat: "python", name: "<module>", file: "infer.py", line: 1, start: 0, end: 101_000_000, pid: 1, tid });
      for (let i = 0; i < 50; i++) tr.spans.push({ cat: "cpu_op", name: "aten::addmm", start: 1_000_000 + i * 2_000_000, end: 3_000_000 + i * 2_000_000, pid: 1, tid });
    }
    return tr;
  }
  const compute = (tr: Trace) => analyze(tr, { path: "x", window: "all" }).findings.find((f) => f.rule === "torch_cpu_ops")!;

  test("large ops on fewer intra-op threads than CPUs, one thread running them: torch.set_num_threads(CPUs) by name", () => {
    const f = compute(gemms(1, 8));
    expect(f.suggestions[0]).toStartWith(
      "Give the ops the idle cores: torch runs 1 intra-op thread on 8 CPUs (torch.get_num_threads()), and these ops are large (`aten::addmm` 2 ms a call): they split across cores, torch.set_num_threads(8)",
    );
    expect(f.evidence).toMatchObject({ torch_threads: 1, cpus: 8, small_ops: false });
    // every core already, or several threads running ops (more would oversubscribe): the general advice
    expect(compute(gemms(8, 8)).suggestions[0]).toStartWith("Match the threads and the precision to the work: torch runs 8 intra-op threads here on 8 CPUs (torch.get_num_threads())");
    expect(compute(gemms(1, 8, 2)).suggestions[0]).toStartWith("Match the threads and the precision to the work: torch runs 1 intra-op thread here on 8 CPUs");
  });

  test("a GPU trace: not this rule's (its CPU ops are launch overhead, launch_bound's)", async () => {
    expect(await finding("kineto/llama_tiny_generate.kineto.json.gz")).toBeUndefined();
  });
});
