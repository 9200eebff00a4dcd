// --op-shapes: torch ops with their input shapes (torch's legacy CPU profiler state, since ITT
// passes names only): calls per set of shapes under each op's hot-function row (the row and the
// verdict stay what they are without shapes), "Input Dims" in the trace; off by default. Skipped, saying so, without a Python that has torch ($TORCH_PYTHON or
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

const row = (rep: Report, fn: string) => rep.cpu.top_functions!.find((f) => f.function === fn);
/** An op row's shapes as "dims ×calls", sorted (the order by self time varies with the load). */
const shapes = (rep: Report, fn: string) => (row(rep, fn)?.shapes ?? []).map((s) => `${JSON.stringify(s.input_dims)} ×${s.calls}`).sort();

describe.skipIf(!hasTorch)("--op-shapes", () => {
  test("Linear(16, 32) on 4×16 (main thread, 30×) and 2×16 (a thread, 20×): calls per shape under aten::linear and aten::addmm, Input Dims in the trace and the Markdown", () => {
    const r = inferscopeRun(["--python", TORCH_PYTHON, "--op-shapes", "--window", "all", "--top", "1000", "--formats", "json,md", "op_shapes.py"]);
    expect(r.code).toBe(0);
    const rep = JSON.parse(readFileSync(join(r.runDir!, "report.json"), "utf8")) as Report;
    expect(row(rep, "aten::linear")?.calls).toBe(50);
    expect(shapes(rep, "aten::linear")).toEqual(["[[2,16],[32,16],[32]] ×20", "[[4,16],[32,16],[32]] ×30"]);
    expect(row(rep, "aten::linear")?.shape_count).toBe(2);
    expect(shapes(rep, "aten::addmm")).toEqual(["[[32],[2,16],[16,32],[],[]] ×20", "[[32],[4,16],[16,32],[],[]] ×30"]);
    const linear = spans(r.trace!, "cpu_op").filter((e) => e.name === "aten::linear");
    expect(linear).toHaveLength(50);
    const mainTid = linear.find((e) => JSON.stringify(e.args?.["Input Dims"]) === "[[4,16],[32,16],[32]]")!.tid;
    expect(linear.filter((e) => e.tid === mainTid).map((e) => JSON.stringify(e.args?.["Input Dims"]))).toEqual(Array(30).fill("[[4,16],[32,16],[32]]"));
    expect(linear.filter((e) => e.tid !== mainTid).map((e) => JSON.stringify(e.args?.["Input Dims"]))).toEqual(Array(20).fill("[[2,16],[32,16],[32]]"));
    expect(readFileSync(join(r.runDir!, "report.md"), "utf8")).toMatch(/`aten::linear` \(input dims .*\\?\[\\?\[4,16],\\?\[32,16],\\?\[32]] ×30/);
  });

  test("off by default: the same ops (through ITT), no shapes", () => {
    const r = inferscopeRun(["--python", TORCH_PYTHON, "--window", "all", "--top", "1000", "--formats", "json", "op_shapes.py"]);
    expect(r.code).toBe(0);
    const rep = JSON.parse(readFileSync(join(r.runDir!, "report.json"), "utf8")) as Report;
    const linear = rep.cpu.top_functions!.filter((f) => f.function === "aten::linear");
    expect(linear.map((f) => [f.calls, f.shapes])).toEqual([[50, undefined]]);
    expect(spans(r.trace!, "cpu_op").filter((e) => e.name === "aten::linear" && e.args?.["Input Dims"] !== undefined)).toHaveLength(0);
  });
});
