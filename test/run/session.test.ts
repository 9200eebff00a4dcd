// The run directory and report files: names, --report PATH, --force, --no-trace, --gzip.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanEnv, tempDir } from "../helpers.ts";
import { inferscopeRun, readTraceFile, spans } from "./helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

describe("run directory and reports", () => {
  test("<script>-<YYYYmmdd-HHMMSS>/ with trace.json and one report per format; paths printed; runs never collide", () => {
    const out = tempDir("inferscope-sess-");
    const a = inferscopeRun(["threads.py"], { outDir: out });
    const b = inferscopeRun(["threads.py"], { outDir: out });
    expect([a.code, b.code]).toEqual([0, 0]);
    const dirs = readdirSync(out).sort();
    expect(dirs).toHaveLength(2);
    expect(dirs[0]).toMatch(/^threads-\d{8}-\d{6}(-\d+)?$/);
    for (const d of dirs) expect(readdirSync(join(out, d)).sort()).toEqual(["report.html", "report.json", "report.md", "trace.json"]);
    expect(a.stderr).toContain(`trace:  ${join(out, dirs[0]!, "trace.json")}`);
    expect(a.stderr).toContain(`report: ${join(out, dirs[0]!, "report.md")}`);
    const report = JSON.parse(readFileSync(join(out, dirs[0]!, "report.json"), "utf8"));
    expect(report.schema).toBe("inferscope.report/v1");
    expect(report.scopes.map((s: { name: string }) => s.name).sort()).toEqual(["inner", "middle", "outer"]);
  });

  test("a script that raises still gets its reports", () => {
    const r = inferscopeRun(["parity.py"], { env: cleanEnv({ PARITY_RAISE: "1" }) });
    expect(r.code).toBe(1);
    expect(existsSync(join(r.runDir!, "report.md"))).toBe(true);
    expect(readFileSync(join(r.runDir!, "report.md"), "utf8")).toContain("exitCode: 1");
  });

  test("--report PATH: format from the extension; an existing file needs --force", () => {
    const dir = tempDir("inferscope-rep-");
    const path = join(dir, "out.json");
    const first = inferscopeRun(["--report", path, "--formats", "md", "threads.py"]);
    expect(first.code).toBe(0);
    expect(JSON.parse(readFileSync(path, "utf8")).schema).toBe("inferscope.report/v1");
    expect(readdirSync(first.runDir!).sort()).toEqual(["report.md", "trace.json"]);
    writeFileSync(path, "mine");
    const again = inferscopeRun(["--report", path, "threads.py"]);
    expect(again.code).toBe(2);
    expect(again.stderr.trim().split("\n")).toHaveLength(1);
    expect(again.stderr).toContain("--force");
    expect(again.runDir).toBeNull(); // refused before running anything
    expect(readFileSync(path, "utf8")).toBe("mine");
    const forced = inferscopeRun(["--report", path, "--force", "threads.py"]);
    expect(forced.code).toBe(0);
    expect(JSON.parse(readFileSync(path, "utf8")).schema).toBe("inferscope.report/v1");
    const bad = inferscopeRun(["--report", join(dir, "out.txt"), "threads.py"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("use a .md, .html, .json, .folded or .speedscope.json path");
  });

  test("--no-trace writes the reports only; --gzip writes trace.json.gz", () => {
    const none = inferscopeRun(["--no-trace", "threads.py"]);
    expect(none.code).toBe(0);
    expect(readdirSync(none.runDir!).sort()).toEqual(["report.html", "report.json", "report.md"]);
    const gz = inferscopeRun(["--gzip", "threads.py"]);
    expect(readdirSync(gz.runDir!)).toContain("trace.json.gz");
    expect(readTraceFile(join(gz.runDir!, "trace.json.gz")).traceEvents.length).toBeGreaterThan(300);
  });

  test("killed by SIGKILL: exit 137, the spilled chunks still make a trace, the loss is said", () => {
    const r = inferscopeRun(["--trace-size-mb", "1", "--python-calls", "user", "killed.py", "300"]);
    expect(r.code).toBe(137);
    const t = r.trace!;
    expect(t.inferscope.exitCode).toBe(137);
    const leafs = spans(t, "python").filter((e) => e.name === "leaf").length;
    expect(leafs).toBeGreaterThan(100000); // ~300 000 recorded, all but the last chunk on disk
    expect(leafs).toBeLessThan(300000);
    expect(t.inferscope.dropped.python).toBeUndefined(); // not measured: the tracer never finished
    expect(t.inferscope.warnings.join(" ")).toContain("final record is missing");
  });

  test("an interpreter started so that the tracer cannot start (-I): still a run, and a warning", () => {
    const dir = tempDir("inferscope-wrap-");
    const wrapper = join(dir, "python-isolated");
    writeFileSync(wrapper, '#!/bin/sh\nexec python3 -I "$@"\n', { mode: 0o755 });
    const r = inferscopeRun(["--python", wrapper, "parity.py"]);
    expect(r.code).toBe(0);
    expect(spans(r.trace!, "python")).toHaveLength(0);
    expect(r.trace!.traceEvents.some((e) => e.ph === "C" && e.name === "memory")).toBe(true);
    expect(r.stderr).toContain("the tracer did not start");
  });

  test("--no-enable (enable: false) runs the script plainly: same exit code, no run directory", () => {
    const r = inferscopeRun(["--no-enable", "parity.py"], { env: cleanEnv({ PARITY_EXIT: "7" }) });
    expect(r.code).toBe(7);
    expect(r.runDir).toBeNull();
    expect(JSON.parse(r.stdout).sitecustomize).toBeNull();
  });
});
