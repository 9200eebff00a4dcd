// The per-layer (nn.Module) breakdown: on real CPU torch.profiler traces of an encoder, a decoder,
// a CNN and a TorchScript encoder, each with one widened layer (the acceptance: the layers add up
// to the step within 2 %, the widened layer is on top), and exact figures on a hand-made GPU trace.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { analysisContext, buildReport } from "../../src/analyze/index.ts";
import type { ModulesSection, Report } from "../../src/analyze/report-types.ts";
import { pathPattern } from "../../src/analyze/modules.ts";
import { readTrace } from "../../src/trace/read.ts";
import { emptyTrace, type Trace } from "../../src/trace/model.ts";
import { reportJson } from "../../src/report/json.ts";
import { renderReport } from "../../src/report/render.ts";

setDefaultTimeout(60_000);

const TORCH_CPU = join(import.meta.dir, "..", "fixtures", "torch_cpu");

async function layers(file: string): Promise<ModulesSection> {
  const trace = await readTrace(join(TORCH_CPU, file), { progress: false });
  return buildReport(analysisContext(trace, 10_000), file).modules!;
}

describe("real CPU traces: the layers add up to the step, the widened layer is on top", () => {
  // In the TorchScript trace the profiler's first record_function imports a module of its own
  // (`_maybe_cupti_monitor`, 15 ms) inside the first step: 2.7 % of the step outside any module.
  for (const [file, slowed, cls, within] of [
    ["encoder.kineto.json.gz", "Block_2", "Block", 0.02],
    ["decoder.kineto.json.gz", "Encoder_0.Block_2", "Block", 0.02],
    ["cnn.kineto.json.gz", "Sequential_0.ConvBlock_2", "ConvBlock", 0.02],
    ["encoder_script.kineto.json.gz", "2", "Block", 0.03],
  ] as const) {
    test(file, async () => {
      const m = await layers(file);
      expect(m.step.scope).toBe("step");
      expect(m.step.count).toBe(2);
      // every module's self time, summed: the time inside modules, which is the step's within 2 %
      const selfSum = m.top.reduce((s, r) => s + r.self_ms, 0);
      expect(m.top.length).toBe(m.count);
      expect(selfSum).toBeCloseTo(m.in_modules_ms, 6);
      expect(Math.abs(m.in_modules_ms - m.step.ms) / m.step.ms).toBeLessThan(within);
      // the top row (by self time) belongs to the widened layer
      expect(m.top[0]!.path.startsWith(`${slowed}.`)).toBe(true);
      // and among the instances of its class, it is the slowest
      const c = m.types.find((x) => x.type === cls)!;
      expect(c.instances).toBe(4);
      expect(c.spread.basis).toBe("cpu");
      expect(c.spread.slowest).toBe(slowed);
      expect(c.spread.max_ms).toBeGreaterThan(1.5 * c.spread.median_ms);
      // no GPU ops: the GPU columns are not measured
      expect(m.top[0]!.kernel_ms).toBeNull();
      expect(m.top[0]!.copies).toBeNull();
    });
  }
});

/** Net(layers.0 Block(fc Linear), layers.1 Block(fc Linear)) over [0, 1000), kernels from inside. */
function gpuTrace(): Trace {
  const tr = emptyTrace("inferscope");
  const mod = (name: string, type: string, start: number, end: number) => tr.spans.push({ cat: "module", name, moduleType: type, start, end, pid: 1, tid: 1 });
  tr.spans.push({ cat: "scope", name: "step", start: 0, end: 1100, pid: 1, tid: 1 });
  mod("Net", "Net", 0, 1000);
  mod("layers.0", "Block", 100, 400);
  mod("layers.0.fc", "Linear", 150, 300);
  mod("layers.1", "Block", 500, 900);
  mod("layers.1.fc", "Linear", 550, 850);
  let corr = 1;
  const launch = (at: number, kind: "kernel" | "memcpy", name: string, ns: number, bytes?: number) => {
    tr.api.push({ api: "runtime", kind: kind === "kernel" ? "launch" : "memcpy", name: kind === "kernel" ? "cudaLaunchKernel" : "cudaMemcpyAsync", start: at, end: at + 5, pid: 1, tid: 1, correlation: corr });
    const gs = 2000 + corr * 1000;
    tr.gpu.push({ kind, name, start: gs, end: gs + ns, device: 0, stream: 7, correlation: corr++, ...(bytes !== undefined ? { bytes } : {}) });
  };
  launch(160, "kernel", "gemm", 400);
  launch(170, "kernel", "gemm", 400);
  launch(350, "kernel", "add", 50); // in layers.0, outside fc
  launch(600, "kernel", "gemm", 900);
  launch(50, "memcpy", "Memcpy HtoD (Pageable -> Device)", 30, 1 << 20); // in Net only
  tr.api.push({ api: "runtime", kind: "sync", name: "cudaStreamSynchronize", start: 860, end: 880, pid: 1, tid: 1, correlation: 99 });
  return tr;
}

