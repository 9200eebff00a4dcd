// `inferscope analyze --format folded | speedscope`: the folded stacks round-trip (the totals
// rebuilt from the lines are the call tree's, the trace's GPU time and the hot-function table's),
// and the speedscope file validates against speedscope's published schema.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv from "ajv";
import draft6 from "ajv/dist/refs/json-schema-draft-06.json";
import { runAnalyze } from "../../src/cli/analyze-command.ts";
import { analysisContext } from "../../src/analyze/index.ts";
import { foldedStacks, speedscopeFile, type SpeedscopeFile } from "../../src/report/stack-exports.ts";
import { emptyTrace } from "../../src/trace/model.ts";
import { readTrace } from "../../src/trace/read.ts";
import { fixturePath, LARGEST_FIXTURE } from "./fixtures.ts";

setDefaultTimeout(60_000);

const ENCODER = join(import.meta.dir, "..", "fixtures", "torch_cpu", "encoder.kineto.json.gz");
const SCHEMA = JSON.parse(readFileSync(join(import.meta.dir, "..", "fixtures", "speedscope", "file-format-schema.json"), "utf8"));

/** folded text → (stack → weight), and the total of every stack prefix. */
function parseFolded(text: string): { lines: [string[], number][]; prefix: Map<string, number> } {
  const lines: [string[], number][] = [];
  const prefix = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const sp = line.lastIndexOf(" ");
    const frames = line.slice(0, sp).split(";");
    const w = Number(line.slice(sp + 1));
    expect(Number.isInteger(w) && w > 0).toBe(true);
    lines.push([frames, w]);
    for (let i = 1; i <= frames.length; i++) {
      const k = frames.slice(0, i).join(";");
      prefix.set(k, (prefix.get(k) ?? 0) + w);
    }
  }
  return { lines, prefix };
}

describe("folded stacks", () => {
  test("a real GPU trace: CPU and GPU totals rebuilt from the lines are the trace's", async () => {
    const { text } = await runAnalyze({ trace: fixturePath(LARGEST_FIXTURE), format: "folded" });
    const { lines, prefix } = parseFolded(text);
    const trace = await readTrace(fixturePath(LARGEST_FIXTURE), { progress: false });
    const ctx = analysisContext(trace);
    // CPU: Σ lines = the tree's CPU total; each torch op's own time (lines ending in it) = its self time
    expect(prefix.get("cpu")).toBe(ctx.callTree().cpuTotal[0]);
    const selfByOp = new Map<string, number>();
    for (const [frames, w] of lines) {
      if (frames[0] !== "cpu") continue;
      const leaf = frames[frames.length - 1]!;
      if (!leaf.startsWith("scope: ")) selfByOp.set(leaf, (selfByOp.get(leaf) ?? 0) + w);
    }
    expect(selfByOp.size).toBe(ctx.hot.functions.length);
    for (const f of ctx.hot.functions) expect(selfByOp.get(f.function) ?? 0).toBe(f.selfNs);
    // GPU: Σ lines = Σ op durations; per kernel name, as in the trace
    let gpuNs = 0;
    const byName = new Map<string, number>();
    for (const op of trace.gpu) {
      gpuNs += op.end - op.start;
      byName.set(op.name, (byName.get(op.name) ?? 0) + op.end - op.start);
    }
    expect(prefix.get("gpu")).toBe(gpuNs);
    const rebuilt = new Map<string, number>();
    for (const [frames, w] of lines) if (frames[0] === "gpu") rebuilt.set(frames[frames.length - 1]!, (rebuilt.get(frames[frames.length - 1]!) ?? 0) + w);
    expect(rebuilt).toEqual(byName);
    // the launching scope and op are on the stack: `step;aten::linear;…;<kernel>`
    expect([...prefix.keys()].some((k) => k.startsWith("gpu;scope: step;aten::linear;aten::matmul;aten::mm;"))).toBe(true);
  });

  test("a CPU trace with modules: every node's total rebuilt from the lines is the tree's", async () => {
    const trace = await readTrace(ENCODER, { progress: false });
    const t = analysisContext(trace).callTree();
    const { prefix } = parseFolded(foldedStacks(t));
    expect(prefix.get("cpu")).toBe(t.cpuTotal[0]);
    expect(prefix.has("gpu")).toBe(false);
    // one thread: no thread level; module frames carry their path and class
    const key = [...prefix.keys()].find((k) => k.endsWith(";nn.Module: Block_2.MLP_2.Linear_10 (Linear)"))!;
    expect(key).toBeDefined();
    expect(key.startsWith("cpu;<module> (")).toBe(true);
    // the module's total over all its paths = the layer table's total
    let fromLines = 0;
    for (const [k, v] of prefix) if (k.endsWith(";nn.Module: Block_2.MLP_2.Linear_10 (Linear)")) fromLines += v;
    const { buildReport } = await import("../../src/analyze/index.ts");
    const row = buildReport(analysisContext(await readTrace(ENCODER, { progress: false }), 1000), "x").modules!.top.find((r) => r.path === "Block_2.MLP_2.Linear_10")!;
    expect(fromLines / 1e6).toBeCloseTo(row.total_ms, 9);
  });

  test("frame names cannot break a line: ';' and newlines are replaced; several threads get a thread level", () => {
    const tr = emptyTrace("inferscope");
    tr.threadNames.set(1, "MainThread");
    tr.spans.push({ cat: "python", name: "odd;name\nhere", start: 0, end: 100, pid: 1, tid: 1, file: "/a.py", line: 3 });
    tr.spans.push({ cat: "python", name: "worker", start: 0, end: 50, pid: 1, tid: 2, file: "/a.py", line: 9 });
    expect(foldedStacks(analysisContext(tr).callTree())).toBe(
      "cpu;thread: MainThread (tid 1);odd,name here (/a.py:3) 100\ncpu;thread: thread 2 (tid 2);worker (/a.py:9) 50\n",
    );
  });
});

