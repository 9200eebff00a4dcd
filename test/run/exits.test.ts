// Ends of the script that skip Python's exit handlers, and other code taking the profile hook:
// what was recorded is kept, and the report says what happened and when.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { cleanEnv, tempDir } from "../helpers.ts";
import { findPython, inferscopeRun, PYTHON, spans } from "./helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

const works = (r: ReturnType<typeof inferscopeRun>) => spans(r.trace!, "python").filter((e) => e.name === "work").length;
const warnings = (r: ReturnType<typeof inferscopeRun>) => r.trace!.inferscope.warnings as string[];

describe("the process ends without its exit handlers", () => {
  test("os._exit(3) after 1,000 calls: all kept (there were none), exit code 3, no loss reported", () => {
    const r = inferscopeRun(["exits.py", "os_exit"]);
    expect(r.code).toBe(3);
    expect(works(r)).toBe(1000);
    expect(warnings(r).join(" ")).not.toContain("final record is missing");
    // said with InferScope's own lines, below the script's output (it was not said at all)
    const said = "the script exited with code 3 (an error, or sys.exit): the trace and the reports cover what ran until then";
    expect(warnings(r)).toContain(said);
    expect(r.stderr).toContain(`[warn] ${said}\n`);
  });

  for (const [label, env] of [
    ["C hot path: flushed from the recording thread", {}],
    ["pure Python: flushed from a background thread", { _INFERSCOPE_PURE_PYTHON: "1" }],
  ] as const) {
    test(`SIGKILL after 3 s: the calls of the first second were flushed, nothing was before (${label})`, () => {
      const note = join(tempDir("inferscope-exits-"), "made");
      const r = inferscopeRun(["exits.py", "sigkill", note], { env: cleanEnv(env) });
      expect(r.code).toBe(137);
      const madeInFirstSecond = Number(readFileSync(note, "utf8"));
      expect(madeInFirstSecond).toBeGreaterThanOrEqual(1000);
      expect(works(r)).toBeGreaterThanOrEqual(madeInFirstSecond);
      expect(warnings(r)).toContain(
        "the Python tracer's final record is missing (the process was killed, or crashed): the Python events after its last periodic flush (at most about a second) are lost",
      );
    });
  }

  test("os.execv: the calls before it are kept and the exec is named (it read 'killed, or called os._exit')", () => {
    const r = inferscopeRun(["exits.py", "execv"]);
    expect(r.code).toBe(0);
    expect(works(r)).toBe(1000);
    const w = warnings(r).find((x) => x.includes("exec"));
    expect(w).toMatch(/^the script replaced itself with another program \(os\.execv\('\/bin\/true'\)\) [\d.]+ s after the tracer started: what ran after the exec was not profiled$/);
    expect(warnings(r).join(" ")).not.toContain("final record is missing");
  });
});

test("the periodic flush racing the script's own chunk hand-over (pure Python, 1 ms interval): every call once", () => {
  // before: the flusher and the script took the same records off a list, 252,132 of 300,000 kept
  for (let round = 0; round < 2; round++) {
    const r = inferscopeRun(["--trace-size-mb", "1", "flushrace.py"], { env: cleanEnv({ _INFERSCOPE_PURE_PYTHON: "1", _INFERSCOPE_FLUSH_INTERVAL_S: "0.001" }) });
    expect(r.code).toBe(0);
    expect(spans(r.trace!, "python").filter((e) => e.name === "leaf").length).toBe(300_000);
  }
});

