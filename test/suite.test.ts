// The suite's own rules. Bun applies a preload's setDefaultTimeout only to the first test file
// it runs (the others fell back to 5 s: a process-starting test then failed at random on a busy
// CI machine), so every test file sets its default timeout itself, at top level.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { ROOT } from "./helpers.ts";

setDefaultTimeout(60_000);

describe("test suite", () => {
  test("every test file sets its default timeout at top level", () => {
    const files = [...new Bun.Glob("test/**/*.test.ts").scanSync({ cwd: ROOT })];
    expect(files.length).toBeGreaterThan(20);
    const missing = files.filter((f) => !/^setDefaultTimeout\(\d[\d_]*\);/m.test(readFileSync(join(ROOT, f), "utf8")));
    expect(missing.map((f) => relative(ROOT, join(ROOT, f)))).toEqual([]);
  });

  test("a run leaves nothing in the temp dir; a killed run's directory goes with the next run", () => {
    const base = mkdtempSync(join(tmpdir(), "suite-probe-"));
    try {
      // What a killed run leaves (pid 2^22 + 1 is above Linux's pid_max: never alive), and what a
      // live one has (this process's pid): only the first may go.
      const dead = join(base, `inferscope-suite-${2 ** 22 + 1}-AbCdEf`);
      const live = join(base, `inferscope-suite-${process.pid}-GhIjKl`);
      for (const d of [dead, live]) mkdirSync(d);
      const probe = join(base, "probe.test.ts");
      writeFileSync(
        probe,
        'import { expect, test } from "bun:test";\nimport { mkdtempSync, writeFileSync } from "node:fs";\nimport { tmpdir } from "node:os";\nimport { join } from "node:path";\n' +
          'test("writes a trace", () => { const d = mkdtempSync(join(tmpdir(), "t-")); writeFileSync(join(d, "trace.json"), "x".repeat(1 << 20)); expect(d.startsWith(process.env.TMPDIR!)).toBe(true); });\n',
      );
      const r = Bun.spawnSync([process.execPath, "test", probe], { cwd: ROOT, env: { ...process.env, TMPDIR: base }, stdout: "pipe", stderr: "pipe" });
      expect([r.exitCode, r.stderr.toString().match(/\d+ pass/)?.[0]]).toEqual([0, "1 pass"]);
      expect(readdirSync(base).sort()).toEqual([`inferscope-suite-${process.pid}-GhIjKl`, "probe.test.ts"]);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
