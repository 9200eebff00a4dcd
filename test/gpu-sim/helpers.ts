// `inferscope run` through the SIMULATED driver boundary (README.md): the simulated libcuda.so.1
// and libcupti.so.13 first on LD_LIBRARY_PATH, where the real ones would be found.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { cleanEnv, tempDir } from "../helpers.ts";
import { inferscopeRun, type ChromeEvent, type RunResult } from "../run/helpers.ts";
import { buildGpuSim, type GpuSim } from "./build.ts";

const built = buildGpuSim();
export const SIM: GpuSim | null = "missing" in built ? null : built;
/** Why the simulation tests skip, when they do. */
export const SIM_MISSING = "missing" in built ? built.missing : null;
if (SIM_MISSING) console.warn(`test/gpu-sim: skipped: ${SIM_MISSING}`);

export const HERE = import.meta.dir;
/** $GPUSIM_GPUS for two GPUs whose CUDA order (fastest first) is not nvidia-smi's (PCI bus order). */
export const TWO_GPUS =
  "NVIDIA H100 80GB HBM3|GPU-aaaaaaaa-0000-4000-8000-000000000001|0000:B1:00.0|132|85017493504;NVIDIA A100-SXM4-40GB|GPU-bbbbbbbb-0000-4000-8000-000000000002|0000:18:00.0|108|42949672960|8.0";
export const SCENARIO = join(HERE, "scenario.py");
export const REPLAY = join(HERE, "replay.py");

export interface SimRun extends RunResult {
  report: Record<string, any> | null; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** What the simulated CUPTI logged ($GPUSIM_LOG). */
  simLog: string;
  warnings: string[];
  kernels: ChromeEvent[];
}

/** The environment of a run through the simulation: the user's, the simulated libraries first. */
export function simEnv(extra: Record<string, string> = {}, log = join(tempDir("gpusim-log-"), "sim.log")): Record<string, string> {
  const base = cleanEnv();
  return cleanEnv({ LD_LIBRARY_PATH: [SIM!.dir, base.LD_LIBRARY_PATH].filter(Boolean).join(":"), GPUSIM_LOG: log, ...extra });
}

/** `inferscope run [flags] <script> [args]` through the simulation, with the run's report read back. */
export function simRun(script: string, args: string[], opts: { flags?: string[]; env?: Record<string, string>; outDir?: string } = {}): SimRun {
  const env = simEnv(opts.env);
  const r = inferscopeRun([...(opts.flags ?? ["--formats", "json", "--keep-raw"]), script, ...args], { env, cwd: HERE, ...(opts.outDir ? { outDir: opts.outDir } : {}) });
  return withReport(r, env.GPUSIM_LOG!);
}

export function withReport(r: RunResult, log: string): SimRun {
  const reportPath = r.runDir ? join(r.runDir, "report.json") : null;
  const report = reportPath && existsSync(reportPath) ? JSON.parse(readFileSync(reportPath, "utf8")) : null;
  return {
    ...r,
    report,
    simLog: existsSync(log) ? readFileSync(log, "utf8") : "",
    warnings: (r.trace?.inferscope.warnings as string[] | undefined) ?? [],
    kernels: r.trace ? r.trace.traceEvents.filter((e) => e.ph === "X" && e.cat === "kernel") : [],
  };
}