describe("inside capture windows (--capture manual)", () => {
  for (const [label, env] of [
    ["C hot path", {}],
    ["pure Python", { _INFERSCOPE_PURE_PYTHON: "1" }],
  ] as const) {
    test(`SIGKILL 0.3 s after inferscope.stop(): the window's calls were written when it closed (${label})`, () => {
      const r = inferscopeRun(["--capture", "manual", "exits.py", "window_sigkill"], { env: cleanEnv(env) });
      expect(r.code).toBe(137);
      expect(works(r)).toBe(1000);
    });
  }

  test("os.execv inside a window: its calls are kept, the window ends at the exec, no window-switching call is taken for the script's", () => {
    const r = inferscopeRun(["--capture", "manual", "--formats", "json", "exits.py", "window_execv"]);
    expect(r.code).toBe(0);
    expect(works(r)).toBe(1000);
    const report = JSON.parse(readFileSync(join(r.runDir!, "report.json"), "utf8"));
    expect(report.collection.captureWindows.map((w: Record<string, unknown>) => [w.opened_by, w.closed_by])).toEqual([["inferscope.start()", "end"]]);
    expect(warnings(r).find((x) => x.includes("exec"))).toMatch(/^the script replaced itself with another program \(os\.execv/);
    expect(warnings(r).join(" ")).not.toContain("the script called");
  });
});

describe("another profiler takes the hook", () => {
  const py311 = findPython("3.11") ?? PYTHON;
  test("sys.setprofile(None) (setprofile back-end, ≤ 3.11): named with its time and place", () => {
    const r = inferscopeRun(["--python", py311, "exits.py", "setprofile"]);
    expect(r.code).toBe(0);
    expect(works(r)).toBe(1000);
    const w = warnings(r).find((x) => x.includes("sys.setprofile"));
    expect(w).toMatch(/^the script called sys\.setprofile\(None\) at \+[\d.]+ s \(.*exits\.py:\d+\): InferScope's recording of that thread's Python calls stopped there$/);
  });

  // Exactly one note: a new thread's start-up installs InferScope's hook through sys.setprofile
  // (threading.py), and the pure-Python back-end moves its hook around imports — neither is the
  // script's (both were noted as takeovers before).
  const takeovers = (r: ReturnType<typeof inferscopeRun>) => warnings(r).filter((x) => x.startsWith("the script called"));

  for (const [label, env] of [
    ["C hot path", {}],
    ["pure Python", { _INFERSCOPE_PURE_PYTHON: "1" }],
  ] as const) {
    test(`threading.setprofile(None) (setprofile back-end, ≤ 3.11, ${label}): named once with its time and place; the thread started after it is not recorded`, () => {
      const r = inferscopeRun(["--python", py311, "exits.py", "threading_setprofile"], { env: cleanEnv(env) });
      expect(r.code).toBe(0);
      expect(works(r)).toBe(2000); // the main thread's, before and after
      const t = takeovers(r);
      expect(t).toHaveLength(1);
      expect(t[0]).toMatch(/^the script called threading\.setprofile\(None\) at \+[\d.]+ s \(.*exits\.py:\d+\): Python calls of threads started after it were not recorded$/);
    });

    test(`sys.setprofile(None) in a thread (setprofile back-end, ≤ 3.11, ${label}): named once with the thread's place; the thread's calls before it are kept`, () => {
      const r = inferscopeRun(["--python", py311, "exits.py", "thread_setprofile"], { env: cleanEnv(env) });
      expect(r.code).toBe(0);
      expect(works(r)).toBe(2000); // the thread's 1,000 before it, the main thread's 1,000
      const t = takeovers(r);
      expect(t).toHaveLength(1);
      expect(t[0]).toMatch(/^the script called sys\.setprofile\(None\) at \+[\d.]+ s \(.*exits\.py:\d+\): InferScope's recording of that thread's Python calls stopped there$/);
    });
  }

  test("threads started (setprofile back-end, ≤ 3.11): threading installing InferScope's own hook in them is not the script's", () => {
    const r = inferscopeRun(["--python", py311, "threads.py"]);
    expect(r.code).toBe(0);
    expect(warnings(r).join(" ")).not.toContain("the script called");
  });

  const py312 = findPython("3.13") ?? findPython("3.12");
  test.skipIf(py312 === null)(`sys.monitoring.set_events on InferScope's tool id (3.12+): named with its time and place${py312 === null ? " (skipped: no Python 3.12+ here)" : ""}`, () => {
    const r = inferscopeRun(["--python", py312!, "exits.py", "monitoring"]);
    expect(r.code).toBe(0);
    expect(works(r)).toBe(1000);
    const w = warnings(r).find((x) => x.includes("sys.monitoring"));
    expect(w).toMatch(/^the script called sys\.monitoring\.set_events\(\) on InferScope's tool id \d at \+[\d.]+ s \(.*exits\.py:\d+\): Python calls may not be recorded after it$/);
  });
});
