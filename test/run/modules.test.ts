// nn.Module calls recorded by `inferscope run` itself (src/tracer/inferscope/_modules.py), with
// real CPU torch (INFERSCOPE_TEST_PYTHON, default /work/venv-torch/bin/python; skipped, saying
// why, without torch): the acceptance on our own scripts (test/fixtures/torch_cpu/models.py: an
// encoder, a decoder generating greedily, a CNN, each with layer 2 made 4× wider): the layers
// add up to the step within 2 % and the widened layer is the top row; the paths as
// named_modules() names them; --no-modules; torch.compile. Without torch, a hand-made stand-in
// (scripts/handmade_torch, NOT torch) still tests the import hook, the paths and the reader.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ModulesSection } from "../../src/analyze/report-types.ts";
import { ROOT } from "../helpers.ts";
import { inferscopeRun, SCRIPTS } from "./helpers.ts";

setDefaultTimeout(60_000);

const PY = process.env.INFERSCOPE_TEST_PYTHON || "/work/venv-torch/bin/python";
const probe = Bun.spawnSync([PY, "-c", "import torch"], { stdout: "ignore", stderr: "ignore" });
const missing = probe.exitCode === 0 ? null : `${PY} cannot import torch (pip install torch, or set INFERSCOPE_TEST_PYTHON)`;
if (missing) console.log(`SKIP nn.Module recording tests: ${missing}`);

const MODELS = join(ROOT, "test/fixtures/torch_cpu/models.py");

function modulesOf(runDir: string): ModulesSection | null {
  return JSON.parse(readFileSync(join(runDir, "report.json"), "utf8")).modules;
}

describe.skipIf(missing !== null)("inferscope run records nn.Module calls (real CPU torch)", () => {
  // The decoder's steps are short (8 tokens of a small model): more of them, so that a busy
  // machine's hiccups do not decide which layer comes first.
  for (const [workload, steps, slowed, cls] of [
    ["encoder", "3", "layers.2", "Block"],
    ["decoder", "8", "body.layers.2", "Block"],
    ["cnn", "3", "blocks.2", "ConvBlock"],
  ] as const) {
    test(`${workload}: the layers add up to the step within 2 %; the widened layer is the top row`, () => {
      // --window all: the default window (the steady state, here the `step` instances) would leave
      // the warm-up step out altogether; the whole run shows it said apart from the steps
      const r = inferscopeRun(["--quiet", "--no-trace", "--formats", "json,folded", "--window", "all", "--python", PY, MODELS, workload, steps]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const m = modulesOf(r.runDir!)!;
      expect(m.step.scope).toBe("step");
      expect(m.step.count).toBe(Number(steps));
      // the warm-up step ran outside the scope: said apart, not in the rows
      expect(m.outside_step_ms).toBeGreaterThan(0);
      // the step's CPU time outside any module, from the exported stacks (ns): the decoder's
      // generate loop picks each token (argmax, cat) between forward passes
      let outsideNs = 0;
      for (const line of readFileSync(join(r.runDir!, "stacks.folded"), "utf8").split("\n")) {
        const cut = line.lastIndexOf(" ");
        const stack = line.slice(0, cut);
        if (stack.startsWith("cpu;") && stack.includes(";scope: step") && !stack.includes(";nn.Module: ")) outsideNs += Number(line.slice(cut + 1));
      }
      const outside = outsideNs / 1e6 / m.step.ms;
      // the layers and the rest add up to the step
      expect(Math.abs(m.in_modules_ms + outsideNs / 1e6 - m.step.ms) / m.step.ms).toBeLessThan(0.02);
      // and the layers are the step but for that loop
      expect(Math.abs(m.in_modules_ms - m.step.ms) / m.step.ms).toBeLessThan(workload === "decoder" ? 0.02 + outside : 0.02);
      if (workload !== "decoder") expect(outside).toBeLessThan(0.02);
      expect(m.top[0]!.path.startsWith(`${slowed}.`)).toBe(true);
      const c = m.types.find((x) => x.type === cls)!;
      expect(c.instances).toBe(4);
      expect(c.spread.slowest).toBe(slowed);
      // the margin: the decoder's blocks differ by 1.3–2.3× between runs on a loaded box (its
      // steps are short), the others' by more
      expect(c.spread.max_ms).toBeGreaterThan((workload === "decoder" ? 1.1 : 1.5) * c.spread.median_ms);
    }, 180_000);
  }

  test("paths as named_modules() names them; modules outside the model; --no-modules leaves torch alone", () => {
    const r = inferscopeRun(["--quiet", "--formats", "json", "--python", PY, join(SCRIPTS, "module_paths.py")]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ torch_call: false });
    const mods = r.trace!.traceEvents.filter((e) => e.cat === "module").sort((a, b) => a.ts - b.ts);
    expect(mods.map((e) => `${e.name} ${String(e.args?.type)}`)).toEqual([
      // the embedding called on its own first is an outermost module, named by its class ...
      "Embedding Embedding",
      "Net Net",
      // ... and once its model runs, by its path in the model
      "embed Embedding",
      "layers.0 Block",
      "layers.0.fc Linear",
      // kept in a plain list, or made on the fly: not registered, named inside the caller
      "layers.0.ReLU ReLU",
      "layers.0.Identity Identity",
      "layers.1 Block",
      "layers.1.fc Linear",
      "layers.1.ReLU ReLU",
      "layers.1.Identity Identity",
      // a second model: named by its class
      "Linear Linear",
    ]);
    // nested as called: every module span lies inside Net's (but the first and the last)
    const net = mods[1]!;
    for (const e of mods.slice(2, -1)) {
      expect(e.ts).toBeGreaterThanOrEqual(net.ts);
      expect(e.ts + e.dur!).toBeLessThanOrEqual(net.ts + net.dur! + 0.001);
    }

    const off = inferscopeRun(["--quiet", "--no-modules", "--formats", "json", "--python", PY, join(SCRIPTS, "module_paths.py")]);
    expect(off.code).toBe(0);
    expect(JSON.parse(off.stdout)).toEqual({ torch_call: true });
    expect(off.trace!.traceEvents.filter((e) => e.cat === "module")).toEqual([]);
    expect(modulesOf(off.runDir!)).toBeNull();
  }, 180_000);

  test("torch.compile (fullgraph, eager backend): the graph stays whole; the compiled module's own call is recorded, not the modules in its graph", () => {
    const r = inferscopeRun(["--quiet", "--formats", "json", "--python", PY, join(SCRIPTS, "module_compile.py")]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ graph_breaks: 0, unique_graphs: 1 });
    const calls = r.trace!.traceEvents.filter((e) => e.cat === "module" && e.name === "OptimizedModule");
    expect(calls.length).toBe(3);
    // the Sequential and its layers ran inside the compiled graph: none recorded in the two calls after the first (compiling) one
    const after = calls.sort((a, b) => a.ts - b.ts)[1]!.ts;
    expect(r.trace!.traceEvents.filter((e) => e.cat === "module" && e.name !== "OptimizedModule" && e.ts >= after)).toEqual([]);
  }, 300_000);
});

