// `inferscope pythonpath` + the API outside a run: importable, no-ops, near-free.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { cleanEnv, tempDir } from "../helpers.ts";
import { findPython, MAIN, PYTHON, SCRIPTS } from "./helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

const DATA = tempDir("inferscope-data-");

function pythonpath(...args: string[]): string {
  const r = Bun.spawnSync([process.execPath, MAIN, "pythonpath", ...args], { env: cleanEnv({ XDG_DATA_HOME: DATA }), stdout: "pipe", stderr: "pipe" });
  expect(r.stderr.toString()).not.toContain("Error");
  expect(r.exitCode).toBe(0);
  return r.stdout.toString().trim();
}

describe("the Python API outside a run", () => {
  test("`inferscope pythonpath` prints a stable directory holding the package (and no bootstrap on it)", () => {
    const dir = pythonpath();
    expect(dir).toBe(join(DATA, "inferscope", "python")); // the same for every version: no content hash
    expect(pythonpath()).toBe(dir);
    expect(existsSync(join(dir, "inferscope/__init__.py"))).toBe(true);
    expect(readdirSync(join(dir, "inferscope"))).toEqual(["__init__.py"]); // the API only, not the recorder
    expect(existsSync(join(dir, "sitecustomize.py"))).toBe(false);
  });

  test("`inferscope pythonpath --install` makes `from inferscope import scope, mark_event` work in plain python", () => {
    const venv = tempDir("inferscope-venv-");
    const mk = Bun.spawnSync([PYTHON, "-m", "venv", "--without-pip", venv], { stdout: "pipe", stderr: "pipe" });
    expect(mk.exitCode).toBe(0);
    const py = join(venv, "bin", "python");
    const before = Bun.spawnSync([py, "-c", "import inferscope"], { env: cleanEnv(), stdout: "pipe", stderr: "pipe" });
    expect(before.exitCode).not.toBe(0); // not importable yet
    pythonpath("--install", "--python", py);
    const code = "from inferscope import scope, mark_event, is_active\nwith scope('x', a=1):\n    mark_event('m')\nprint(is_active())";
    const after = Bun.spawnSync([py, "-c", code], { env: cleanEnv(), stdout: "pipe", stderr: "pipe" });
    expect(after.stderr.toString()).toBe("");
    expect(after.stdout.toString().trim()).toBe("False");
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
