// GPU collection from the parent's side: decide whether CUPTI can run (driver, GPU count, one
// GPU only), give the child the environment that makes the driver load the shim at cuInit, and
// read what the shim wrote once the child is gone.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config/keys.ts";
import { fail } from "../errors.ts";
import type { CpuSpan, DeviceInfo } from "../trace/model.ts";
import { scanDevices } from "./devices.ts";
import { readGpuRecords, type GpuRecords } from "./gpu-records.ts";
import type { Native } from "./native.ts";

export type GpuCollection = "cupti" | "no-driver" | "no-gpu" | "no-cupti" | "cupti-busy" | "cupti-error" | "disabled" | "not-used";

export interface GpuPlan {
  /** Variables to add to the child's environment. */
  env: Record<string, string>;
  devices: DeviceInfo[];
  /** Set when GPU collection is off from the start, with the one-line warning to show. */
  off?: { status: GpuCollection; warning: string };
  recordsPath: string;
}

export const GPU_FILE = "gpu.bin";

export function planGpu(native: Native, config: Config, shimPath: string, sessionDir: string, env: NodeJS.ProcessEnv): GpuPlan {
  const recordsPath = join(sessionDir, GPU_FILE);
  const childEnv: Record<string, string> = {};
  // --device N: the child sees that GPU only (and so do we, for the count below).
  if (config.device !== "auto") childEnv.CUDA_VISIBLE_DEVICES = String(config.device);
  // The driver reads it once, at cuInit, from the C environment: set it there before the scan.
  if (childEnv.CUDA_VISIBLE_DEVICES !== undefined) native.setenv("CUDA_VISIBLE_DEVICES", childEnv.CUDA_VISIBLE_DEVICES);
  const scan = scanDevices(native);
  const plan: GpuPlan = { env: childEnv, devices: scan.devices, recordsPath };
  if (scan.reason) {
    const status: GpuCollection = /driver: libcuda|no NVIDIA driver/.test(scan.reason) ? "no-driver" : "no-gpu";
    plan.off = { status, warning: `GPU collection off: ${scan.reason}; the report is CPU-only` };
    return plan;
  }
  if (scan.devices.length > 1)
    fail(`${scan.devices.length} GPUs are visible and InferScope profiles one: pass --device N (0..${scan.devices.length - 1}), which sets CUDA_VISIBLE_DEVICES for the script`);
  const injected = env.CUDA_INJECTION64_PATH;
  if (injected && injected !== shimPath) {
    plan.off = { status: "cupti-busy", warning: `GPU collection off: CUDA_INJECTION64_PATH is already set (${injected}; nsys or another CUPTI tool?) and CUPTI serves one client per process` };
    return plan;
  }
  childEnv.CUDA_INJECTION64_PATH = shimPath;
  childEnv._INFERSCOPE_GPU_OUT = recordsPath;
  // The shim records only in our direct child, not in the script's own subprocesses.
  childEnv._INFERSCOPE_GPU_PPID = String(process.pid);
  if (config.cuptiPath) childEnv._INFERSCOPE_CUPTI_PATH = config.cuptiPath;
  return plan;
}

export interface GpuResult {
  status: GpuCollection;
  records: GpuRecords | null;
  warning?: string;
}

/** After the child ended: what CUPTI recorded, or why nothing was. */
export function collectGpu(plan: GpuPlan, pid: number): GpuResult {
  if (plan.off) return { status: plan.off.status, records: null, warning: plan.off.warning };
  const statusFile = `${plan.recordsPath}.status`;
  if (!existsSync(statusFile)) return { status: "not-used", records: null }; // the script never initialised CUDA
  const status = readFileSync(statusFile, "utf8").trim();
  if (!status.startsWith("cupti:")) {
    const kind = (status.split(":")[0] ?? "") as GpuCollection;
    return {
      status: kind === "no-cupti" || kind === "cupti-busy" ? kind : "cupti-error",
      records: null,
      warning: `GPU collection off: ${status}; the report is CPU-only`,
    };
  }
  const records = readGpuRecords(readFileSync(plan.recordsPath), pid);
  // CUPTI's sync records carry no thread: take it from the API call with the same correlation id.
  const tidOf = new Map(records.api.map((a) => [a.correlation, a.tid]));
  for (const s of records.syncs) if (s.tid < 0 && s.correlation !== undefined) s.tid = tidOf.get(s.correlation) ?? s.tid;
  const warnings: string[] = [];
  if (!records.info.includes("flushed"))
    warnings.push("the script ended without InferScope's final CUPTI flush (os._exit or a kill): GPU activity after the last delivered buffer is missing");
  if (records.info.some((i) => i.startsWith("clock: CUPTI default")))
    warnings.push("CUPTI's timestamp callback was refused: GPU times are on CUPTI's own clock, so CPU↔GPU alignment is not guaranteed");
  return { status: "cupti", records, ...(warnings.length ? { warning: warnings.join("; ") } : {}) };
}

const PROFILER_FILE = /torch\/(autograd\/profiler|profiler\/profiler)\.py$/;
const PROFILER_START = /(^|\.)(start|__enter__)$/;

/** CUPTI serves one client per process: a script that starts torch.profiler itself takes it from
 * us (or we from it). Seen in the recorded Python calls, said once. */
export function otherCuptiClientWarning(spans: readonly CpuSpan[]): string | null {
  const hit = spans.find((s) => s.cat === "python" && s.file !== undefined && PROFILER_FILE.test(s.file) && PROFILER_START.test(s.name));
  if (!hit) return null;
  return `the script starts torch.profiler itself (${hit.name} in ${hit.file}): CUPTI serves one client per process, so GPU records from then on may be missing here or in torch.profiler's trace; profile without it`;
}
