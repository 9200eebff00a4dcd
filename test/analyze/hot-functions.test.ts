// Hot functions (src/analyze/hot-functions.ts): calls, inclusive and self time per function from
// the nesting of spans on each thread; the no-GPU verdict that names the top one. Exact figures on
// traces built by hand and on random call trees (expected values from the trees themselves), then
// the structure only on a real `inferscope run` of examples/quickstart.py (timing varies).
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { analysisContext, analyze } from "../../src/analyze/index.ts";
import { hotFunctions } from "../../src/analyze/hot-functions.ts";
import type { Report } from "../../src/analyze/report-types.ts";
import { mergeTrace } from "../../src/merge/index.ts";
import { readTrace } from "../../src/trace/read.ts";
import { emptyTrace, type CpuSpan, type Trace } from "../../src/trace/model.ts";
import { ROOT } from "../helpers.ts";
import { inferscopeRun } from "../run/helpers.ts";
import { FIXTURES, loadRaw, ns } from "./raw.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

const US = 1000;
const PID = 100;
const MAIN = 101;
const LOADER = 102;

function span(cat: CpuSpan["cat"], name: string, startUs: number, endUs: number, where?: [string, number], tid = MAIN): CpuSpan {
  const s: CpuSpan = { cat, name, start: startUs * US, end: endUs * US, pid: PID, tid };
  if (where) [s.file, s.line] = where;
  return s;
}

/**
 * MainThread: main() encloses a scope, inside it a recursive fib (3 deep) that calls aten::add,
 * and helper(); later a second, separate fib call, aten::mm over aten::addmm, an "other" span and
 * a lone scope (neither is a function). loader: a child that outlives its parent (clipped), a
 * later call, and mutual recursion a → b → a. Spans are given shuffled: the merger sorts them.
 */
function handBuilt(): Trace {
  const t = emptyTrace("inferscope");
  t.threadNames.set(MAIN, "MainThread");
  t.threadNames.set(LOADER, "loader");
  const fib: [string, number] = ["/app/fib.py", 5];
  t.spans.push(
    span("python", "fib", 300, 400, fib),
    span("python", "main", 0, 1000, ["/app/main.py", 1]),
    span("scope", "step", 10, 990),
    span("python", "fib", 100, 700, fib),
    span("python", "fib", 200, 500, fib),
    span("cpu_op", "aten::add", 550, 650),
    span("python", "helper", 800, 900, ["/app/util.py", 7]),
    span("python", "fib", 1200, 1300, fib),
    span("cpu_op", "aten::addmm", 1450, 1550),
    span("cpu_op", "aten::mm", 1400, 1600),
    span("other", "gc", 1700, 1800),
    span("scope", "idle", 1900, 2000),
    // loader
    span("python", "parent", 0, 100, ["/app/load.py", 3], LOADER),
    span("python", "child", 50, 150, ["/app/load.py", 9], LOADER),
    span("python", "after", 150, 200, ["/app/load.py", 12], LOADER),
    span("python", "a", 1000, 1100, ["/app/m.py", 1], LOADER),
    span("python", "b", 1010, 1090, ["/app/m.py", 5], LOADER),
    span("python", "a", 1020, 1080, ["/app/m.py", 1], LOADER),
  );
  return t;
}

const row = (r: Report, fn: string) => r.cpu.top_functions!.find((f) => f.function === fn)!;

