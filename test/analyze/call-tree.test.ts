// The call tree every flame graph, stack export and layer table is read from: exact self and
// total times on hand-made traces (clipping, a scope begun inside a call, several threads, GPU
// ops under their launch stack, syncs), and agreement with the hot-function and kernel tables on
// a real GPU trace.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { analysisContext } from "../../src/analyze/index.ts";
import type { CallTree } from "../../src/analyze/call-tree.ts";
import { emptyTrace, type Trace } from "../../src/trace/model.ts";
import { fixtureAnalysis, LARGEST_FIXTURE } from "../report/fixtures.ts";

setDefaultTimeout(60_000);

/** node → "frame;frame;…" (root and thread levels left out when `threads` is false). */
function paths(t: CallTree, threads = false): Map<string, number> {
  const out = new Map<string, number>();
  for (let i = 1; i < t.size; i++) {
    const names: string[] = [];
    for (let x = i; x > 0; x = t.parent[x]!) {
      const f = t.frames[t.frame[x]!]!;
      if (f.kind === "thread" && !threads) continue;
      names.unshift(f.name);
    }
    if (names.length > 0) out.set(names.join(";"), i);
  }
  return out;
}

function tree(tr: Trace): CallTree {
  return analysisContext(tr).callTree();
}

describe("CPU time on a hand-made trace", () => {
  const tr = emptyTrace("inferscope");
  const py = (name: string, start: number, end: number, tid = 1) => tr.spans.push({ cat: "python", name, start, end, pid: 1, tid, file: "/a.py", line: 1 });
  py("main", 0, 1000);
  py("f", 100, 400);
  py("g", 150, 250);
  py("f", 500, 700); // f again, same path: one node, 2 calls
  py("h", 750, 1200); // outlives main: clipped to main's end
  py("worker", 0, 300, 2);
  const t = tree(tr);
  const p = paths(t);

  test("self = duration minus direct children (clipped); total = self + descendants", () => {
    const node = (s: string) => p.get(s)!;
    expect([...p.keys()].sort()).toEqual(["main", "main;f", "main;f;g", "main;h", "worker"]);
    expect(t.cpuSelf[node("main;f;g")]).toBe(100);
    expect(t.cpuSelf[node("main;f")]).toBe(300 - 100 + 200);
    expect(t.calls[node("main;f")]).toBe(2);
    expect(t.cpuSelf[node("main;h")]).toBe(250);
    expect(t.cpuSelf[node("main")]).toBe(1000 - 300 - 200 - 250);
    expect(t.cpuTotal[node("main")]).toBe(1000);
    expect(t.cpuTotal[node("worker")]).toBe(300);
    expect(t.cpuTotal[0]).toBe(1300);
  });

  test("a thread level under the root, one node per thread", () => {
    const threads = [...paths(t, true).keys()].filter((k) => !k.includes(";"));
    expect(threads.sort()).toEqual(["thread 1 (tid 1)", "thread 2 (tid 2)"]);
  });
});

describe("scopes and modules", () => {
  test("a scope begun inside a call that it outlives (record_function's __enter__) holds what follows", () => {
    const tr = emptyTrace("kineto");
    tr.spans.push({ cat: "python", name: "main", start: 0, end: 1000, pid: 1, tid: 1 });
    tr.spans.push({ cat: "python", name: "__enter__", start: 10, end: 50, pid: 1, tid: 1 });
    tr.spans.push({ cat: "user_annotation", name: "step#0", start: 40, end: 900, pid: 1, tid: 1 });
    tr.spans.push({ cat: "python", name: "forward", start: 60, end: 800, pid: 1, tid: 1 });
    tr.spans.push({ cat: "python", name: "__exit__", start: 890, end: 950, pid: 1, tid: 1 });
    const t = tree(tr);
    const p = paths(t);
    expect([...p.keys()].sort()).toEqual(["main", "main;__enter__", "main;step", "main;step;__exit__", "main;step;forward"]);
    expect(t.cpuTotal[p.get("main;__enter__")!]).toBe(30); // ends, for the tree, where the scope begins
    expect(t.cpuTotal[p.get("main;step")!]).toBe(860);
    expect(t.cpuTotal[p.get("main;step;__exit__")!]).toBe(10); // clipped to the scope
    expect(t.cpuTotal[p.get("main")!]).toBe(1000); // nothing lost
  });

  test("module frames by path, with their class", () => {
    const tr = emptyTrace("inferscope");
    tr.spans.push({ cat: "module", name: "Net", moduleType: "Net", start: 0, end: 100, pid: 1, tid: 1 });
    tr.spans.push({ cat: "module", name: "layers.0", moduleType: "Block", start: 10, end: 40, pid: 1, tid: 1 });
    tr.spans.push({ cat: "module", name: "layers.1", moduleType: "Block", start: 50, end: 90, pid: 1, tid: 1 });
    const t = tree(tr);
    expect(t.hasModules).toBe(true);
    const f = t.frames.find((x) => x.name === "layers.1")!;
    expect(f).toEqual({ kind: "module", name: "layers.1", moduleType: "Block" });
  });
});

