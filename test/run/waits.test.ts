// Running apart from waiting: on functions whose split is known (busy loop, sleep, lock wait,
// select, blocking pipe read and write, page-cache reads and writes, long reads after short ones
// from the page cache and from a pipe that blocks, Thread.join, SimpleQueue.get, half and half), the report's
// waiting time per function is within 10 % of the time the script itself measured around its
// blocking call, and its running time (total − waiting) within 10 % of the rest. bench/wait-accuracy.ts prints the
// same comparison over several rounds for docs/analysis.md.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { findPython, inferscopeRun, PYTHON, splitErrors } from "./helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

const within = (got: number, want: number) => Math.abs(got - want) <= 0.1 * want + 1; // 10 %, and 1 ms for the 0-ms cases
/**
 * Page-cache reads and writes are work, but a call that lost the CPU to another process for most
 * of its time is off the CPU, which is all the thread's clock can tell: on a loaded machine a few
 * of them count as waits. Up to 10 % of the function's time; counted whole, they would be ~100 %.
 */
const waitOk = (e: { fn: string; wait: number; trueWait: number; trueRun: number }) =>
  within(e.wait, e.trueWait) || ((e.fn === "cached_io" || e.fn === "cached_after_short") && e.wait <= 0.1 * e.trueRun);

describe("running apart from waiting: known splits", () => {
  for (const [label, python] of [["default", PYTHON], ["3.12", findPython("3.12")], ["3.13", findPython("3.13")]] as const) {
    test.skipIf(python === null)(`each function's running and waiting time within 10 % of the truth (${label})`, () => {
      for (const e of splitErrors(python!)) {
        expect([e.fn, "waiting", waitOk(e) ? "ok" : `${e.wait} vs ${e.trueWait}`]).toEqual([e.fn, "waiting", "ok"]);
        expect([e.fn, "running", within(e.run, e.trueRun) ? "ok" : `${e.run} vs ${e.trueRun}`]).toEqual([e.fn, "running", "ok"]);
      }
    });
  }
});

describe("waits the tracer cannot see", () => {
  test("a loop over a pipe waits in C: the kernel's CPU time says so (it was '<module> takes 99.9 % of the CPU time')", () => {
    const r = inferscopeRun(["--formats", "json", "pipe_lines.py"]);
    expect(r.code).toBe(0);
    const rep = JSON.parse(readFileSync(join(r.runDir!, "report.json"), "utf8")) as { bottleneck: { classification: string; reason: string }; findings: { rule: string }[] };
    expect(rep.bottleneck.classification).toBe("wait_bound");
    expect(rep.bottleneck.reason).toContain("but the kernel counted only");
    const rules = rep.findings.map((f) => f.rule);
    expect(rules).toContain("unseen_waits");
    expect(rules).not.toContain("python_preprocessing");
  });
});
