// A loop whose time is system calls (reads from the page cache in small chunks): the sampler
// records each thread's kernel share (`cpu thread <tid>` system_pct, from /proc stime), and
// python_preprocessing names the system calls instead of a Python loop to rewrite in NumPy. The
// threads table shows each thread's system time beside the CPU time the kernel counted.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Report } from "../../src/analyze/report-types.ts";
import { cli } from "../helpers.ts";
import { inferscopeRun, PYTHON } from "./helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

describe("a loop of small reads", () => {
  test("its thread's kernel share is sampled, and the finding is about system calls; analyze of the saved trace says the same", () => {
    const r = inferscopeRun(["--quiet", "--formats", "json,md", "--python", PYTHON, "small_reads.py"]);
    expect(r.code).toBe(0);
    const perThread = r.trace!.traceEvents.filter((e) => e.ph === "C" && e.name.startsWith("cpu thread "));
    expect(perThread.length).toBeGreaterThan(0);
    for (const e of perThread) {
      const { utilization_pct: all, system_pct: sys } = e.args as { utilization_pct: number; system_pct: number };
      expect(sys).toBeGreaterThanOrEqual(0);
      expect(sys).toBeLessThanOrEqual(all + 0.1);
    }

    const report = JSON.parse(readFileSync(join(r.runDir!, "report.json"), "utf8")) as Report;
    const main = report.cpu.threads[0]!;
    expect(main.system_ms!).toBeGreaterThan(0);
    expect(main.system_ms!).toBeLessThanOrEqual(main.cpu_ms! + 0.001);
    expect(readFileSync(join(r.runDir!, "report.md"), "utf8")).toMatch(/\| CPU ms \(kernel\) \| of it system ms \|/);
    const f = report.findings.find((x) => x.rule === "python_preprocessing")!;
    expect(f.evidence.function).toBe("load");
    // ~45–51 % on the box this was written on: reads of 16 KiB copy in the kernel
    expect(f.evidence.kernel_pct_of_thread_cpu as number).toBeGreaterThanOrEqual(20);
    expect(f.title).toMatch(/^`load` \(.*small_reads\.py:14\) in scope `step` takes [\d.]+ % of the CPU time in the steady state, and its thread spends [\d.]+ % of its CPU time in the kernel \(system calls\)$/);
    expect(f.suggestions[0]).toStartWith("Make fewer system calls in `load`");
    expect(f.suggestions.join(" ")).not.toContain("NumPy or torch operations");

    const again = cli(["analyze", join(r.runDir!, "trace.json"), "-f", "json"]);
    expect(again.code).toBe(0);
    const saved = (JSON.parse(again.stdout) as Report).findings.find((x) => x.rule === "python_preprocessing")!;
    expect([saved.title, saved.evidence]).toEqual([f.title, f.evidence]);
  });
});