describe("hand-built trace: exact calls, self and total", () => {
  const r = analyze(handBuilt(), { path: "x", top: 100 });
  const tf = r.cpu.top_functions!;

  test("every function, in order of self time (ties: total, calls, name)", () => {
    expect(tf.map((f) => [f.function, f.kind, f.calls, f.self_ms, f.total_ms])).toEqual([
      ["fib", "python", 4, 0.6, 0.7],
      ["main", "python", 1, 0.3, 1],
      ["aten::mm", "cpu_op", 1, 0.1, 0.2],
      ["aten::add", "cpu_op", 1, 0.1, 0.1],
      ["aten::addmm", "cpu_op", 1, 0.1, 0.1],
      ["helper", "python", 1, 0.1, 0.1],
      ["a", "python", 2, 0.08, 0.1],
      ["parent", "python", 1, 0.05, 0.1],
      ["after", "python", 1, 0.05, 0.05],
      ["child", "python", 1, 0.05, 0.05],
      ["b", "python", 1, 0.02, 0.08],
    ]);
  });
  test("recursion: every call counted, inclusive time only for the outermost call", () => {
    // fib [100,700] ⊃ fib [200,500] ⊃ fib [300,400], and fib [1200,1300]: 600 + 100 µs inclusive
    expect(row(r, "fib")).toMatchObject({ calls: 4, total_ms: 0.7, self_ms: 0.6 });
    // mutual recursion a → b → a: a's inclusive time is its outer call, b's excludes the inner a
    expect(row(r, "a")).toMatchObject({ calls: 2, total_ms: 0.1, self_ms: 0.08 });
    expect(row(r, "b")).toMatchObject({ calls: 1, total_ms: 0.08, self_ms: 0.02 });
  });
  test("scopes and other spans are not functions and are transparent", () => {
    expect(tf.map((f) => f.function)).not.toContain("step");
    expect(tf.map((f) => f.function)).not.toContain("gc");
    // main's children through the scope are fib (600 µs) and helper (100 µs)
    expect(row(r, "main").self_ms).toBe(0.3);
  });
  test("locations and kinds", () => {
    expect(tf[0]).toEqual({ function: "fib", file: "/app/fib.py", line: 5, kind: "python", calls: 4, self_ms: 0.6, total_ms: 0.7, pct_of_busy: (600 / 1700) * 100 });
    expect(row(r, "aten::mm")).toEqual({ function: "aten::mm", kind: "cpu_op", calls: 1, self_ms: 0.1, total_ms: 0.2, pct_of_busy: (100 / 1700) * 100 });
  });
  test("a child that outlives its parent is clipped to it: nothing counts twice", () => {
    const h = hotFunctions(mergeTrace(handBuilt()).byThread);
    // MainThread: [0,1000] ∪ [1200,1300] ∪ [1400,1600] of functions; loader: [0,100] ∪ [150,200] ∪
    // [1000,1100] (the child's [100,150] past its parent's end is not counted)
    expect(h.threads.get(MAIN)!.codeNs).toBe(1300 * US);
    expect(h.threads.get(LOADER)!.codeNs).toBe(250 * US);
    let sum = 0;
    for (const f of h.functions) sum += f.selfNs;
    expect(sum).toBe(1550 * US);
    expect(h.threads.get(MAIN)!.top!.function).toBe("fib");
    expect(h.threads.get(MAIN)!.topSelfNs).toBe(600 * US);
    expect(h.threads.get(LOADER)!.top!.function).toBe("a");
  });
  test("the top option cuts the list", () => {
    expect(analyze(handBuilt(), { path: "x", top: 3 }).cpu.top_functions!.map((f) => f.function)).toEqual(["fib", "main", "aten::mm"]);
  });
  test("same name, other line: another function", () => {
    const t = handBuilt();
    t.spans.push(span("python", "helper", 2000, 2050, ["/app/util.py", 99]));
    const helpers = analyze(t, { path: "x", top: 100 }).cpu.top_functions!.filter((f) => f.function === "helper");
    expect(helpers.map((f) => [f.line, f.self_ms])).toEqual([[7, 0.1], [99, 0.05]]);
  });
});

describe("no GPU: the verdict names where the CPU time went", () => {
  test("the function with the most running time, as a share of all threads' running time", () => {
    const t = handBuilt();
    t.meta.gpuCollection = "no-driver";
    const r = analyze(t, { path: "x" });
    expect(r.gpu).toBeNull();
    // MainThread busy: [0,1000] ∪ [1200,1300] ∪ [1400,1600] ∪ [1700,1800] ("other" is work) = 1400 µs
    expect(r.cpu.threads[0]).toMatchObject({ name: "MainThread", busy_ms: 1.4 });
    // Both threads ran 85 % of the 2 ms extent in all; fib's self time is 35.3 % of their running
    // time, mostly inside scope `step`. A CPU-only machine says "no GPU data" elsewhere, once.
    // Its saving: fib's calls (100–700 and 1200–1300 µs) × self / total (0.6 / 0.7 ms) = 600 µs,
    // 30 % of the 2 ms run; 514 µs of it inside the one `step`.
    expect(r.bottleneck).toEqual({
      classification: "cpu_bound",
      confidence: 0.82,
      reason: "on the CPU, the threads ran 85 % of the run, and `fib` (/app/fib.py:5) in scope `step` took the most running time: 35.3 % of the CPU busy time; largest estimated saving: 0.514 ms per `step` (30 % of the window), from python_preprocessing",
    });
    expect(r.findings.map((f) => f.rule)).toEqual(["python_preprocessing"]);
  });
  test("CUDA API calls without GPU ops, an unnamed thread", () => {
    const t = emptyTrace("kineto");
    t.spans.push(span("cpu_op", "aten::to", 0, 100, undefined, 7));
    t.api.push({ api: "runtime", kind: "other", name: "cudaGetDevice", start: 10 * US, end: 20 * US, pid: PID, tid: 7, correlation: 1 });
    expect(analyze(t, { path: "x" }).bottleneck.reason).toBe(
      "on the CPU, the threads ran 100 % of the run, and `aten::to` took the most running time: 100 % of the CPU busy time; no GPU activity was recorded (1 CUDA API call but no kernels or copies)",
    );
  });
  test("no functions traced: not measured, and it says so", () => {
    const t = emptyTrace("inferscope");
    t.spans.push(span("scope", "step", 0, 100));
    const r = analyze(t, { path: "x" });
    expect(r.cpu.top_functions).toBeNull();
    expect(r.bottleneck).toEqual({ classification: "unknown", confidence: 0, reason: "no Python calls or torch ops were traced; no GPU activity was recorded" });
  });
});

