// Capture windows gate issue 11's events too: waits (blocking calls) and a forked child's calls
// are recorded inside a window only; a child forked inside one keeps it open until its own stop(),
// one forked outside records nothing until its own start().
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { readPythonEvents } from "../../src/collect/python-events.ts";
import { findPython, inferscopeRun, PYTHON, spans } from "./helpers.ts";

setDefaultTimeout(120_000);

describe("capture windows × waits × child processes", () => {
  // 3.11: the C profile function; 3.12+: sys.monitoring (its CALL/C_RETURN events are switched with the window)
  for (const [label, python] of [["default", PYTHON], ["3.12", findPython("3.12")]] as const) {
    test.skipIf(python === null)(`--capture manual: only the calls and sleeps inside start()/stop() are recorded, in the parent and in the forked child (${label})`, () => {
      const r = inferscopeRun(["--python", python!, "--capture", "manual", "--formats", "json", "capture_children.py"]);
      expect(r.code).toBe(0);
      const py = spans(r.trace!, "python");
      const names = new Set(py.map((s) => s.name));
      expect([...["before", "inside", "child_inside", "child_outside", "after", "forked_outside", "reopened_in_child"].filter((n) => names.has(n))]).toEqual(["inside", "child_inside", "reopened_in_child"]);
      const pidOf = (n: string) => py.find((s) => s.name === n)!.pid;
      expect(new Set([pidOf("inside"), pidOf("child_inside"), pidOf("reopened_in_child")]).size).toBe(3);
      // the child forked outside: not even the calls it was inside of at the fork, nor its import
      // (the tracer's own final flush at os._exit, inside the window, may add stdlib calls: not counted)
      const late = r.trace!.traceEvents.filter((e) => e.ph === "X" && e.pid === pidOf("reopened_in_child") && e.cat !== "wait");
      expect(late.map((e) => e.name).filter((n) => n === "<module>" || n.startsWith("import ") || ["forked_outside", "reopened_in_child"].includes(n))).toEqual(["reopened_in_child"]);
      // each traced sleep is a wait inside its function; the ones outside the window are not there
      const waits = spans(r.trace!, "wait").filter((w) => w.name.includes("sleep"));
      const within = (fn: string) => {
        const f = py.find((s) => s.name === fn)!;
        return waits.filter((w) => w.pid === f.pid && w.ts >= f.ts && w.ts + w.dur! <= f.ts + f.dur!).length;
      };
      expect([within("inside"), within("child_inside"), within("reopened_in_child")]).toEqual([1, 1, 1]);
      expect(waits.length).toBe(3);
    });
  }

  test("--delay/--duration in a Python subprocess count from the run's start, not the subprocess's", () => {
    const r = inferscopeRun(["--delay", "0.6", "--duration", "0.6", "--formats", "json", "--keep-raw", "capture_spawn.py"]);
    expect(r.code).toBe(0);
    const raw = join(r.runDir!, "raw");
    const recs = readdirSync(raw)
      .filter((n) => /^python-\d+\.isc$/.test(n))
      .map((n) => readPythonEvents(readFileSync(join(raw, n)), { pid: 0 }).meta!);
    expect(recs.length).toBe(2);
    const child = recs.find((m) => m.process?.root === false)!;
    const [from, to, by, until] = child.capture!.windows[0]!;
    expect([by, until]).toEqual(["delay", "duration"]);
    // It started ≥ 0.5 s into the run; the run's window opens 0.6 s in: counted from its own
    // start the window would open ≥ 0.6 s after that.
    expect(from - child.tStart).toBeLessThan(0.6e9);
    expect(to!).toBeGreaterThan(from);
  });
});
