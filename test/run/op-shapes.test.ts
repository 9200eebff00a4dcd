// --op-shapes: torch ops with their input shapes (torch's legacy CPU profiler state, since ITT
// passes names only), as rows of their own in the hot functions and as "Input Dims" in the trace;
// off by default. Skipped, saying so, without a Python that has torch ($TORCH_PYTHON or
// /work/venv-torch/bin/python).
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Report } from "../../src/analyze/report-types.ts";
import { inferscopeRun, spans } from "./helpers.ts";

setDefaultTimeout(300_000); // importing torch takes most of a minute on a loaded 2-core box

const TORCH_PYTHON = process.env.TORCH_PYTHON ?? "/work/venv-torch/bin/python";
const hasTorch = Bun.spawnSync([TORCH_PYTHON, "-c", "import torch"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;
if (!hasTorch) console.error(`op-shapes: skipped: ${TORCH_PYTHON} cannot import torch (set TORCH_PYTHON to a Python with torch)`);

const row = (rep: Report, fn: string, dims: unknown) => rep.cpu.top_functions!.find((f) => f.function === fn && JSON.stringify(f.input_dims) === JSON.stringify(dims));

describe.skipIf(!hasTorch)("--op-shapes", () => {
  test("Linear(16, 32) on 4×16 (main thread, 30×) and 2×16 (a thread, 20×): aten::linear and aten::addmm rows per shape, Input Dims in the trace and the Markdown", () => {
    const r = inferscopeRun(["--python", TORCH_PYTHON, "--op-shapes", "--window", "all", "--top", "1000", "--formats", "json,md", "op_shapes.py"]);
    expect(r.code).toBe(0);
    const rep = JSON.parse(readFileSync(join(r.runDir!, "report.json"), "utf8")) as Report;
    expect(row(rep, "aten::linear", [[4, 16], [32, 16], [32]])?.calls).toBe(30);
    expect(row(rep, "aten::linear", [[2, 16], [32, 16], [32]])?.calls).toBe(20);
    expect(row(rep, "aten::addmm", [[32], [4, 16], [16, 32], [], []])?.calls).toBe(30);
    expect(row(rep, "aten::addmm", [[32], [2, 16], [16, 32], [], []])?.calls).toBe(20);
    const linear = spans(r.trace!, "cpu_op").filter((e) => e.name === "aten::linear");
    expect(linear).toHaveLength(50);
    const mainTid = linear.find((e) => JSON.stringify(e.args?.["Input Dims"]) === "[[4,16],[32,16],[32]]")!.tid;
    expect(linear.filter((e) => e.tid === mainTid).map((e) => JSON.stringify(e.args?.["Input Dims"]))).toEqual(Array(30).fill("[[4,16],[32,16],[32]]"));
    expect(linear.filter((e) => e.tid !== mainTid).map((e) => JSON.stringify(e.args?.["Input Dims"]))).toEqual(Array(20).fill("[[2,16],[32,16],[32]]"));
    expect(readFileSync(join(r.runDir!, "report.md"), "utf8")).toContain("`aten::linear` (input dims \\[\\[4,16],\\[32,16],\\[32]])");
  });

  test("off by default: the same ops (through ITT), no shapes", () => {
    const r = inferscopeRun(["--python", TORCH_PYTHON, "--window", "all", "--top", "1000", "--formats", "json", "op_shapes.py"]);
    expect(r.code).toBe(0);
    const rep = JSON.parse(readFileSync(join(r.runDir!, "report.json"), "utf8")) as Report;
    const linear = rep.cpu.top_functions!.filter((f) => f.function === "aten::linear");
    expect(linear.map((f) => [f.calls, f.input_dims])).toEqual([[50, undefined]]);
    expect(spans(r.trace!, "cpu_op").filter((e) => e.name === "aten::linear" && e.args?.["Input Dims"] !== undefined)).toHaveLength(0);
  });
});
