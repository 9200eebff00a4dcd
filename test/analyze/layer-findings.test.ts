// Findings that name layers: `uneven_layers` (one instance of a repeated layer far slower than its
// siblings) on the real CPU fixtures and on hand-made traces, and the launch-bound finding naming
// the layer pattern that launches most kernels. The hand-made traces are built in code for unit
// tests; they are not recordings.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { analyze } from "../../src/analyze/index.ts";
import { readTrace } from "../../src/trace/read.ts";
import { emptyTrace, type Trace } from "../../src/trace/model.ts";

setDefaultTimeout(60_000);

const US = 1000;
const TORCH_CPU = join(import.meta.dir, "..", "fixtures", "torch_cpu");

describe("uneven_layers", () => {
  test("the real CNN trace: the widened block is named, with its excess over the median block", async () => {
    const r = analyze(await readTrace(join(TORCH_CPU, "cnn.kineto.json.gz"), { progress: false }), { path: "cnn" });
    const f = r.findings.find((x) => x.rule === "uneven_layers")!;
    expect(f).toBeDefined();
    expect(f.evidence).toMatchObject({ class: "ConvBlock", instances: 4, slowest: "Sequential_0.ConvBlock_2", basis: "cpu" });
    const ev = f.evidence as { slowest_ms: number; median_ms: number; excess_ms: number; ratio: number };
    expect(ev.excess_ms).toBeCloseTo(ev.slowest_ms - ev.median_ms, 2);
    expect(ev.ratio).toBeGreaterThan(2);
    expect(f.title.startsWith("Layer `Sequential_0.ConvBlock_2` (ConvBlock) takes ")).toBe(true);
    expect(f.suggestions[1]).toContain("`Sequential_0.ConvBlock_2.Conv2d_5` (Conv2d)");
  });

  /** Three steps of `model` calling `children` in order, each [path, class, µs], the first one's path `Seq`. */
  function sequence(children: [string, string, number][]): Trace {
    const tr = emptyTrace("inferscope");
    let t = 0;
    for (let step = 0; step < 3; step++) {
      const s0 = t;
      tr.spans.push({ cat: "module", name: "Seq", moduleType: "Sequential", start: t, end: 0, pid: 1, tid: 1 });
      const root = tr.spans[tr.spans.length - 1]!;
      for (const [path, type, us] of children) {
        tr.spans.push({ cat: "module", name: path, moduleType: type, start: t, end: t + us * US, pid: 1, tid: 1 });
        t += us * US;
      }
      root.end = t;
      tr.spans.push({ cat: "scope", name: "step", start: s0, end: t, pid: 1, tid: 1 });
    }
    return tr;
  }

  /** 4 blocks per step, block `slowIdx` taking `slowNs`, the others 100 µs. */
  const blocks = (slowNs: number, slowIdx = 2): Trace => sequence([0, 1, 2, 3].map((i): [string, string, number] => [`layers.${i}`, "Block", i === slowIdx ? slowNs / US : 100]));

  test("fires at 2× the median and an excess ≥ 5 % of the step, not below", () => {
    const fired = (slowNs: number) => analyze(blocks(slowNs), { path: "x" }).findings.filter((x) => x.rule === "uneven_layers");
    const f = fired(400 * US);
    expect(f.length).toBe(1);
    expect(f[0]!.evidence).toMatchObject({ slowest: "layers.2", slowest_ms: 1.2, median_ms: 0.3, ratio: 4, excess_ms: 0.9, typical: "layers.0" });
    expect(f[0]!.impact_ms).toBe(0.9);
    expect(fired(190 * US)).toEqual([]); // 1.9× the median
    expect(fired(100 * US)).toEqual([]); // even layers
  });

  test("a plain Sequential's ReLUs (one after each conv, each on another size) are not repeats: no finding", () => {
    // examples/cpu/cnn_resize.py's model: the first ReLU sees the largest activations
    const convs: [string, string, number][] = [
      ["0", "Conv2d", 2000], ["1", "ReLU", 3600], ["2", "MaxPool2d", 400],
      ["3", "Conv2d", 700], ["4", "ReLU", 900], ["5", "MaxPool2d", 100],
      ["6", "Conv2d", 400], ["7", "ReLU", 30], ["8", "AdaptiveAvgPool2d", 200],
    ];
    const r = analyze(sequence(convs), { path: "x" });
    expect(r.findings.map((f) => f.rule)).not.toContain("uneven_layers");
    // the same ReLUs as a stack (consecutive, one class) are repeats, and the first is named
    const stacked = analyze(sequence([["0", "ReLU", 3600], ["1", "ReLU", 900], ["2", "ReLU", 30], ["3", "Conv2d", 2000]]), { path: "x" });
    expect(stacked.findings.find((f) => f.rule === "uneven_layers")!.evidence).toMatchObject({ class: "ReLU", instances: 3, slowest: "0", median_ms: 2.7 });
  });

  test("inside a stack of blocks, the same child of each block is compared: the slow one is named", () => {
    // layers.0 … layers.3, each an attention (1 ms) and an mlp whose act is 100 µs, 600 µs in layers.2
    // (the blocks: 1.1 ms, 1.6 ms in layers.2, under 2× the median)
    const kids: [string, string, number][] = [];
    for (let i = 0; i < 4; i++) {
      kids.push([`layers.${i}.attn`, "Attention", 1000], [`layers.${i}.mlp.act`, "GELU", i === 2 ? 600 : 100]);
    }
    // the blocks and their mlps as spans around their children
    const tr = sequence(kids);
    const blocks: typeof tr.spans = [];
    for (const s of tr.spans) {
      const m = /^layers\.(\d)\.(attn|mlp\.act)$/.exec(s.name);
      if (!m) continue;
      if (m[2] === "mlp.act") blocks.push({ ...s, name: `layers.${m[1]}.mlp`, moduleType: "MLP" });
      if (m[2] === "attn") blocks.push({ ...s, name: `layers.${m[1]}`, moduleType: "Block" });
    }
    for (const b of blocks.filter((x) => x.moduleType === "Block")) {
      const act = tr.spans.find((x) => x.name === `${b.name}.mlp.act` && x.start >= b.end && x.start < b.end + 2000 * US)!;
      b.end = act.end;
    }
    tr.spans.push(...blocks);
    tr.spans.sort((a, b) => a.start - b.start || b.end - a.end);
    const f = analyze(tr, { path: "x" }).findings.find((x) => x.rule === "uneven_layers")!;
    // the mlp and its act take the same time: the outer one is named, its act in the suggestions
    expect(f.evidence).toMatchObject({ class: "MLP", instances: 4, slowest: "layers.2.mlp", median_ms: 0.3, slowest_ms: 1.8, typical: "layers.0.mlp" });
    expect(f.suggestions[1]).toContain("`layers.2.mlp.act` (GELU)");
  });
});

