// The analysis window (src/analyze/window.ts) and imports (src/analyze/imports.ts) on traces built
// by hand: which span `--window auto` picks and how each other mode cuts the run, and that an
// import inside the window is named there and never ranks as a hot function.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { analyze } from "../../src/analyze/index.ts";
import { chooseWindow } from "../../src/analyze/window.ts";
import { emptyTrace, type CpuSpan, type Trace } from "../../src/trace/model.ts";
import { readTrace } from "../../src/trace/read.ts";
import { join } from "node:path";
import { FIXTURES } from "./raw.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

const MS = 1e6;
const PID = 500;
const FEEDER = 501;

function span(cat: CpuSpan["cat"], name: string, startMs: number, endMs: number, file?: string, tid = PID): CpuSpan {
  const s: CpuSpan = { cat, name, start: startMs * MS, end: endMs * MS, pid: PID, tid };
  if (file !== undefined) [s.file, s.line] = [file, file.startsWith("<") ? 0 : 1];
  return s;
}

/**
 * 0–400 ms: `import torch` (with a nested import); then the main thread's loop: `step` called 5
 * times, 100 ms apart from 500 to 1000 ms, each 80 ms of `featurize`; in the first step a lazy
 * `import torch.profiler._cupti_monitor` of 30 ms inside `record_function.__enter__`. A queue
 * feeder thread waits in `Condition.wait` (lock.acquire) 6 times from 450 to 1105 ms (longer
 * than the loop).
 */
function loopTrace(): Trace {
  const t = emptyTrace("inferscope");
  t.threadNames.set(PID, "MainThread");
  t.threadNames.set(FEEDER, "QueueFeederThread");
  t.spans.push(span("python", "import torch", 0, 400, "<import>"), span("python", "import torch.nn", 100, 300, "<import>"));
  for (let i = 0; i < 5; i++) {
    const s = 500 + i * 100;
    t.spans.push(span("python", "step", s, s + 90, "/app/loop.py"), span("python", "featurize", s + 5, s + 85, "/app/loop.py"));
  }
  t.spans.push(span("python", "record_function.__enter__", 501, 540, "/torch/autograd/profiler.py"), span("python", "import torch.profiler._cupti_monitor", 502, 532, "<import>"));
  for (let i = 0; i < 6; i++) {
    const s = 450 + i * 110;
    t.spans.push(span("python", "Condition.wait", s, s + 105, "/usr/lib/python3.11/threading.py", FEEDER), span("wait", "lock.acquire", s + 1, s + 104, undefined, FEEDER));
  }
  t.instants.push({ name: "warm", ts: 700 * MS, pid: PID, tid: PID });
  return t;
}