describe("speedscope", () => {
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addMetaSchema(draft6);
  const validate = ajv.compile(SCHEMA);

  test("the published schema rejects what it should (the validator is live)", () => {
    expect(validate({ $schema: "https://www.speedscope.app/file-format-schema.json", shared: { frames: [] }, profiles: [] })).toBe(true);
    expect(validate({ shared: { frames: [] }, profiles: [] })).toBe(false);
    expect(validate({ $schema: "https://www.speedscope.app/file-format-schema.json", shared: { frames: [{}] }, profiles: [] })).toBe(false);
    expect(validate({ $schema: "https://www.speedscope.app/file-format-schema.json", shared: { frames: [] }, profiles: [{ type: "sampled", name: "x", unit: "ns", startValue: 0, endValue: 0, samples: [], weights: [] }] })).toBe(false);
  });

  test("a real GPU trace: valid against the schema; CPU and GPU profiles with the trace's totals", async () => {
    const { text } = await runAnalyze({ trace: fixturePath(LARGEST_FIXTURE), format: "speedscope" });
    const file = JSON.parse(text) as SpeedscopeFile;
    const ok = validate(file);
    if (!ok) console.log(validate.errors);
    expect(ok).toBe(true);
    expect(file.profiles.map((p) => p.name)).toEqual([expect.stringMatching(/^CPU · /), "GPU · by launching stack"]);
    const trace = await readTrace(fixturePath(LARGEST_FIXTURE), { progress: false });
    let gpuNs = 0;
    for (const op of trace.gpu) gpuNs += op.end - op.start;
    const gpu = file.profiles[1]!;
    expect(gpu.weights.reduce((a, b) => a + b, 0)).toBe(gpuNs);
    expect(gpu.endValue).toBe(gpuNs);
    expect(gpu.unit).toBe("nanoseconds");
    for (const s of gpu.samples) for (const f of s) expect(f).toBeLessThan(file.shared.frames.length);
    expect(file.profiles[0]!.endValue).toBe(analysisContext(trace).callTree().cpuTotal[0]!);
    expect(file.exporter).toMatch(/^inferscope /);
  });

  test("Python frames carry their file and line; one CPU profile per thread", () => {
    const tr = emptyTrace("inferscope");
    tr.threadNames.set(1, "MainThread");
    tr.spans.push({ cat: "python", name: "main", start: 0, end: 100, pid: 1, tid: 1, file: "/app/a.py", line: 3 });
    tr.spans.push({ cat: "module", name: "model.fc", moduleType: "Linear", start: 10, end: 60, pid: 1, tid: 1 });
    tr.spans.push({ cat: "python", name: "worker", start: 0, end: 50, pid: 1, tid: 2, file: "/app/b.py", line: 9 });
    const f = speedscopeFile(analysisContext(tr).callTree(), "t.json", "inferscope test");
    expect(validate(f)).toBe(true);
    expect(f.shared.frames).toEqual([{ name: "main", file: "/app/a.py", line: 3 }, { name: "nn.Module: model.fc (Linear)" }, { name: "worker", file: "/app/b.py", line: 9 }]);
    expect(f.profiles.map((p) => [p.name, p.samples, p.weights])).toEqual([
      ["CPU · MainThread (tid 1)", [[0], [0, 1]], [50, 50]],
      ["CPU · thread 2 (tid 2)", [[2]], [50]],
    ]);
  });
});
