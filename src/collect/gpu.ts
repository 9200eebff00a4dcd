// GPU collection from the parent's side: decide whether CUPTI can run (driver, GPU count, one
// GPU only), give the child the environment that makes the driver load the shim at cuInit, and
// read what the shim wrote once the child is gone.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config/keys.ts";
import { fail } from "../errors.ts";
import type { CpuSpan, DeviceInfo } from "../trace/model.ts";
import { scanDevices, usedDevices } from "./devices.ts";
import { lossWarnings, parseOthers, usedElsewhereWarning } from "./gpu-loss.ts";
import { readGpuRecords, type GpuRecords } from "./gpu-records.ts";
import type { Native } from "./native.ts";

export type GpuCollection = "cupti" | "no-driver" | "no-gpu" | "no-cupti" | "cupti-busy" | "cupti-error" | "disabled" | "not-used" | "other-process";

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
  const childEnv = deviceEnv(config.device, env);
  // The driver reads them once, at cuInit, from the C environment: set them there before the scan.
  for (const [k, v] of Object.entries(childEnv)) native.setenv(k, v);
  const scan = scanDevices(native);
  const plan: GpuPlan = { env: childEnv, devices: scan.devices, recordsPath };
  if (scan.reason) {
    const status: GpuCollection = /driver: libcuda|no NVIDIA driver/.test(scan.reason) ? "no-driver" : "no-gpu";
    plan.off = { status, warning: `GPU collection off: ${scan.reason}; the report is CPU-only` };
    return plan;
  }
  if (scan.devices.length > 1)
    fail(`${scan.devices.length} GPUs are visible and InferScope profiles one: pass --device N (0..${scan.devices.length - 1}), which sets CUDA_VISIBLE_DEVICES for the script`);
  if (!native.hasCupti()) {
    plan.off = { status: "no-cupti", warning: "GPU collection off: this InferScope was built without the CUDA headers (cupti.h), so it cannot record GPU activity; rebuild it with CUDA_HOME set; the report is CPU-only" };
    return plan;
  }
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
  // Closed at first (--capture manual, --delay): CUPTI records nothing until the tracer opens a window.
  if (config.capture === "manual" || config.delay > 0) childEnv._INFERSCOPE_GPU_CAPTURE = "0";
  return plan;
}

/**
 * `--device N` → the child's CUDA_VISIBLE_DEVICES. With CUDA_VISIBLE_DEVICES already set, N
 * indexes into it (its entries keep their meaning). Otherwise N is nvidia-smi's number: CUDA's
 * default order puts the fastest GPU first, so PCI bus order is asked for unless the user chose
 * an order.
 */
export function deviceEnv(device: Config["device"], env: NodeJS.ProcessEnv): Record<string, string> {
  if (device === "auto") return {};
  const visible = env.CUDA_VISIBLE_DEVICES;
  if (visible !== undefined && visible.trim() !== "") {
    const list = visible.split(",").map((d) => d.trim());
    if (device >= list.length)
      fail(`--device ${device}: CUDA_VISIBLE_DEVICES=${visible} lists ${list.length} GPU${list.length === 1 ? "" : "s"}; pass --device 0..${list.length - 1} (an index into that list)`);
    return { CUDA_VISIBLE_DEVICES: list[device]! };
  }
  return { CUDA_VISIBLE_DEVICES: String(device), ...(env.CUDA_DEVICE_ORDER === undefined ? { CUDA_DEVICE_ORDER: "PCI_BUS_ID" } : {}) };
}

export interface GpuResult {
  status: GpuCollection;
  records: GpuRecords | null;
  /** The GPUs the script used, as CUPTI saw them, with what the parent knows of them. */
  devices?: DeviceInfo[];
  warning?: string;
}

/** After the child ended (at `endNs`, CLOCK_MONOTONIC): what CUPTI recorded, what was lost, or why nothing was recorded. */
export function collectGpu(plan: GpuPlan, pid: number, endNs?: number): GpuResult {
  if (plan.off) return { status: plan.off.status, records: null, warning: plan.off.warning };
  const statusFile = `${plan.recordsPath}.status`;
  const othersFile = `${plan.recordsPath}.others`;
  const others = existsSync(othersFile) ? parseOthers(readFileSync(othersFile, "utf8")) : [];
  if (!existsSync(statusFile)) {
    // The script's process never initialised CUDA (another may have).
    return others.length > 0 ? { status: "other-process", records: null, warning: usedElsewhereWarning(others) } : { status: "not-used", records: null };
  }
  const status = readFileSync(statusFile, "utf8").trim();
  const first = status.split("\n")[0] ?? "";
  if (!first.startsWith("cupti:")) {
    const kind = (first.split(":")[0] ?? "") as GpuCollection;
    return {
      status: kind === "no-cupti" || kind === "cupti-busy" ? kind : "cupti-error",
      records: null,
      warning: `GPU collection off: ${first}; the report is CPU-only`,
    };
  }
  let records: GpuRecords;
  try {
    records = readGpuRecords(existsSync(plan.recordsPath) ? readFileSync(plan.recordsPath) : new Uint8Array(), pid);
  } catch (e) {
    return { status: "cupti-error", records: null, warning: `GPU records lost: ${plan.recordsPath}: ${(e as Error).message}; the report is CPU-only` };
  }
  // CUPTI's sync records carry no thread: take it from the API call with the same correlation id.
  const tidOf = new Map(records.api.map((a) => [a.correlation, a.tid]));
  for (const s of records.syncs) if (s.tid < 0 && s.correlation !== undefined) s.tid = tidOf.get(s.correlation) ?? s.tid;
  const warnings = lossWarnings(records, status, others, endNs);
  const used = usedDevices(plan.devices, records.devices);
  if (used.warning) warnings.push(used.warning);
  return { status: "cupti", records, ...(used.devices ? { devices: used.devices } : {}), ...(warnings.length ? { warning: warnings.join("; ") } : {}) };
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
