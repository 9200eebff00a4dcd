// Capture windows (--delay/--duration, --capture manual with inferscope.start()/stop(), SIGUSR1/
// SIGUSR2 to `inferscope run`): nothing recorded outside the window, and the report states it.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readPythonEvents } from "../../src/collect/python-events.ts";
import { cleanEnv, spawnCapture, tempDir } from "../helpers.ts";
import { type ChromeTrace, findPython, inferscopeRun, instants, loadRun, MAIN, PYTHON, SCRIPTS, spans } from "./helpers.ts";

setDefaultTimeout(120_000);

const SCRIPT = "capture_loop.py";

/** The windows as the tracer wrote them (absolute CLOCK_MONOTONIC ns), from raw/python-<pid>.isc. */
function rawWindows(runDir: string): [number, number | null, string, string | null][] {
  const raw = join(runDir, "raw");
  const f = readdirSync(raw).find((n) => /^python-\d+\.isc$/.test(n))!;
  const rec = readPythonEvents(readFileSync(join(raw, f)), { pid: 0 });
  return rec.meta!.capture!.windows;
}

/** Every timed event of the trace as absolute [start, end] ns. */
function eventTimes(t: ChromeTrace): { name: string; cat?: string; start: number; end: number }[] {
  return t.traceEvents
    .filter((e) => e.ph === "X" || e.ph === "i" || e.ph === "C")
    .map((e) => ({ name: e.name, cat: e.cat, start: t.baseTimeNanoseconds + Math.round(e.ts * 1000), end: t.baseTimeNanoseconds + Math.round((e.ts + (e.dur ?? 0)) * 1000) }));
}

function outside(t: ChromeTrace, windows: [number, number | null, string, string | null][]) {
  return eventTimes(t).filter((e) => !windows.some(([from, to]) => e.start >= from && (to === null || e.end <= to)));
}

const markSteps = (t: ChromeTrace) => instants(t).filter((e) => e.name === "m").map((e) => e.args!.i as number);