describe("GPU work per layer (hand-made trace)", () => {
  const r = buildReport(analysisContext(gpuTrace()), "x");
  const m = r.modules!;
  const row = (path: string) => m.top.find((x) => x.path === path)!;

  test("kernels counted in every module on the launch stack; self for the innermost", () => {
    expect(row("Net")).toMatchObject({ kernel_ms: 0.00175, kernel_self_ms: 0, kernels: 4, pct_of_kernels: 100 });
    expect(row("layers.0")).toMatchObject({ kernel_ms: 0.00085, kernel_self_ms: 0.00005, kernels: 3 });
    expect(row("layers.0.fc")).toMatchObject({ kernel_ms: 0.0008, kernel_self_ms: 0.0008, kernels: 2, top_kernel: { name: "gemm", ms: 0.0008 } });
    expect(row("layers.1.fc").pct_of_kernels).toBeCloseTo((900 / 1750) * 100, 9);
    expect(row("layers.0").top_kernel).toEqual({ name: "gemm", ms: 0.0008 });
    expect(row("Net").copies).toEqual({ count: 1, bytes: 1 << 20, ms: 0.00003 });
    expect(row("layers.0").copies).toEqual({ count: 0, bytes: 0, ms: 0 });
    expect(row("layers.1").syncs).toEqual({ count: 1, blocked_ms: 0.00002 });
    expect(row("Net").syncs).toEqual({ count: 1, blocked_ms: 0.00002 });
    expect(row("layers.0").syncs).toEqual({ count: 0, blocked_ms: 0 });
  });

  test("CPU self, total, step and shares", () => {
    expect(m.in_modules_ms).toBe(0.001);
    expect(m.step).toEqual({ scope: "step", count: 1, ms: 0.0011 });
    expect(row("Net")).toMatchObject({ path: "Net", type: "Net", calls: 1, self_ms: 0.0003, total_ms: 0.001 });
    expect(row("layers.1")).toMatchObject({ type: "Block", self_ms: 0.0001, total_ms: 0.0004 });
    expect(row("layers.1").pct_of_step).toBeCloseTo((400 / 1100) * 100, 9);
    // the GPU is idle most of this window: rows by CPU self time
    expect(m.sort).toBe("cpu_self");
    // by self time, then total time: Net and layers.1.fc 300 ns, layers.0 and layers.0.fc 150 ns
    expect(m.top.map((x) => x.path)).toEqual(["Net", "layers.1.fc", "layers.0", "layers.0.fc", "layers.1"]);
  });

  test("classes with several instances: totals and the spread between instances (by kernel time when they launched kernels)", () => {
    expect(m.types.map((c) => c.type)).toEqual(["Block", "Linear"]);
    expect(m.types[0]).toMatchObject({
      instances: 2,
      calls: 2,
      total_ms: 0.0007,
      kernel_ms: 0.00175,
      spread: { basis: "gpu", min_ms: 0.00085, median_ms: 0.000875, max_ms: 0.0009, slowest: "layers.1" },
      // the two blocks of the stack layers.* are repeats, and so is the fc of each
      repeats: { instances: 2, basis: "gpu", min_ms: 0.00085, median_ms: 0.000875, max_ms: 0.0009, slowest: "layers.1" },
    });
    expect(m.types[1]!.repeats).toEqual({ instances: 2, basis: "gpu", min_ms: 0.0008, median_ms: 0.00085, max_ms: 0.0009, slowest: "layers.1.fc" });
  });

  test("the JSON section's keys come in the contract's order", () => {
    const json = reportJson(r);
    const section = JSON.parse(json).modules;
    expect(Object.keys(section)).toEqual(["count", "in_modules_ms", "outside_step_ms", "step", "sort", "top", "types"]);
    expect(Object.keys(section.top[0])).toEqual([
      "path", "type", "calls", "self_ms", "total_ms", "pct_of_step", "kernel_ms", "kernel_self_ms", "pct_of_kernels", "kernels", "copies", "syncs", "top_kernel",
    ]);
    expect(Object.keys(section.types[0])).toEqual(["type", "instances", "calls", "self_ms", "total_ms", "pct_of_step", "kernel_ms", "spread", "repeats"]);
    expect(Object.keys(section.types[0].repeats)).toEqual(["instances", "basis", "min_ms", "median_ms", "max_ms", "slowest"]);
    expect(json.indexOf('"modules"')).toBeGreaterThan(json.indexOf('"scopes"'));
    expect(json.indexOf('"modules"')).toBeLessThan(json.indexOf('"findings"'));
  });
});

