// Capture windows through the SIMULATED driver (README.md): outside a window the shim disables
// CUPTI's activity kinds, so no kernel, copy or API record of that time reaches the trace.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { readPythonEvents } from "../../src/collect/python-events.ts";
import { SCENARIO, SIM_MISSING, simRun } from "./helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

function rawWindows(runDir: string): [number, number | null, string, string | null][] {
  const raw = join(runDir, "raw");
  const f = readdirSync(raw).find((n) => /^python-\d+\.isc$/.test(n))!;
  return readPythonEvents(readFileSync(join(raw, f)), { pid: 0 }).meta!.capture!.windows;
}

describe.skipIf(SIM_MISSING !== null)("capture windows through the simulated driver", () => {
  test("--capture manual, start()/stop() from the script: exactly the 37 kernels launched inside the window, each with its launch call", () => {
    const r = simRun(SCENARIO, ["window_api", "100", "37", "50"], { flags: ["--capture", "manual", "--formats", "json", "--keep-raw"] });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("start True");
    expect(r.kernels.length).toBe(37);
    expect(r.report!.gpu.kernels.count).toBe(37);
    expect(r.report!.gpu.kernels.launch_calls).toBe(37);
    const launches = r.trace!.traceEvents.filter((e) => e.cat === "cuda_runtime" && e.name === "cudaLaunchKernel");
    expect(launches.length).toBe(37);
    const [from, to] = rawWindows(r.runDir!)[0]! as [number, number, string, string];
    const base = r.trace!.baseTimeNanoseconds;
    for (const e of launches) {
      const start = base + Math.round(e.ts * 1000);
      expect(start).toBeGreaterThanOrEqual(from);
      expect(start + Math.round(e.dur! * 1000)).toBeLessThanOrEqual(to);
    }
  });

  test("--delay 0.5 --duration 0.5: kernels only from launches inside the window", () => {
    const r = simRun(SCENARIO, ["window_timed", "1.6"], { flags: ["--delay", "0.5", "--duration", "0.5", "--formats", "json", "--keep-raw"] });
    expect(r.code).toBe(0);
    const launched = Number(/launched (\d+)/.exec(r.stdout)![1]);
    const [from, to, by, until] = rawWindows(r.runDir!)[0]! as [number, number, string, string];
    expect([by, until]).toEqual(["delay", "duration"]);
    expect(r.kernels.length).toBeGreaterThan(0);
    expect(r.kernels.length).toBeLessThan(launched);
    const base = r.trace!.baseTimeNanoseconds;
    const api = r.trace!.traceEvents.filter((e) => e.cat === "cuda_runtime" || e.cat === "cuda_driver");
    expect(api.length).toBe(r.kernels.length);
    for (const e of api) {
      const start = base + Math.round(e.ts * 1000);
      expect(start).toBeGreaterThanOrEqual(from);
      expect(start).toBeLessThanOrEqual(to);
    }
    // every recorded kernel was launched by a recorded call of my_step (inside the window), but for
    // the window's first launch, when the my_step making it was already running as the window
    // opened: a call begun outside a window is not recorded (docs/analysis.md, capture windows)
    const byTime = [...r.kernels].sort((a, b) => a.ts - b.ts);
    const without = byTime.filter((k) => k.args!["python function"] !== "my_step");
    expect(without.length).toBeLessThanOrEqual(1);
    if (without.length === 1) expect(without[0] === byTime[0]).toBe(true);
  });
});