describe.skipIf(missing !== null)("forward passes with autograd on (real CPU torch)", () => {
  test("counted per outermost module call, with grad mode and parameters requiring grad; the finding names them", () => {
    const r = inferscopeRun(["--quiet", "--formats", "json", "--window", "all", "--python", PY, join(SCRIPTS, "autograd_forwards.py")]);
    expect(r.code).toBe(0);
    expect((r.trace as unknown as { inferscope: { pythonTracer: { forwards: unknown } } }).inferscope.pythonTracer.forwards).toEqual({ calls: 12, withGrad: 6 });
    const findings = JSON.parse(readFileSync(join(r.runDir!, "report.json"), "utf8")).findings as { rule: string; title: string; evidence: unknown }[];
    const f = findings.find((x) => x.rule === "autograd_on")!;
    expect(f.title).toBe("Autograd is on during inference: 6 of 12 forward passes ran with grad mode enabled and parameters that require grad");
    expect(f.evidence).toMatchObject({ forwards: 12, with_grad: 6, pct_with_grad: 50 });
  }, 180_000);
});

describe("without torch: a hand-made stand-in (scripts/handmade_torch, NOT torch)", () => {
  test("the wrapper goes in once `torch` is imported; paths from named_modules(); nested as called", () => {
    // --window all: a model that runs once for microseconds has no steady state; the default
    // window may pick a burst of its constructors (Module.__init__, 7 calls) and leave the layers out
    const r = inferscopeRun(["--quiet", "--formats", "json", "--window", "all", "--python", "python3", join(SCRIPTS, "handmade_modules.py")]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ y: 4, wrapped: true });
    const mods = r.trace!.traceEvents.filter((e) => e.cat === "module").sort((a, b) => a.ts - b.ts);
    expect(mods.map((e) => `${e.name} ${String(e.args?.type)}`)).toEqual(["Top Top", "first Pair", "first.a Leaf", "first.b Leaf", "second Pair", "second.a Leaf", "second.b Leaf"]);
    const [top, first, a] = mods;
    expect(first!.ts).toBeGreaterThanOrEqual(top!.ts);
    expect(a!.ts + a!.dur!).toBeLessThanOrEqual(first!.ts + first!.dur! + 0.001);
    expect(modulesOf(r.runDir!)!.count).toBe(7);
    const off = inferscopeRun(["--quiet", "--no-modules", "--formats", "json", "--python", "python3", join(SCRIPTS, "handmade_modules.py")]);
    expect(JSON.parse(off.stdout)).toEqual({ y: 4, wrapped: false });
    expect(off.trace!.traceEvents.filter((e) => e.cat === "module")).toEqual([]);
  });

  test("forward passes: outermost calls counted, those with grad mode on and a parameter requiring grad apart", () => {
    const r = inferscopeRun(["--quiet", "--formats", "json", "--window", "all", "--python", "python3", join(SCRIPTS, "handmade_autograd.py")]);
    expect(r.code).toBe(0);
    expect((r.trace as unknown as { inferscope: { pythonTracer: { forwards: unknown } } }).inferscope.pythonTracer.forwards).toEqual({ calls: 5, withGrad: 3 });
    const findings = JSON.parse(readFileSync(join(r.runDir!, "report.json"), "utf8")).findings as { rule: string; title: string }[];
    expect(findings.find((x) => x.rule === "autograd_on")?.title).toBe("Autograd is on during inference: 3 of 5 forward passes ran with grad mode enabled and parameters that require grad");
  });
});