describe("classes: only repeats are compared", () => {
  test("a plain Sequential's convs and ReLUs (each at its own place, on another size): no slowest repeat, in the JSON and the table", () => {
    // examples/cpu/cnn_resize.py's model as `inferscope run` records it: the first ReLU sees the largest activations
    const tr = emptyTrace("inferscope");
    const kids: [string, string, number][] = [["0", "Conv2d", 2000], ["1", "ReLU", 3600], ["2", "MaxPool2d", 400], ["3", "Conv2d", 700], ["4", "ReLU", 900], ["5", "MaxPool2d", 100], ["6", "Conv2d", 400], ["7", "ReLU", 30]];
    let t = 0;
    tr.spans.push({ cat: "module", name: "Sequential", moduleType: "Sequential", start: 0, end: 8130_000, pid: 1, tid: 1 });
    for (const [path, type, us] of kids) {
      tr.spans.push({ cat: "module", name: path, moduleType: type, start: t, end: t + us * 1000, pid: 1, tid: 1 });
      t += us * 1000;
    }
    const r = buildReport(analysisContext(tr), "x");
    const relu = r.modules!.types.find((c) => c.type === "ReLU")!;
    expect(relu.spread).toMatchObject({ min_ms: 0.03, median_ms: 0.9, max_ms: 3.6, slowest: "1" });
    expect(relu.repeats).toBeNull();
    expect(r.modules!.types.every((c) => c.repeats === null)).toBe(true);
    const md = renderReport(r, "md");
    expect(md).toContain("| `ReLU ×3` | 3 | 3 | 4.530 | 56 % | 0.030 / 0.900 / 3.600 (CPU time) | — (no repeats: each instance at its own place) |");
    expect(md).not.toContain("× the median");
  });

  test("Kineto names: an attention's qkv and output projections (consecutive Linear leaves) are not a stack; the same Linear of each block is", async () => {
    const m = await layers("decoder.kineto.json.gz");
    const linear = m.types.find((c) => c.type === "Linear")!;
    expect(linear.instances).toBe(17);
    expect(linear.repeats).toMatchObject({ instances: 4, basis: "cpu" });
    expect(linear.repeats!.slowest).toMatch(/^Encoder_0\.Block_\d\.(Attention|MLP)_\d\.Linear_\d+$/);
    expect(m.types.find((c) => c.type === "Block")!.repeats).toMatchObject({ instances: 4, slowest: "Encoder_0.Block_2" });
  });
});

describe("edge cases", () => {
  test("a module nested in itself counts once in its total; a class nested in itself once in the class total", () => {
    const tr = emptyTrace("inferscope");
    tr.spans.push({ cat: "module", name: "seq", moduleType: "Sequential", start: 0, end: 100, pid: 1, tid: 1 });
    tr.spans.push({ cat: "module", name: "seq.0", moduleType: "Sequential", start: 10, end: 60, pid: 1, tid: 1 });
    tr.spans.push({ cat: "module", name: "seq", moduleType: "Sequential", start: 20, end: 40, pid: 1, tid: 1 }); // re-entered
    const m = buildReport(analysisContext(tr), "x").modules!;
    const seq = m.top.find((x) => x.path === "seq")!;
    expect(seq.calls).toBe(2);
    expect(seq.total_ms).toBe(0.0001);
    expect(seq.self_ms).toBe(0.00007); // 50 outside seq.0, + 20 when re-entered
    expect(m.types[0]).toMatchObject({ type: "Sequential", instances: 2, total_ms: 0.0001 });
  });

  test("with a step scope, module calls outside its instances (a warm-up) are not in the rows, and their time is said apart", () => {
    const tr = gpuTrace(); // step [0, 1100) holding Net; now a warm-up call of Net before it, launching a kernel
    tr.spans.push({ cat: "module", name: "Net", moduleType: "Net", start: -5000, end: -1000, pid: 1, tid: 1 });
    tr.spans.push({ cat: "module", name: "layers.0", moduleType: "Block", start: -4000, end: -2000, pid: 1, tid: 1 });
    tr.api.push({ api: "runtime", kind: "launch", name: "cudaLaunchKernel", start: -3000, end: -2995, pid: 1, tid: 1, correlation: 500 });
    tr.gpu.push({ kind: "kernel", name: "warmup_gemm", start: 90_000, end: 95_000, device: 0, stream: 7, correlation: 500 });
    const m = buildReport(analysisContext(tr), "x").modules!;
    expect(m.outside_step_ms).toBe(0.004);
    expect(m.in_modules_ms).toBe(0.001);
    expect(m.step).toEqual({ scope: "step", count: 1, ms: 0.0011 });
    const net = m.top.find((x) => x.path === "Net")!;
    expect(net).toMatchObject({ calls: 1, self_ms: 0.0003, total_ms: 0.001, kernels: 4, kernel_ms: 0.00175, pct_of_kernels: 100 });
    expect(m.top.find((x) => x.path === "layers.0")).toMatchObject({ calls: 1, total_ms: 0.0003 });
    expect(m.types[0]).toMatchObject({ type: "Block", calls: 2, total_ms: 0.0007 });
  });

  test("no module calls: the section is null (not measured)", () => {
    const tr = emptyTrace("inferscope");
    tr.spans.push({ cat: "python", name: "main", start: 0, end: 10, pid: 1, tid: 1 });
    const r: Report = buildReport(analysisContext(tr), "x");
    expect(r.modules).toBeNull();
  });

  test("path patterns: indices and Kineto instance numbers become *", () => {
    expect(pathPattern("model.layers.3.self_attn")).toBe("model.layers.*.self_attn");
    expect(pathPattern("Encoder_0.Block_2.MLP_2.Linear_10")).toBe("Encoder_*.Block_*.MLP_*.Linear_*");
    expect(pathPattern("lm_head")).toBe("lm_head");
  });
});