describe("capture windows", () => {
  test("--delay 0.6 --duration 0.6: only the steps inside the window are recorded, and the report states the window", () => {
    const r = inferscopeRun(["--delay", "0.6", "--duration", "0.6", "--formats", "json,md", "--keep-raw", "--sample-interval-ms", "10", SCRIPT, "2.0"]);
    expect(r.code).toBe(0);
    const windows = rawWindows(r.runDir!);
    expect(windows.length).toBe(1);
    const [from, to, by, until] = windows[0]!;
    expect([by, until]).toEqual(["delay", "duration"]);
    expect(to! - from).toBeGreaterThanOrEqual(600e6); // a timer is never early
    expect(outside(r.trace!, windows)).toEqual([]);
    const steps = markSteps(r.trace!);
    const total = Number(/steps (\d+)/.exec(r.stdout)![1]);
    expect(steps.length).toBeGreaterThan(0);
    expect(steps.length).toBeLessThan(total);
    expect(steps[0]).toBeGreaterThan(0); // the first steps ran before the window
    // contiguous: one window, no gap inside it
    expect(steps.at(-1)! - steps[0]! + 1).toBe(steps.length);
    expect(spans(r.trace!, "python").some((s) => s.name === "tick")).toBe(true);
    // samples only inside the window too
    expect(r.trace!.traceEvents.filter((e) => e.ph === "C").length).toBeGreaterThan(0);
    const report = JSON.parse(readFileSync(join(r.runDir!, "report.json"), "utf8"));
    expect(report.collection.capture).toEqual({ mode: "auto", delay_s: 0.6, duration_s: 0.6, signals: "SIGUSR1 start, SIGUSR2 stop" });
    expect(report.collection.captureWindows.length).toBe(1);
    expect(report.collection.captureWindows[0].opened_by).toBe("delay");
    expect(report.collection.captureWindows[0].from_s).toBeGreaterThanOrEqual(0.6);
    const md = readFileSync(join(r.runDir!, "report.md"), "utf8");
    expect(md).toContain("- capture: mode auto · delay_s 0.600 · duration_s 0.600");
    expect(md).toMatch(/- captureWindows: 1 entry\n  - from_s 0\.\d+ · to_s 1\.\d+ · opened_by delay · closed_by duration\n/);
    expect(new Set(spans(r.trace!).map((s) => s.tid)).size).toBe(1);
  });

  test("--capture manual: inferscope.start()/stop() record exactly the steps between them; spans open at stop() end there, marked window_end", () => {
    const r = inferscopeRun(["--capture", "manual", "--formats", "json", "--keep-raw", SCRIPT, "steps", "40", "12", "31"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("start -> True");
    expect(r.stdout).toContain("stop -> True");
    // stop() runs inside step 31 (its scope and the call of step() are open), before tick and the mark
    expect(markSteps(r.trace!)).toEqual(Array.from({ length: 19 }, (_, k) => 12 + k));
    expect(spans(r.trace!, "python").filter((s) => s.name === "tick").length).toBe(19);
    const stepScopes = spans(r.trace!, "scope").filter((s) => s.name === "step");
    expect(stepScopes.map((s) => s.args!.i)).toEqual(Array.from({ length: 20 }, (_, k) => 12 + k));
    const windows = rawWindows(r.runDir!);
    expect(windows.map((w) => [w[2], w[3]])).toEqual([["inferscope.start()", "inferscope.stop()"]]);
    expect(outside(r.trace!, windows)).toEqual([]);
    const cut = spans(r.trace!).filter((s) => s.args?.window_end === true);
    expect(cut.map((s) => `${s.cat}:${s.name}`).sort()).toEqual(["python:<lambda>", "python:step", "scope:step"]);
    for (const s of cut) expect(r.trace!.baseTimeNanoseconds + Math.round((s.ts + s.dur!) * 1000)).toBe(windows[0]![1]!);
    expect(r.trace!.inferscope.pythonTracer).toMatchObject({ windowCut: 3 });
    // nothing but the main thread was recorded (the window's own threads run no recorded code)
    expect(new Set(spans(r.trace!).map((s) => s.tid)).size).toBe(1);
  });

  // Every back-end: the C hot path through setprofile (3.8, 3.11) and sys.monitoring (3.12), and the pure-Python fallbacks.
  const pythons = [PYTHON, findPython("3.8"), findPython("3.12")].filter((p): p is string => p !== null);
  for (const py of pythons) {
    for (const pure of [false, true]) {
      test(`start()/stop() with ${py}${pure ? ", pure-Python tracer" : ""}: the same 19 steps`, () => {
        const r = inferscopeRun(["--python", py, "--capture", "manual", "--formats", "json", SCRIPT, "steps", "40", "12", "31"], { env: cleanEnv(pure ? { _INFERSCOPE_PURE_PYTHON: "1" } : {}) });
        expect(r.code).toBe(0);
        expect(String((r.trace!.inferscope.pythonTracer as Record<string, unknown>).backend).endsWith("+c")).toBe(!pure);
        expect(markSteps(r.trace!)).toEqual(Array.from({ length: 19 }, (_, k) => 12 + k));
        expect(spans(r.trace!, "python").filter((s) => s.name === "tick").length).toBe(19);
        expect(new Set(spans(r.trace!).map((s) => s.tid)).size).toBe(1);
        // switching the window is InferScope's own doing, not the script taking the hook (_guards.py)
        expect((r.trace!.inferscope.warnings as string[]).join(" ")).not.toContain("the script called");
      });
    }
  }

  test("start()/stop() are no-ops returning False outside a run", () => {
    const pp = spawnCapture([process.execPath, MAIN, "pythonpath"], { cwd: SCRIPTS, env: cleanEnv() }).stdout.trim();
    const r = spawnCapture([PYTHON, "-c", "import inferscope; print(inferscope.start(), inferscope.stop(), inferscope.is_active())"], { cwd: SCRIPTS, env: cleanEnv({ PYTHONPATH: pp }) });
    expect(r.stdout.trim()).toBe("False False False");
  });

  test("a window that never opens (the script ends before --delay; manual mode without start()): one warning says why nothing was recorded (it said only 'no Python calls were traced')", () => {
    const early = inferscopeRun(["--delay", "30", "--formats", "json", SCRIPT, "steps", "3", "-1", "-1"]);
    expect(early.code).toBe(0);
    expect(early.stderr).toMatch(/\[warn\] nothing was recorded: the script ran \d\.\d\d s and ended before --delay 30 s opened the capture window; lower --delay \(or drop it\)\n/);
    const report = JSON.parse(readFileSync(join(early.runDir!, "report.json"), "utf8"));
    expect(report.warnings.filter((w: string) => w.startsWith("nothing was recorded"))).toHaveLength(1);
    expect(report.collection.captureWindows).toEqual([]);
    const manual = inferscopeRun(["--capture", "manual", "--formats", "json", SCRIPT, "steps", "3", "-1", "-1"]);
    expect(manual.code).toBe(0);
    expect(manual.stderr).toMatch(
      /\[warn\] nothing was recorded: no capture window opened \(--capture manual\) — the script ran \d\.\d\d s without calling inferscope\.start\(\) and no SIGUSR1 arrived; call inferscope\.start\(\) where recording should begin, or drop --capture manual\n/,
    );
  });

  test("without capture options the report says nothing about windows (behaviour kept)", () => {
    const r = inferscopeRun(["--formats", "json", SCRIPT, "steps", "3", "-1", "-1"]);
    expect(r.code).toBe(0);
    expect(markSteps(r.trace!)).toEqual([0, 1, 2]);
    const report = JSON.parse(readFileSync(join(r.runDir!, "report.json"), "utf8"));
    expect(report.collection.capture).toBeUndefined();
    expect(report.collection.captureWindows).toBeUndefined();
  });

  test("bad values stop before the script runs, naming the key", () => {
    const r = inferscopeRun(["--delay", "soon", SCRIPT, "1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("delay");
    expect(r.stderr).toContain("a number of seconds >= 0");
    const m = inferscopeRun(["--capture", "later", SCRIPT, "1"]);
    expect(m.code).toBe(2);
    expect(m.stderr).toContain("auto or manual");
  });
});

async function lines(proc: ReturnType<typeof Bun.spawn>, sink: { out: string }) {
  const decoder = new TextDecoder();
  for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) sink.out += decoder.decode(chunk);
}

async function until(cond: () => boolean, proc: ReturnType<typeof Bun.spawn>, what: string) {
  while (!cond()) {
    if (proc.exitCode !== null) throw new Error(`the run ended before ${what}`);
    await Bun.sleep(5);
  }
}

const lastStep = (s: string) => Number([...s.matchAll(/step (\d+)/g)].at(-1)?.[1] ?? -1);

describe("capture signals", () => {
  test("SIGUSR1 / SIGUSR2 to inferscope open and close the window; then Ctrl-C (SIGINT) ends the server run and the reports are written", async () => {
    const out = tempDir("inferscope-capsig-");
    const stopFile = join(tempDir("inferscope-capsig-stop-"), "never");
    const proc = Bun.spawn([process.execPath, MAIN, "run", "--output-dir", out, "--capture", "manual", "--formats", "json,md", "--keep-raw", SCRIPT, "until", stopFile], {
      cwd: SCRIPTS,
      env: cleanEnv(),
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const sink = { out: "" };
    const drain = lines(proc, sink);
    await until(() => lastStep(sink.out) >= 10, proc, "step 10");
    // the tracer says it takes the signals before the script's first line: by now it has
    proc.kill("SIGUSR1");
    const sentStart = lastStep(sink.out);
    await until(() => lastStep(sink.out) >= sentStart + 30, proc, "30 steps more");
    proc.kill("SIGUSR2");
    const sentStop = lastStep(sink.out);
    await until(() => lastStep(sink.out) >= sentStop + 20, proc, "20 steps more");
    proc.kill("SIGUSR1"); // a second window
    const second = lastStep(sink.out);
    await until(() => lastStep(sink.out) >= second + 20, proc, "20 steps more");
    proc.kill("SIGINT"); // no terminal: forwarded to the script, as a Ctrl-C would reach it
    const code = await proc.exited;
    await drain;
    const stderr = await new Response(proc.stderr as ReadableStream).text();
    expect(code).toBe(130);
    expect(stderr).toContain("capture start (SIGUSR1) sent to pid");
    const { runDir, trace } = loadRun(out);
    expect(existsSync(join(runDir!, "report.json"))).toBe(true);
    expect(existsSync(join(runDir!, "report.md"))).toBe(true);
    const windows = rawWindows(runDir!);
    expect(windows.map((w) => [w[2], w[3]])).toEqual([
      ["SIGUSR1", "SIGUSR2"],
      ["SIGUSR1", "end"],
    ]);
    expect(outside(trace!, windows)).toEqual([]);
    const steps = markSteps(trace!);
    const first = steps.filter((i) => i <= sentStop + 20);
    const later = steps.filter((i) => i > sentStop + 20);
    // each window holds a contiguous run of steps, between the signals that bound it
    expect(first.length).toBeGreaterThan(0);
    expect(first[0]).toBeGreaterThanOrEqual(sentStart);
    expect(first.at(-1)! - first[0]! + 1).toBe(first.length);
    expect(first.at(-1)!).toBeLessThanOrEqual(sentStop + 20);
    expect(later.length).toBeGreaterThan(0);
    expect(later[0]).toBeGreaterThanOrEqual(second);
    const report = JSON.parse(readFileSync(join(runDir!, "report.json"), "utf8"));
    expect(report.collection.captureWindows.map((w: Record<string, unknown>) => w.closed_by)).toEqual(["SIGUSR2", "end"]);
    writeFileSync(stopFile, "");
  });

  test("a capture signal before the tracer takes it is not forwarded (Python would die of SIGUSR1): a warning says so", async () => {
    const out = tempDir("inferscope-capsig-");
    const mark = join(tempDir("inferscope-capsig-mark-"), "started");
    const proc = Bun.spawn([process.execPath, MAIN, "run", "--output-dir", out, "--formats", "json", "--python", join(SCRIPTS, "slowshim.sh"), SCRIPT, "steps", "5", "-1", "-1"], {
      cwd: SCRIPTS,
      env: cleanEnv({ SHIM_PYTHON: PYTHON, SHIM_MARK: mark }),
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    while (!existsSync(mark)) await Bun.sleep(5); // the launcher sleeps 1 s before Python starts
    proc.kill("SIGUSR1");
    const code = await proc.exited;
    const stderr = await new Response(proc.stderr as ReadableStream).text();
    expect(stderr).toContain("SIGUSR1 (capture start) ignored: the script's tracer is not taking capture signals");
    expect(code).toBe(0);
  });
});
