// The compiled binary carries the tracer and the shim: `run` works from any directory, with the
// C hot path loaded from the extracted runtime.
import { expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { cleanEnv, ensureBinary, tempDir } from "../helpers.ts";
import { loadRun, SCRIPTS, spans } from "./helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

test("dist/inferscope run, from an unrelated directory, with a fresh runtime cache", () => {
  const bin = ensureBinary();
  const out = tempDir("inferscope-bin-");
  const r = Bun.spawnSync([bin, "run", "--output-dir", out, join(SCRIPTS, "threads.py")], {
    cwd: tempDir("inferscope-cwd-"),
    env: cleanEnv({ XDG_CACHE_HOME: tempDir("inferscope-cache-") }),
    stdout: "pipe",
    stderr: "pipe",
  });
  expect(r.exitCode).toBe(0);
  const { trace } = loadRun(out);
  expect((trace!.inferscope.pythonTracer as { backend: string }).backend).toEndWith("+c");
  expect(spans(trace!, "scope")).toHaveLength(300);
});