describe("--window", () => {
  test("auto: the main thread's repeated call, not a helper thread's longer wait", () => {
    const w = chooseWindow(loopTrace(), "auto");
    expect([w.mode, w.start / MS, w.end / MS]).toEqual(["auto", 500, 990]);
    expect(w.how).toBe("from the first call of `step` to the last (5 calls): the repeated call holding the most time");
  });

  test("auto: not a repeated call whose last return leaves most of the work to run (Thread.start while the threads it started run on)", () => {
    // gil.py: the main thread starts 4 threads (each start waits for the new thread to run, 40 ms),
    // then joins them; each thread runs `spin` from its start to 340 ms
    const t = emptyTrace("inferscope");
    t.threadNames.set(PID, "MainThread");
    t.spans.push(span("python", "main", 0, 340, "/app/gil.py"));
    for (let i = 0; i < 4; i++) {
      t.spans.push(span("python", "Thread.start", i * 40, i * 40 + 39, "/usr/lib/python3.11/threading.py"), span("wait", "lock.acquire", i * 40 + 1, i * 40 + 38, undefined));
      t.spans.push(span("python", "spin", i * 40 + 39, 340, "/app/gil.py", 600 + i));
    }
    t.spans.push(span("python", "Thread.join", 160, 340, "/usr/lib/python3.11/threading.py"), span("wait", "lock.acquire", 161, 339, undefined));
    const w = chooseWindow(t, "auto");
    // it took `Thread.start`'s 0–159 ms: 4 calls holding 156 ms of the 340 ms run
    expect([w.start / MS, w.end / MS, w.how]).toEqual([0, 340, "the traced run after interpreter start"]);
  });

  test("auto: the most instanced scope comes first", () => {
    const t = loopTrace();
    for (let i = 0; i < 3; i++) t.spans.push(span("scope", "request", 600 + i * 100, 650 + i * 100));
    const w = chooseWindow(t, "auto");
    expect([w.start / MS, w.end / MS, w.how]).toEqual([600, 850, "instances of scope `request` (3), the most instanced scope"]);
  });

  test("all, mark:NAME, scope:NAME,skip=N", () => {
    const t = loopTrace();
    for (let i = 0; i < 3; i++) t.spans.push(span("scope", "request", 600 + i * 100, 650 + i * 100));
    expect([chooseWindow(t, "all").start / MS, chooseWindow(t, "all").end / MS]).toEqual([0, 1105]);
    expect([chooseWindow(t, "mark:warm").start / MS, chooseWindow(t, "mark:warm").end / MS]).toEqual([700, 1105]);
    const s = chooseWindow(t, "scope:request,skip=1");
    expect([s.start / MS, s.end / MS, s.how]).toEqual([700, 850, "instances of scope `request` (2, the first 1 skipped as warm-up)"]);
  });

  test("all: from the tracer's start when it is known, so that the interpreter's untraced start does not dilute the shares; start-up is still measured from the process's start", () => {
    const t = loopTrace();
    t.meta.processStartNs = -300 * MS;
    t.meta.tracerStartNs = -20 * MS;
    const w = chooseWindow(t, "all");
    expect([w.start / MS, w.end / MS, w.runStart / MS, w.how]).toEqual([-20, 1105, -300, "the whole run from the tracer's start (--window all; the interpreter's start before it is not traced)"]);
    const r = analyze(t, { path: "x", window: "all" });
    expect([r.startup!.total_ms, r.startup!.interpreter_ms]).toEqual([800, 280]);
  });

  test("all, recorded from a capture window that opened later (--delay): from the first recorded event, not the process's or the tracer's start", () => {
    const t = loopTrace();
    t.meta.processStartNs = -600 * MS;
    t.meta.tracerStartNs = -500 * MS;
    t.meta.captureWindows = [{ from_s: 0.5, to_s: null, opened_by: "delay", closed_by: "end" }];
    const w = chooseWindow(t, "all");
    // it began at the tracer's start: the 0.5 s delay, with nothing recorded, read as idle
    expect([w.start / MS, w.end / MS, w.how]).toEqual([0, 1105, "the whole recording, from the first capture window (--window all; before it nothing was recorded)"]);
  });

  test("a name that is not in the trace, or a malformed value: one line naming what is there", () => {
    expect(() => chooseWindow(loopTrace(), "mark:nope")).toThrow('--window mark:nope: no mark_event named "nope" in the trace (marks: warm)');
    expect(() => chooseWindow(loopTrace(), "scope:nope")).toThrow('--window scope:nope: no scope named "nope" in the trace (scopes: none)');
    expect(() => chooseWindow(loopTrace(), "steady")).toThrow("--window steady: expected auto, all, mark:NAME or scope:NAME[,skip=N]");
  });
});

describe("--window on a torch.profiler trace (real H100 recording)", () => {
  test("scope:step,skip=1 takes record_function(\"step#i\") annotations as instances of `step`, and the report says so (it was 'no scope named step')", async () => {
    const trace = await readTrace(join(FIXTURES, "sync_stall.kineto.json.gz"), { progress: false });
    const whole = analyze(trace, { path: "t", window: "auto" });
    const part = analyze(trace, { path: "t", window: "scope:step,skip=1" });
    expect(whole.window).toBeNull(); // a torch.profiler trace is analysed whole by default
    expect([whole.gpu!.kernels.count, whole.scopes[0]!.count]).toEqual([320, 4]); // 80 kernels a step
    expect([part.gpu!.kernels.count, part.scopes[0]!.count]).toEqual([240, 3]);
    expect([part.window!.mode, part.window!.how]).toEqual(["scope", "instances of scope `step` (3, the first 1 skipped as warm-up)"]);
    expect(analyze(trace, { path: "t", window: "scope:step#2" }).gpu!.kernels.count).toBe(80); // one instance by its own name
    expect(() => chooseWindow(trace, "scope:decode")).toThrow('--window scope:decode: no scope named "decode" in the trace (scopes: step)');
  });
});

