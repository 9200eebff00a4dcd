// `inferscope pythonpath` + the API outside a run: importable, no-ops, near-free.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { cleanEnv, tempDir } from "../helpers.ts";
import { findPython, MAIN, PYTHON, SCRIPTS } from "./helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

function pythonpath(): string {
  const r = Bun.spawnSync([process.execPath, MAIN, "pythonpath"], { env: cleanEnv(), stdout: "pipe", stderr: "pipe" });
  expect(r.exitCode).toBe(0);
  return r.stdout.toString().trim();
}

describe("the Python API outside a run", () => {
  test("`inferscope pythonpath` prints a directory holding the package (and no bootstrap on it)", () => {
    const dir = pythonpath();
    expect(existsSync(join(dir, "inferscope/__init__.py"))).toBe(true);
    expect(existsSync(join(dir, "sitecustomize.py"))).toBe(false);
  });

  for (const [label, python] of [["default", PYTHON] as const, ["3.8", findPython("3.8")] as const, ["3.12", findPython("3.12")] as const]) {
    test.skipIf(python === null)(`scope / mark_event are no-ops (${label})`, () => {
      const cwd = tempDir("inferscope-noop-");
      // Even with a stale run variable around, nothing starts without `inferscope run`.
      const env = cleanEnv({ PYTHONPATH: pythonpath(), _INFERSCOPE_RUN: JSON.stringify({ dir: cwd, ppid: process.pid }) });
      const r = Bun.spawnSync([python!, join(SCRIPTS, "noop_api.py")], { cwd, env, stdout: "pipe", stderr: "pipe" });
      expect(r.stderr.toString()).toBe("");
      expect(r.exitCode).toBe(0);
      const seen = JSON.parse(r.stdout.toString());
      expect(seen.active).toBe(false);
      expect(seen.decorated_is_f).toBe(true); // the decorator returns the function itself
      expect(seen.mark_returns).toBeNull();
      expect(seen.profile).toBe(true); // no sys.setprofile hook
      expect(seen.threads).toBe(1); // no helper thread
      expect(seen.monitoring_tools.filter((t: string | null) => t !== null)).toEqual([]);
      expect(seen.modules).toEqual(["inferscope"]); // the recorder is never imported
      expect(readdirSync(cwd)).toEqual([]); // nothing written
      // Its cost (a disabled scope is one Python call plus an empty with-block) is measured in
      // bench/api-noop.ts: a timed assertion fails at random on a loaded machine.
      expect(seen.scope_ns).toBeGreaterThan(0);
    });
  }
});