describe("launch_bound names the layer that launches most kernels", () => {
  /** 300 kernels of 2 µs launched every 20 µs, from attn (2/3) and mlp (1/3) in 2 layers. */
  function launchBound(withModules: boolean): Trace {
    const tr = emptyTrace("inferscope");
    let corr = 1;
    const n = 300;
    tr.spans.push({ cat: "python", name: "forward", start: 0, end: n * 20 * US, pid: 1, tid: 1, file: "model.py", line: 3 });
    for (let i = 0; i < n; i++) {
      const at = i * 20 * US;
      const layer = i < n / 2 ? 0 : 1;
      const part = i % 3 === 2 ? "mlp" : "attn";
      if (withModules) tr.spans.push({ cat: "module", name: `layers.${layer}.${part}`, moduleType: part, start: at, end: at + 15 * US, pid: 1, tid: 1 });
      tr.api.push({ api: "runtime", kind: "launch", name: "cudaLaunchKernel", start: at + 5 * US, end: at + 8 * US, pid: 1, tid: 1, correlation: corr });
      tr.gpu.push({ kind: "kernel", name: "k", start: at + 10 * US, end: at + 12 * US, device: 0, stream: 7, correlation: corr++ });
    }
    return tr;
  }

  test("with modules: a suggestion and the evidence name `layers.*.attn` and its share", () => {
    const f = analyze(launchBound(true), { path: "x" }).findings.find((x) => x.rule === "launch_bound")!;
    expect(f).toBeDefined();
    expect(f.evidence.top_layer).toEqual({ pattern: "layers.*.attn", instances: 2, kernels: 200, pct_of_kernels: 66.7 });
    expect(f.suggestions).toContain("Start with the layer that launches the most: `layers.*.attn` launches 66.7 % of the kernels (200 of 300, over 2 instances): compile or fuse it first.");
  });

  test("without modules: the finding is the same minus the layer", () => {
    const f = analyze(launchBound(false), { path: "x" }).findings.find((x) => x.rule === "launch_bound")!;
    expect(f.evidence.top_layer).toBeUndefined();
    expect(f.suggestions.length).toBe(3);
  });
});
