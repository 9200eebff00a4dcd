// The suite's own rules. Bun applies a preload's setDefaultTimeout only to the first test file
// it runs (the others fell back to 5 s: a process-starting test then failed at random on a busy
// CI machine), so every test file sets its default timeout itself, at top level.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
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
});