describe("random call trees: figures from the trees themselves", () => {
  // A seeded xorshift32: the same trees every run.
  let seed = 12345;
  const rnd = (n: number) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const NAMES = ["f", "g", "h", "aten::x", "aten::y"];
  interface Node {
    name: string;
    start: number;
    end: number;
    children: Node[];
  }
  /** A node at [start, …) with random children laid out one after another, gaps between. */
  function grow(name: string, start: number, depth: number): Node {
    const node: Node = { name, start, end: start, children: [] };
    let t = start + rnd(5);
    const n = depth < 6 ? rnd(4) : 0;
    for (let i = 0; i < n; i++) {
      const c = grow(NAMES[rnd(NAMES.length)]!, t, depth + 1);
      node.children.push(c);
      t = c.end + rnd(5);
    }
    node.end = t + 1 + rnd(5);
    return node;
  }

  test("calls, self, total (outermost calls only) match for 30 threads of random trees", () => {
    const t = emptyTrace("inferscope");
    const expected = new Map<string, { calls: number; self: number; total: number }>();
    const visit = (n: Node, open: Set<string>, tid: number) => {
      t.spans.push({ cat: n.name.startsWith("aten::") ? "cpu_op" : "python", name: n.name, start: n.start, end: n.end, pid: 1, tid, file: n.name.startsWith("aten::") ? undefined : "m.py", line: n.name.startsWith("aten::") ? undefined : 1 });
      const e = expected.get(n.name) ?? { calls: 0, self: 0, total: 0 };
      expected.set(n.name, e);
      e.calls++;
      e.self += n.end - n.start - n.children.reduce((s, c) => s + (c.end - c.start), 0);
      if (!open.has(n.name)) e.total += n.end - n.start;
      const inner = new Set(open).add(n.name);
      for (const c of n.children) visit(c, inner, tid);
    };
    for (let tid = 1; tid <= 30; tid++) {
      let at = 0;
      for (let k = 0; k < 5; k++) {
        const root = grow(NAMES[rnd(NAMES.length)]!, at, 0);
        visit(root, new Set(), tid);
        at = root.end + rnd(3);
      }
    }
    // shuffle: the merger must restore the order
    for (let i = t.spans.length - 1; i > 0; i--) {
      const j = rnd(i + 1);
      [t.spans[i], t.spans[j]] = [t.spans[j]!, t.spans[i]!];
    }
    expect(t.spans.length).toBeGreaterThan(1000);
    const h = hotFunctions(mergeTrace(t).byThread);
    const got = new Map(h.functions.map((f) => [f.function, { calls: f.calls, self: f.selfNs, total: f.totalNs }]));
    expect(got).toEqual(expected);
  });
});

