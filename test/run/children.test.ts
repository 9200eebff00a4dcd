// Child processes: fork, multiprocessing (fork, spawn, forkserver), Python subprocesses and
// DataLoader workers record into the same run, one pid lane each, on the same clock; a child that
// is killed or cannot be traced is named in a warning; --no-follow-children opts out.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Report } from "../../src/analyze/report-types.ts";
import { inferscopeRun, spans, type RunResult } from "./helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

// A Python with torch (CPU wheels): $TORCH_PYTHON, else the shared venv the project uses; skipped without it.
const TORCH_PYTHON = process.env.TORCH_PYTHON ?? "/work/venv-torch/bin/python";
const hasTorch = Bun.spawnSync([TORCH_PYTHON, "-c", "import torch"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;

/** pid → python span names of that process. */
function callsByPid(r: RunResult): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const e of spans(r.trace!, "python")) {
    let a = out.get(e.pid);
    if (!a) out.set(e.pid, (a = []));
    a.push(e.name);
  }
  return out;
}

function report(r: RunResult): Report {
  return JSON.parse(readFileSync(join(r.runDir!, "report.json"), "utf8")) as Report;
}

describe("children followed (default)", () => {
  for (const mode of ["fork", "mp-fork", "mp-spawn", "mp-forkserver", "subprocess"]) {
    test(`${mode}: the child has its own pid lane with its calls and scope, on the run's clock`, () => {
      const r = inferscopeRun(["--formats", "json", "children.py", mode]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`done ${mode}\n`);
      const pids = callsByPid(r);
      const main = report(r).processes!.find((p) => p.role === "main")!;
      const children = [...pids.keys()].filter((p) => p !== main.pid);
      // the child that ran child_work() in scope child-<mode> (forkserver adds its server process)
      const worker = children.find((p) => spans(r.trace!, "scope").some((s) => s.pid === p && s.name === `child-${mode}`));
      expect(worker).toBeDefined();
      expect(pids.get(worker!)!.filter((n) => n === "child_work")).toHaveLength(1);
      expect(pids.get(worker!)!.filter((n) => n === "leaf")).toHaveLength(200);
      expect(pids.get(main.pid)!.filter((n) => n === "child_work")).toHaveLength(2); // not the child's
      // same clock: the child's work lies inside the parent's run
      const all = r.trace!.traceEvents.filter((e) => e.ph === "X");
      const mainSpan = all.find((e) => e.pid === main.pid && e.name === "<module>" && String(e.args?.file).endsWith("children.py"))!;
      const childWork = all.find((e) => e.pid === worker && e.name === "child_work")!;
      expect(childWork.ts).toBeGreaterThan(mainSpan.ts);
      expect(childWork.ts + childWork.dur!).toBeLessThan(mainSpan.ts + mainSpan.dur!);
      // named in the report's processes
      const p = report(r).processes!.find((x) => x.pid === worker)!;
      expect(p.traced).toBe(true);
      expect(p.role).toBe(mode === "subprocess" ? "subprocess" : mode === "fork" ? "fork" : "multiprocessing");
      expect(r.trace!.inferscope.warnings.filter((w) => /not traced|missing/.test(w))).toEqual([]);
    });
  }

  for (const mode of ["kill-fork", "kill-spawn"]) {
    test(`${mode}: a child killed before its final flush is named in a warning`, () => {
      const r = inferscopeRun(["--formats", "json", "children.py", mode]);
      expect(r.code).toBe(0);
      const main = report(r).processes!.find((p) => p.role === "main")!;
      const lost = r.trace!.inferscope.warnings.filter((w) => w.includes("final record is missing"));
      expect(lost).toHaveLength(1);
      expect(lost[0]).toMatch(/^.+ \(pid \d+\): the Python tracer's final record is missing/);
      expect(lost[0]).not.toContain(`pid ${main.pid})`);
    });
  }

  test("a Python child that cannot be traced (python -I) is named in a warning", () => {
    const r = inferscopeRun(["--formats", "json", "children.py", "isolated"]);
    expect(r.code).toBe(0);
    const w = r.trace!.inferscope.warnings.find((x) => x.includes("not traced"));
    expect(w).toMatch(/^1 Python child process was not traced: \d+ \(python[\d.]* -I -c import time; time\.sleep\(0\.3\)\); their time is not in the diagnosis/);
    const p = report(r).processes!.find((x) => !x.traced)!;
    expect(p.role).toBe("untraced");
  });
});

describe("--no-follow-children", () => {
  test("children are not traced, and a warning lists them", () => {
    const r = inferscopeRun(["--formats", "json", "--no-follow-children", "children.py", "mp-spawn"]);
    expect(r.code).toBe(0);
    const pids = [...callsByPid(r).keys()];
    expect(pids).toHaveLength(1);
    const w = r.trace!.inferscope.warnings.find((x) => x.includes("--no-follow-children"));
    // the spawned child, and multiprocessing's resource tracker
    expect(w).toMatch(/^2 child processes were not traced \(--no-follow-children\): \d+ \(python[\d.]* -B -c from multiprocessing/);
  });
});

describe.skipIf(!hasTorch)("DataLoader workers (torch)", () => {
  test("num_workers=2: two worker lanes with __getitem__, torch ops, and their own hot functions", () => {
    const r = inferscopeRun(["--formats", "json", "--python", TORCH_PYTHON, "loader.py"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("items 64\n");
    const rep = report(r);
    const workers = rep.processes!.filter((p) => p.role === "dataloader worker");
    expect(workers.map((w) => w.label).sort()).toEqual(["DataLoader worker 0", "DataLoader worker 1"]);
    const pids = callsByPid(r);
    let items = 0;
    for (const w of workers) items += pids.get(w.pid)!.filter((n) => n === "Items.__getitem__").length;
    expect(items).toBe(64);
    expect(workers.every((w) => w.top_function !== null)).toBe(true);
    // aten ops in the workers (torch.tensor) and in the main process (the collate's stack)
    const ops = spans(r.trace!, "cpu_op");
    expect(ops.some((o) => workers.some((w) => w.pid === o.pid))).toBe(true);
    expect(ops.some((o) => o.name.startsWith("aten::"))).toBe(true);
  });

  test("a worker killed by SIGKILL is named in a warning (the loader's own error reaches the script)", () => {
    const r = inferscopeRun(["--formats", "json", "--python", TORCH_PYTHON, "loader.py", "kill"]);
    expect(r.stdout).toContain("loader failed: DataLoader worker (pid");
    const lost = r.trace!.inferscope.warnings.filter((w) => w.includes("final record is missing"));
    expect(lost.length).toBeGreaterThanOrEqual(1);
    expect(lost.some((w) => w.startsWith("DataLoader worker 1") || /^pid \d+/.test(w) || w.includes("(pid "))).toBe(true);
  });
});
