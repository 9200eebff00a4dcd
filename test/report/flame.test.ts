// The HTML report's flame graphs as data: drawn from the call tree (same totals), aggregated
// before drawing (a bounded number of boxes whatever the number of stacks, widths still exact),
// and within the report's size budget.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { analysisContext } from "../../src/analyze/index.ts";
import { flameData, FLAME_KINDS, type FlameGraphData } from "../../src/report/flame.ts";
import { renderReport } from "../../src/report/render.ts";
import { emptyTrace } from "../../src/trace/model.ts";
import type { Report } from "../../src/analyze/report-types.ts";
import { fixtureAnalysis, LARGEST_FIXTURE } from "./fixtures.ts";
import handmade from "./handmade_cpu_bound.json";

setDefaultTimeout(60_000);

/** Every node's value is its children's sum plus its own (≥ 0) part; depths step down by one. */
function checkShape(g: FlameGraphData): void {
  expect(g.d[0]).toBe(0);
  const stack: number[] = [];
  const childSum = new Array<number>(g.d.length).fill(0);
  for (let i = 0; i < g.d.length; i++) {
    const d = g.d[i]!;
    expect(d).toBeLessThanOrEqual(stack.length);
    stack.length = d;
    if (d > 0) childSum[stack[d - 1]!]! += g.v[i]!;
    stack.push(i);
  }
  for (let i = 0; i < g.d.length; i++) expect(childSum[i]!).toBeLessThanOrEqual(g.v[i]!);
  expect(g.v[0]).toBe(g.total);
}

describe("flame graphs of a real GPU trace", () => {
  test("CPU and GPU graphs with the call tree's totals; kernels hang under the torch op that launched them", async () => {
    const { analysis } = await fixtureAnalysis(LARGEST_FIXTURE);
    const t = analysis.callTree();
    const f = flameData(t)!;
    expect(f.graphs.map((g) => [g.id, g.total])).toEqual([
      ["cpu", t.cpuTotal[0]!],
      ["gpu", t.gpuTotal[0]!],
    ]);
    for (const g of f.graphs) {
      checkShape(g);
      expect(g.hidden).toBe(0); // 218 nodes: all drawn
    }
    const gpu = f.graphs[1]!;
    const kernel = FLAME_KINDS.indexOf("kernel");
    const op = FLAME_KINDS.indexOf("cpu_op");
    // every kernel box sits below a torch-op box
    for (let i = 0; i < gpu.d.length; i++) {
      if (gpu.k[i] !== kernel) continue;
      let j = i - 1;
      while (gpu.d[j]! >= gpu.d[i]!) j--;
      expect(gpu.k[j]).toBe(op);
    }
  });
});

describe("aggregated before drawing", () => {
  // hand-made: 30 000 distinct functions called once each under main, plus one big one
  const tr = emptyTrace("inferscope");
  tr.spans.push({ cat: "python", name: "main", start: 0, end: 10_000_000, pid: 1, tid: 1, file: "/app/main.py", line: 1 });
  tr.spans.push({ cat: "python", name: "big", start: 0, end: 1_000_000, pid: 1, tid: 1, file: "/app/main.py", line: 5 });
  for (let i = 0; i < 30_000; i++) {
    const s = 1_000_000 + i * 300;
    tr.spans.push({ cat: "python", name: `f${i}`, start: s, end: s + 100 + (i % 100), pid: 1, tid: 1, file: "/app/gen.py", line: i });
  }
  const t = analysisContext(tr).callTree();

  test("at most maxNodes boxes plus one summary per parent; widths exact; the largest kept", () => {
    const f = flameData(t, { maxNodes: 500 })!;
    const g = f.graphs[0]!;
    checkShape(g);
    expect(g.nodes).toBe(30_003); // root, main, big, 30 000 functions
    expect(g.d.length).toBeLessThanOrEqual(2 * 500);
    expect(g.v[0]).toBe(10_000_000);
    const names = g.n.map((i) => f.names[i]);
    expect(names.slice(0, 3)).toEqual(["all CPU time", "main", "big"]);
    // the boxes under main add up to main's time minus its own
    const more = names.findIndex((n) => /^\(\d+ smaller frames\)$/.test(n!));
    expect(more).toBeGreaterThan(0);
    expect(g.k[more]).toBe(FLAME_KINDS.indexOf("more"));
    let under = 0;
    for (let i = 2; i < g.d.length; i++) if (g.d[i] === 2) under += g.v[i]!;
    let ownMain = 10_000_000 - 1_000_000;
    for (let i = 0; i < 30_000; i++) ownMain -= 100 + (i % 100);
    expect(under).toBe(10_000_000 - ownMain);
    expect(g.hidden).toBe(Number(/^\((\d+)/.exec(names[more]!)![1]));
    expect(g.hidden + g.d.length - 1).toBe(30_003); // every node drawn or summed
    // the JSON stays small
    expect(JSON.stringify(f).length).toBeLessThan(60_000);
  });

  test("the HTML report with this many stacks stays small (default budget)", () => {
    const html = renderReport(handmade as unknown as Report, "html", analysisContext(tr));
    const m = html.match(/<script type="application\/json" id="inferscope-flame">([\s\S]*?)<\/script>/)!;
    const flame = JSON.parse(m[1]!);
    expect(flame.graphs[0].d.length).toBeLessThanOrEqual(16_000);
    expect(m[1]!.length).toBeLessThan(1_000_000);
  });

  test("no stacks at all: no flame graph, and the report says so", () => {
    const empty = emptyTrace("kineto");
    expect(flameData(analysisContext(empty).callTree())).toBeNull();
    expect(renderReport(handmade as unknown as Report, "html", analysisContext(empty))).toContain("so there is no flame graph");
  });
});