describe("summed short calls at the window's edge", () => {
  test("a bucket the window cuts keeps the calls its spans hold inside the window, not the window's share of 100 ms (fib kept 23 % of its calls)", () => {
    // 0–60 ms start-up; from the mark at 60 ms, `fib` runs to 100 ms with 1,000 short recursive
    // calls summed into the bucket [0, 100 ms) (30 ms of self time, held by the span as hiddenNs)
    const t = emptyTrace("inferscope");
    t.threadNames.set(PID, "MainThread");
    t.spans.push(span("python", "<module>", 0, 100, "/app/fib.py"));
    const fib = span("python", "fib", 60, 100, "/app/fib.py");
    fib.hiddenNs = 30 * MS;
    t.spans.push(fib);
    t.summaries.push({ pid: PID, tid: PID, kind: "python", name: "fib", file: "/app/fib.py", line: 1, start: 0, calls: 1000, selfNs: 30 * MS, totalNs: 0 });
    t.instants.push({ name: "go", ts: 60 * MS, pid: PID, tid: PID });
    const top = analyze(t, { path: "x", window: "mark:go" }).cpu.top_functions!.find((f) => f.function === "fib")!;
    expect([top.calls, top.self_ms, top.total_ms]).toEqual([1001, 40, 40]);
  });
});

describe("start-up", () => {
  test("the time before the window is start-up, unless a capture window began the recording later", () => {
    const t = loopTrace();
    t.meta.processStartNs = 0;
    expect(analyze(t, { path: "x", top: 20, window: "auto" }).startup!.total_ms).toBe(500);
    t.meta.captureWindows = [{ from_s: 0.45, to_s: 1.2, opened_by: "inferscope.start()", closed_by: "end" }];
    expect(analyze(t, { path: "x", top: 20, window: "auto" }).startup).toBeNull();
    t.meta.captureWindows = [{ from_s: 0, to_s: 1.2, opened_by: "start", closed_by: "duration" }];
    expect(analyze(t, { path: "x", top: 20, window: "auto" }).startup!.total_ms).toBe(500);
  });
});

describe("imports are start-up work, not hot functions", () => {
  test("a lazy import inside the window is named in it and left out of every function's self time", () => {
    const r = analyze(loopTrace(), { path: "x", top: 20, window: "auto" });
    expect(r.window!.imports_ms).toBe(30);
    expect(r.window!.imports).toEqual([{ module: "torch.profiler._cupti_monitor", ms: 30 }]);
    const fns = r.cpu.top_functions!.map((f) => [f.function, f.self_ms]);
    expect(fns.some(([name]) => String(name).startsWith("import "))).toBe(false);
    // record_function.__enter__ ran 39 ms of which 30 ms were the import inside it
    expect(fns).toContainEqual(["record_function.__enter__", 9]);
    expect(r.cpu.top_functions![0]!.function).toBe("featurize");
  });

  test("the whole run: torch's import and its nested import are summed per outermost module", () => {
    const r = analyze(loopTrace(), { path: "x", top: 20, window: "all" });
    expect(r.window!.imports).toEqual([
      { module: "torch", ms: 400 },
      { module: "torch.profiler._cupti_monitor", ms: 30 },
    ]);
    expect(r.cpu.top_functions!.some((f) => f.function.startsWith("import "))).toBe(false);
  });

  test("importlib's frames in a trace without import spans are imports too", () => {
    const t = loopTrace();
    t.spans.push(span("python", "_find_and_load", 1200, 1300, "<frozen importlib._bootstrap>"), span("python", "_compile_bytecode", 1210, 1290, "<frozen importlib._bootstrap_external>"));
    const r = analyze(t, { path: "x", top: 20, window: "all" });
    expect(r.cpu.top_functions!.map((f) => f.function)).not.toContain("_compile_bytecode");
    expect(r.window!.imports).toContainEqual({ module: "(import)", ms: 100 });
  });
});
