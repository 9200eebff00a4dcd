// The acceptance check of the GPU path without a GPU: bench/gpu-replay.sh replays every real Kineto
// fixture through the SIMULATED driver (README.md) under `inferscope run` (the compiled binary)
// and compares with `inferscope analyze` of the fixture; any mismatch fails it.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { ensureBinary, ROOT, tempDir } from "../helpers.ts";
import { SIM_MISSING } from "./helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

describe.skipIf(SIM_MISSING !== null)("bench/gpu-replay.sh", () => {
  test(
    "every Kineto fixture, replayed through the simulated driver, matches inferscope analyze of the fixture",
    () => {
      ensureBinary();
      const out = tempDir("gpu-replay-");
      const r = Bun.spawnSync(["bash", join(ROOT, "bench/gpu-replay.sh"), out], { cwd: ROOT, env: { ...process.env, BUN: process.execPath }, stdout: "pipe", stderr: "pipe" });
      const text = r.stdout.toString();
      if (r.exitCode !== 0) console.error(text, r.stderr.toString());
      expect(text).toContain("gpu-replay: every fixture matches");
      for (const f of ["cudagraph", "llama_tiny_generate", "pinned_nonblocking", "sync_stall", "vit_fp16", "llama_tiny_generate-as-nvcc13"]) expect(text).toContain(`### ${f}`);
      expect(text).not.toContain("MISMATCH");
      expect(r.exitCode).toBe(0);
      // and the check can fail: one fixture's run against another fixture's analysis
      const runDir = readdirSync(join(out, "sync_stall"))[0]!;
      const wrong = Bun.spawnSync([process.execPath, join(import.meta.dir, "compare.ts"), join(ROOT, "test/fixtures/kineto/sync_stall.kineto.json.gz"), join(out, "sync_stall", runDir), join(out, "vit_fp16.analyze.json")], { stdout: "pipe" });
      expect(wrong.exitCode).toBe(1);
      expect(wrong.stdout.toString()).toContain("| kernels | 520 | 320 | MISMATCH |");
    },
    300_000,
  );
});
