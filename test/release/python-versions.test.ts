// The supported Python range (CPython 3.8–3.13, README "Install") with the binary that ships:
// which recorder each version gets (setprofile before 3.12, sys.monitoring from 3.12, both with
// the C hot path of ffi/pytrace.c), and the pure-Python path a free-threaded build takes.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanEnv, ensureBinary, tempDir } from "../helpers.ts";
import { findPython, SCRIPTS } from "../run/helpers.ts";

// Per file: bun applies the preload's default timeout to the first test file only.
setDefaultTimeout(120_000);

const SUPPORTED = ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"];

function runThreads(python: string, env: Record<string, string> = {}) {
  const out = tempDir("inferscope-py-");
  const r = Bun.spawnSync([ensureBinary(), "run", "--python", python, "--output-dir", out, "--formats", "json", join(SCRIPTS, "threads.py")], {
    cwd: SCRIPTS,
    env: cleanEnv({ XDG_CACHE_HOME: join(out, "cache"), ...env }),
    stdout: "pipe",
    stderr: "pipe",
  });
  expect(r.exitCode).toBe(0);
  const dir = readdirSync(out).find((d) => d.startsWith("threads-"))!;
  const trace = JSON.parse(readFileSync(join(out, dir, "trace.json"), "utf8"));
  const scopes = trace.traceEvents.filter((e: { cat?: string }) => e.cat === "scope").length;
  return { backend: trace.inferscope.pythonTracer.backend as string, python: trace.inferscope.python as string, scopes, stderr: r.stderr.toString() };
}

describe("dist/inferscope run on every supported CPython found here", () => {
  for (const v of SUPPORTED) {
    const python = findPython(v);
    const expected = Number(v.split(".")[1]) >= 12 ? "sys.monitoring+c" : "setprofile+c";
    test.skipIf(python === null)(`${v}: ${expected}${python ? "" : " (skipped: no python" + v + " here)"}`, () => {
      const r = runThreads(python!);
      expect(r.python.startsWith(`${v}.`)).toBe(true);
      expect(r.backend).toBe(expected);
      expect(r.scopes).toBe(300); // 4 threads × 25 × (outer, middle, inner)
    });
  }

  // No free-threaded (3.13t) build can be had here; what the tracer decides on one is checked by
  // making sys._is_gil_enabled() answer False from a .pth file, which site runs first.
  const py313 = findPython("3.13");
  test.skipIf(py313 === null)("GIL off (as on a free-threaded 3.13t, simulated): pure-Python sys.monitoring, same scopes", () => {
    const userBase = tempDir("inferscope-usersite-");
    const site = join(userBase, "lib/python3.13/site-packages");
    mkdirSync(site, { recursive: true });
    writeFileSync(join(site, "handmade_gil_off.pth"), "import sys; sys._is_gil_enabled = lambda: False\n");
    const r = runThreads(py313!, { PYTHONUSERBASE: userBase });
    expect(r.backend).toBe("sys.monitoring");
    expect(r.scopes).toBe(300);
  });
});