describe("GPU ops under the stack that launched them", () => {
  const tr = emptyTrace("inferscope");
  tr.spans.push({ cat: "python", name: "step", start: 0, end: 1000, pid: 1, tid: 1 });
  tr.spans.push({ cat: "python", name: "linear", start: 100, end: 200, pid: 1, tid: 1 });
  tr.api.push({ api: "runtime", kind: "launch", name: "cudaLaunchKernel", start: 120, end: 130, pid: 1, tid: 1, correlation: 1 });
  tr.api.push({ api: "runtime", kind: "launch", name: "cudaLaunchKernel", start: 300, end: 310, pid: 1, tid: 1, correlation: 2 });
  tr.api.push({ api: "runtime", kind: "memcpy", name: "cudaMemcpyAsync", start: 400, end: 410, pid: 1, tid: 1, correlation: 3 });
  tr.api.push({ api: "runtime", kind: "sync", name: "cudaDeviceSynchronize", start: 500, end: 700, pid: 1, tid: 1, correlation: 4 });
  tr.gpu.push({ kind: "kernel", name: "gemm", start: 150, end: 450, device: 0, stream: 7, correlation: 1 });
  tr.gpu.push({ kind: "kernel", name: "relu", start: 450, end: 480, device: 0, stream: 7, correlation: 2 });
  tr.gpu.push({ kind: "memcpy", name: "Memcpy HtoD (Pageable -> Device)", start: 480, end: 600, device: 0, stream: 7, correlation: 3, bytes: 4096 });
  tr.gpu.push({ kind: "kernel", name: "orphan", start: 900, end: 950, device: 0, stream: 7 }); // no launch call
  const t = tree(tr);
  const p = paths(t);

  test("each op is a leaf under the innermost frame open when its launch call started; its weight is its GPU time", () => {
    expect(t.gpuSelf[p.get("step;linear;gemm")!]).toBe(300);
    expect(t.gpuSelf[p.get("step;relu")!]).toBe(30);
    const copy = p.get("step;Memcpy HtoD (Pageable -> Device)")!;
    expect([t.gpuSelf[copy], t.opCount[copy], t.opBytes[copy]]).toEqual([120, 1, 4096]);
    expect(t.gpuTotal[p.get("step")!]).toBe(450);
    // an op without a launch call hangs under a node of its own
    expect(t.gpuSelf[paths(t, true).get("(no launch call);orphan")!]).toBe(50);
    expect(t.gpuTotal[0]).toBe(500);
    // GPU leaves carry no CPU time
    expect(t.cpuTotal[p.get("step")!]).toBe(1000);
  });

  test("a sync wait is counted at the frame running when it began", () => {
    const step = p.get("step")!;
    expect([t.syncCount[step], t.syncNs[step]]).toEqual([1, 200]);
    expect(t.syncCount[p.get("step;linear")!]).toBe(0);
  });
});

describe("agreement with the other tables on a real GPU trace", () => {
  test("CPU: per innermost function, the tree's self time is the hot-function table's; GPU: every op once, per launcher as the kernel table", async () => {
    const { trace, analysis } = await fixtureAnalysis(LARGEST_FIXTURE);
    const t = analysis.callTree();
    const kind = (n: number) => t.frames[t.frame[n]!]!.kind;
    // the self time of each node goes to the innermost function (torch op) at or above it
    const byFunction = new Map<string, number>();
    for (let i = 1; i < t.size; i++) {
      let x = i;
      while (x > 0 && kind(x) !== "cpu_op" && kind(x) !== "python") x = t.parent[x]!;
      if (x > 0) byFunction.set(t.frames[t.frame[x]!]!.name, (byFunction.get(t.frames[t.frame[x]!]!.name) ?? 0) + t.cpuSelf[i]!);
    }
    expect(analysis.hot.functions.length).toBeGreaterThan(50);
    for (const f of analysis.hot.functions) expect(byFunction.get(f.function) ?? 0).toBe(f.selfNs);
    // GPU: Σ leaves = Σ op durations, and (kernel, outermost torch op on its stack) = (kernel, launcher)
    let opNs = 0;
    const byLauncher = new Map<string, number>();
    for (const op of trace.gpu) {
      opNs += op.end - op.start;
      const k = `${op.name}\u0000${op.launcher?.function ?? ""}`;
      byLauncher.set(k, (byLauncher.get(k) ?? 0) + op.end - op.start);
    }
    expect(t.gpuTotal[0]).toBe(opNs);
    const byStack = new Map<string, number>();
    for (let i = 1; i < t.size; i++) {
      if (t.gpuSelf[i] === 0) continue;
      let outer = "";
      for (let x = t.parent[i]!; x > 0; x = t.parent[x]!) if (kind(x) === "cpu_op") outer = t.frames[t.frame[x]!]!.name;
      const k = `${t.frames[t.frame[i]!]!.name}\u0000${outer}`;
      byStack.set(k, (byStack.get(k) ?? 0) + t.gpuSelf[i]!);
    }
    expect(byStack).toEqual(byLauncher);
  });
});