describe("real traces", () => {
  test.each(["sync_stall", "vit_fp16", "pinned_nonblocking", "cudagraph"])("%s: self and total of every torch op match a brute-force calculation from the raw JSON", async (name) => {
    // Independent of the sweep: a call's parent is the shortest other call on its thread that
    // contains it; self = duration − the children's durations; total = the calls not inside a
    // call of the same name.
    const ops = loadRaw(name).events
      .filter((e) => e.ph === "X" && e.cat === "cpu_op")
      .map((e) => ({ name: e.name as string, tid: e.tid as number, start: ns(e.ts), end: ns(e.ts) + ns(e.dur) }));
    const contains = (p: (typeof ops)[0], c: (typeof ops)[0]) => p !== c && p.tid === c.tid && p.start <= c.start && c.end <= p.end;
    const expected = new Map<string, { calls: number; selfNs: number; totalNs: number }>();
    for (const c of ops) {
      const e = expected.get(c.name) ?? { calls: 0, selfNs: 0, totalNs: 0 };
      expected.set(c.name, e);
      e.calls++;
      let kids = 0;
      for (const k of ops) {
        if (!contains(c, k)) continue;
        // k's parent: the shortest call containing it
        let parent = c;
        for (const p of ops) if (contains(p, k) && p.end - p.start < parent.end - parent.start) parent = p;
        if (parent === c) kids += k.end - k.start;
      }
      e.selfNs += c.end - c.start - kids;
      if (!ops.some((p) => p.name === c.name && contains(p, c))) e.totalNs += c.end - c.start;
    }
    const trace = await readTrace(join(FIXTURES, `${name}.kineto.json.gz`), { progress: false });
    const got = new Map(analysisContext(trace, 10).hot.functions.map((f) => [f.function, { calls: f.calls, selfNs: f.selfNs, totalNs: f.totalNs }]));
    expect(got).toEqual(expected);
  });

  test("Kineto fixture: torch ops only, self ≤ total, self adds up to the time with an op on the stack", async () => {
    const trace = await readTrace(join(FIXTURES, "llama_tiny_generate.kineto.json.gz"), { progress: false });
    const ctx = analysisContext(trace, 10);
    const h = ctx.hot;
    expect(h.functions.length).toBeGreaterThan(10);
    let self = 0;
    for (const f of h.functions) {
      expect(f.kind).toBe("cpu_op");
      expect(f.selfNs).toBeGreaterThanOrEqual(0);
      expect(f.selfNs).toBeLessThanOrEqual(f.totalNs);
      self += f.selfNs;
    }
    let code = 0;
    for (const [tid, th] of h.threads) {
      code += th.codeNs;
      expect(th.codeNs).toBeLessThanOrEqual(ctx.cpu.threads.find((x) => x.tid === tid)!.busyNs);
    }
    expect(self).toBe(code);
  });

  test("examples/quickstart.py under `inferscope run`: tokenize is there, self ≤ total, sums ≤ busy", async () => {
    const run = inferscopeRun(["--formats", "json", "--top", "1000", "--window", "all", join(ROOT, "examples/quickstart.py"), "--steps", "5"], { cwd: ROOT });
    expect(run.code).toBe(0);
    const r = JSON.parse(readFileSync(join(run.runDir!, "report.json"), "utf8")) as Report;
    const tf = r.cpu.top_functions!;
    const tokenize = tf.find((f) => f.function === "tokenize" && f.file?.endsWith("examples/quickstart.py"));
    expect(tokenize).toMatchObject({ kind: "python", calls: 40 }); // 5 steps × batch 8
    expect(tf.find((f) => f.function === "matvec")).toMatchObject({ calls: 40 });
    for (const f of tf) {
      expect(f.self_ms).toBeGreaterThanOrEqual(0);
      expect(f.self_ms).toBeLessThanOrEqual(f.total_ms);
    }
    for (let i = 1; i < tf.length; i++) expect(tf[i]!.self_ms).toBeLessThanOrEqual(tf[i - 1]!.self_ms);
    const busy = r.cpu.threads.reduce((s, t) => s + t.busy_ms, 0);
    expect(tf.reduce((s, f) => s + f.self_ms, 0)).toBeLessThanOrEqual(busy + 1e-9);
    // the verdict: classified from the CPU side, naming where the time went or what it waited for
    expect(r.gpu).toBeNull();
    expect(["cpu_bound", "wait_bound", "balanced"]).toContain(r.bottleneck.classification);
    expect(r.bottleneck.reason).toMatch(/took the most running time|the main thread waited|the most running time is in/);
    // per thread, from the trace itself: self time adds up to at most the thread's busy time
    const trace = await readTrace(join(run.runDir!, "trace.json"), { progress: false });
    const ctx = analysisContext(trace, 10);
    for (const [tid, th] of ctx.hot.threads) {
      expect(th.codeNs).toBeLessThanOrEqual(ctx.cpu.threads.find((x) => x.tid === tid)!.busyNs);
      expect(th.topSelfNs).toBeLessThanOrEqual(th.codeNs);
    }
  }, 60_000);
});
