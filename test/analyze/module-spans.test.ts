// nn.Module calls as the readers give them: Kineto eager-mode `nn.Module: X_N` events (paths
// built from their nesting), TorchScript's `Module Hierarchy` / `Call stack` op fields (spans
// made from runs of ops), InferScope `module` events (written and read back).
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { parseTrace, readTrace } from "../../src/trace/read.ts";
import { parseCallStack, parseModuleHierarchy, spansFromOpStacks } from "../../src/trace/kineto-modules.ts";
import { writeTrace } from "../../src/trace/writer.ts";
import { emptyTrace, type CpuSpan } from "../../src/trace/model.ts";
import { tempDir } from "../helpers.ts";

setDefaultTimeout(60_000);

const TORCH_CPU = join(import.meta.dir, "..", "fixtures", "torch_cpu");
const dir = tempDir("inferscope-modules-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const modules = (spans: CpuSpan[]) => spans.filter((s) => s.cat === "module");

describe("Kineto eager mode (with_stack)", () => {
  test("each `nn.Module: X_N` event is a module span, its path built from the modules around it", async () => {
    const t = await readTrace(join(TORCH_CPU, "encoder.kineto.json.gz"), { progress: false });
    const m = modules(t.spans);
    // 2 steps × (Encoder + 4 × (Block, LayerNorm ×2, Attention + 2 Linear, MLP + 2 Linear + GELU) + LayerNorm)
    expect(m.length).toBe(2 * (1 + 4 * 10 + 1));
    const paths = new Set(m.map((s) => s.name));
    expect(paths.has("Encoder_0")).toBe(true); // the outermost module, by its own name
    expect(paths.has("Block_2")).toBe(true);
    expect(paths.has("Block_2.MLP_2.Linear_10")).toBe(true);
    expect(paths.has("LayerNorm_8")).toBe(true); // the encoder's final norm, directly under it
    const fc = m.find((s) => s.name === "Block_2.MLP_2.Linear_10")!;
    expect(fc.moduleType).toBe("Linear");
    // no Python span is left named "nn.Module: …"
    expect(t.spans.filter((s) => s.cat === "python" && s.name.startsWith("nn.Module")).length).toBe(0);
    // nesting: the Linear lies inside its MLP inside its Block
    const mlp = m.find((s) => s.name === "Block_2.MLP_2" && s.start <= fc.start && fc.end <= s.end);
    const block = m.find((s) => s.name === "Block_2" && s.start <= mlp!.start && mlp!.end <= s.end);
    expect(mlp).toBeDefined();
    expect(block).toBeDefined();
  });
});

describe("TorchScript (with_modules, Module Hierarchy and Call stack)", () => {
  test("parsing the two fields", () => {
    expect(parseModuleHierarchy("TOP(Net)::forward.0(Block)::forward.fc1(Linear)::forward.")).toEqual([
      { path: "Net", type: "Net", method: "forward" },
      { path: "0", type: "Block", method: "forward" },
      { path: "0.fc1", type: "Linear", method: "forward" },
    ]);
    expect(parseCallStack("/t/nn/linear.py(134): forward;/app/k1.py(5): forward;/app/k1.py(9): forward;")).toEqual([
      { file: "/app/k1.py", func: "forward" },
      { file: "/app/k1.py", func: "forward" },
      { file: "/t/nn/linear.py", func: "forward" },
    ]);
  });

  test("runs of ops sharing a stack become one span; modules sit outside the frame running their method", () => {
    const op = (name: string, start: number, end: number, hierarchy: string, callStack?: string) => ({
      span: { cat: "cpu_op" as const, name, start, end, pid: 1, tid: 1 },
      hierarchy,
      ...(callStack ? { callStack } : {}),
    });
    const spans = spansFromOpStacks(
      [
        op("forward", 0, 100, "TOP(Net)::forward."),
        op("aten::linear", 10, 30, "TOP(Net)::forward.fc1(Linear)::forward.", "lin.py(9): forward;net.py(5): forward;"),
        op("aten::t", 11, 12, "TOP(Net)::forward.fc1(Linear)::forward.", "lin.py(9): forward;net.py(5): forward;"),
        op("aten::relu", 40, 50, "TOP(Net)::forward.", "net.py(6): forward;"),
        op("forward", 200, 300, "TOP(Net)::forward."), // a second call: a new span
      ],
      new Set(),
    );
    expect(spans.map((s) => [s.cat, s.name, s.start, s.end, s.moduleType ?? s.file])).toEqual([
      ["module", "Net", 0, 100, "Net"],
      ["python", "forward", 10, 50, "net.py"],
      ["module", "fc1", 10, 30, "Linear"],
      ["python", "forward", 10, 30, "lin.py"],
      ["module", "Net", 200, 300, "Net"],
    ]);
  });

  test("a real TorchScript trace: module paths from the hierarchy, inside the eager-mode call of the scripted module", async () => {
    const t = await readTrace(join(TORCH_CPU, "encoder_script.kineto.json.gz"), { progress: false });
    const m = modules(t.spans);
    const paths = new Set(m.map((s) => s.name));
    expect([...paths].filter((p) => p.startsWith("2.")).sort()).toEqual(["2.attn", "2.attn.proj", "2.attn.qkv", "2.ln1", "2.ln2", "2.mlp", "2.mlp.act", "2.mlp.fc1", "2.mlp.fc2"]);
    expect(m.find((s) => s.name === "2.mlp.fc1")!.moduleType).toBe("Linear");
    // two scripted calls, each one `Encoder` span (the TorchScript root), each inside its step
    const roots = m.filter((s) => s.name === "Encoder");
    const steps = t.spans.filter((s) => s.cat === "user_annotation" && s.name.startsWith("step#"));
    expect(roots.length).toBe(2);
    for (const r of roots) expect(steps.some((s) => s.start <= r.start && r.end <= s.end)).toBe(true);
  });
});

describe("InferScope traces", () => {
  test("module spans are written as `module` events with their class, and read back", async () => {
    const t = emptyTrace("inferscope");
    t.spans.push({ cat: "module", name: "LlamaForCausalLM", moduleType: "LlamaForCausalLM", start: 1000, end: 9000, pid: 7, tid: 7 });
    t.spans.push({ cat: "module", name: "model.layers.3.self_attn", moduleType: "LlamaAttention", start: 2000, end: 5000, pid: 7, tid: 7 });
    const file = join(dir, "modules.json");
    await writeTrace(t, file, { version: "test", pid: 7 });
    const text = await Bun.file(file).text();
    expect(text).toContain('{"ph":"X","cat":"module","name":"model.layers.3.self_attn","pid":7,"tid":7,"ts":1.000,"dur":3.000,"args":{"type":"LlamaAttention"}}');
    const back = parseTrace(text);
    expect(modules(back.spans).map((s) => [s.name, s.moduleType, s.start - back.meta.baseTimeNs!, s.end - back.meta.baseTimeNs!])).toEqual([
      ["LlamaForCausalLM", "LlamaForCausalLM", 0, 8000],
      ["model.layers.3.self_attn", "LlamaAttention", 1000, 4000],
    ]);
  });
});
