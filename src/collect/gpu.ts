// GPU collection from the parent's side: decide whether CUPTI can run (driver, GPU count, one
// GPU only), give the child the environment that makes the driver load the shim at cuInit (in
// the script and in every process it starts), and read what the shim wrote in each process once
// the child is gone.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Config } from "../config/keys.ts";
import { fail } from "../errors.ts";
import type { CpuSpan, DeviceInfo } from "../trace/model.ts";
import { scanDevices, usedDevices } from "./devices.ts";
import { lossWarnings, processLossWarnings } from "./gpu-loss.ts";
import { readGpuRecords, type GpuRecords } from "./gpu-records.ts";
import type { Native } from "./native.ts";

export type GpuCollection = "cupti" | "no-driver" | "no-gpu" | "no-cupti" | "cupti-busy" | "cupti-error" | "disabled" | "not-used";

export interface GpuPlan {
  /** Variables to add to the child's environment. */
  env: Record<string, string>;
  devices: DeviceInfo[];
  /** Set when GPU collection is off from the start, with the one-line warning to show. */
  off?: { status: GpuCollection; warning: string };
  /** Each process that initialises CUDA writes `<recordsBase>-<pid>.bin` (gpuRecordsFile). */
  recordsBase: string;
}

export const GPU_BASE = "gpu";

export function planGpu(native: Native, config: Config, shimPath: string, sessionDir: string, env: NodeJS.ProcessEnv): GpuPlan {
  const recordsBase = join(sessionDir, GPU_BASE);
  const childEnv = deviceEnv(config.device, env);
  // The driver reads them once, at cuInit, from the C environment: set them there before the scan.
  for (const [k, v] of Object.entries(childEnv)) native.setenv(k, v);
  const scan = scanDevices(native);
  const plan: GpuPlan = { env: childEnv, devices: scan.devices, recordsBase };
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
  // Every process of the run inherits these: each that initialises CUDA records into its own file.
  childEnv._INFERSCOPE_GPU_OUT = recordsBase;
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
  /** Every process's records, merged (each op, call and wait carries its pid). */
  records: GpuRecords | null;
  /** The GPUs the script used, as CUPTI saw them, with what the parent knows of them. */
  devices?: DeviceInfo[];
  warning?: string;
  /** Each process that initialised CUDA, the script's first: what its collection did. */
  processes?: GpuProcess[];
}

/** One process's GPU collection (its own `gpu-<pid>.bin`). */
export interface GpuProcess {
  pid: number;
  /** "cupti" when it recorded, else why not (the shim's status). */
  status: GpuCollection;
  /** Added to its CUPTI correlation ids so that they are unique in the run (0 for the first). */
  correlationBase: number;
}

/** The records file of process `pid`: `<base>-<pid>.bin`, its status file `<base>-<pid>.bin.status` (ffi/cupti.c); a program the process exec'd after using CUDA writes `<base>-<pid>.<k>.bin`. */
export const gpuRecordsFile = (base: string, pid: number, k = 0) => (k ? `${base}-${pid}.${k}.bin` : `${base}-${pid}.bin`);

/** The records files of the processes that initialised CUDA with the shim (each wrote a status file), the script's first, then by pid. */
export function gpuProcessFiles(base: string, mainPid: number): { pid: number; file: string }[] {
  const dir = dirname(base);
  const re = new RegExp(`^${basename(base).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-(\\d+)(?:\\.(\\d+))?\\.bin\\.status$`);
  const found = (existsSync(dir) ? readdirSync(dir) : []).map((f) => re.exec(f)).filter((m) => m !== null).map((m) => ({ pid: Number(m![1]), k: Number(m![2] ?? 0) }));
  found.sort((a, b) => (a.pid === b.pid ? a.k - b.k : a.pid === mainPid ? -1 : b.pid === mainPid ? 1 : a.pid - b.pid));
  return found.map(({ pid, k }) => ({ pid, file: gpuRecordsFile(base, pid, k) }));
}

/** What the parent knows of a process other than the script: its name for the warnings ("Process-1", "python tool.py") and when it was last seen alive. */
export interface ProcessNote {
  label?: string;
  lastSeenNs?: number;
}

/**
 * After the child ended (at `endNs`, CLOCK_MONOTONIC): what CUPTI recorded in every process that
 * initialised CUDA, what was lost in each, or why nothing was recorded. `mainPid` is the script's
 * process; `noteOf` describes the others.
 */
export function collectGpu(plan: GpuPlan, mainPid: number, endNs?: number, noteOf: (pid: number) => ProcessNote = () => ({})): GpuResult {
  if (plan.off) return { status: plan.off.status, records: null, warning: plan.off.warning };
  const files = gpuProcessFiles(plan.recordsBase, mainPid);
  if (files.length === 0) return { status: "not-used", records: null }; // no process initialised CUDA
  const who = (pid: number) => {
    const label = noteOf(pid).label;
    return pid === mainPid ? null : `process ${pid}${label && label !== `pid ${pid}` ? ` (${label})` : ""}`;
  };
  const warnings: string[] = [];
  const processes: GpuProcess[] = [];
  const recorded: { pid: number; records: GpuRecords }[] = [];
  const failed: { status: GpuCollection; what: string; name: string | null }[] = []; // what: the failure, without its consequence
  let base = 0;
  for (const { pid, file } of files) {
    const status = readFileSync(`${file}.status`, "utf8").trim();
    const first = status.split("\n")[0] ?? "";
    const name = who(pid);
    if (!first.startsWith("cupti:")) {
      const kind = (first.split(":")[0] ?? "") as GpuCollection;
      const off: GpuCollection = kind === "no-cupti" || kind === "cupti-busy" ? kind : "cupti-error";
      processes.push({ pid, status: off, correlationBase: 0 });
      failed.push({ status: off, what: name ? `GPU collection off in ${name}: ${first}` : `GPU collection off: ${first}`, name });
      continue;
    }
    let records: GpuRecords;
    try {
      records = readGpuRecords(existsSync(file) ? readFileSync(file) : new Uint8Array(), pid);
    } catch (e) {
      processes.push({ pid, status: "cupti-error", correlationBase: 0 });
      failed.push({ status: "cupti-error", what: `GPU records lost: ${file}: ${(e as Error).message}`, name });
      continue;
    }
    warnings.push(...processLossWarnings(records, status, name, pid === mainPid ? endNs : noteOf(pid).lastSeenNs));
    ownedBy(records, pid, base);
    processes.push({ pid, status: "cupti", correlationBase: base });
    base = nextBase(records, base);
    recorded.push({ pid, records });
  }
  // what a failure costs: the process's GPU work, or all GPU data when no process recorded
  const lost = (f: (typeof failed)[number]) =>
    `${f.what}; ${f.name ? "its GPU work is not in the report" : recorded.length ? "the script's GPU work is not in the report" : "the report is CPU-only"}`;
  if (recorded.length === 0) {
    // Said as before for one process; each process's reason when several tried.
    return { status: failed[0]!.status, records: null, warning: failed.map(lost).join("; "), ...(files.length > 1 ? { processes } : {}) };
  }
  for (const f of failed) warnings.push(lost(f));
  const records = mergeRecords(recorded);
  warnings.push(...lossWarnings(records));
  const used = usedDevices(plan.devices, records.devices);
  if (used.warning) warnings.push(used.warning);
  return { status: "cupti", records, processes, ...(used.devices ? { devices: used.devices } : {}), ...(warnings.length ? { warning: warnings.join("; ") } : {}) };
}

/** Every op, call and wait of one process's records gets its pid; correlation ids move by `base` (CUPTI numbers them per process). */
function ownedBy(r: GpuRecords, pid: number, base: number): void {
  // CUPTI's sync records carry no thread: take it from the API call with the same correlation id.
  const tidOf = new Map(r.api.map((a) => [a.correlation, a.tid]));
  for (const s of r.syncs) if (s.tid < 0 && s.correlation !== undefined) s.tid = tidOf.get(s.correlation) ?? s.tid;
  // 0 is "no correlation": it stays 0, so it never lands on another process's ids
  for (const op of r.gpu) {
    op.pid = pid;
    if (op.correlation) op.correlation += base;
  }
  for (const a of r.api) if (a.correlation) a.correlation += base;
  for (const s of r.syncs) if (s.correlation) s.correlation += base;
}

/** The first correlation id free after a process's records (ids already moved by `base`). */
function nextBase(r: GpuRecords, base: number): number {
  let max = base;
  for (const a of r.api) if (a.correlation > max) max = a.correlation;
  for (const op of r.gpu) if (op.correlation !== undefined && op.correlation > max) max = op.correlation;
  for (const s of r.syncs) if (s.correlation !== undefined && s.correlation > max) max = s.correlation;
  return max;
}

/** The run's records: every process's, the script's first. Memory tracks of processes after the first name their pid ("gpu 0 (pid 123)"): each counts its own allocations. */
function mergeRecords(parts: { pid: number; records: GpuRecords }[]): GpuRecords {
  const first = parts[0]!.records;
  if (parts.length === 1) return first;
  const out: GpuRecords = { ...first, gpu: [], api: [], syncs: [], memory: [], dropped: 0, incomplete: 0, info: [], devices: [], empty: true, truncatedBytes: 0 };
  for (const [i, { pid, records: r }] of parts.entries()) {
    for (const x of r.gpu) out.gpu.push(x);
    for (const x of r.api) out.api.push(x);
    for (const x of r.syncs) out.syncs.push(x);
    for (const m of r.memory) out.memory.push(i === 0 ? m : { ...m, track: `${m.track} (pid ${pid})` });
    out.dropped += r.dropped;
    out.incomplete += r.incomplete;
    out.info.push(...r.info);
    for (const d of r.devices) if (!out.devices.some((x) => x.id === d.id && x.uuid === d.uuid)) out.devices.push(d);
    out.empty &&= r.empty;
    out.truncatedBytes += r.truncatedBytes;
    if (r.startNs !== undefined && (out.startNs === undefined || r.startNs < out.startNs)) out.startNs = r.startNs;
    if (r.lastNs !== undefined && (out.lastNs === undefined || r.lastNs > out.lastNs)) out.lastNs = r.lastNs;
    if (r.writeError && !out.writeError) out.writeError = r.writeError;
  }
  out.gpu.sort((a, b) => a.start - b.start);
  out.api.sort((a, b) => a.start - b.start);
  out.syncs.sort((a, b) => a.start - b.start);
  out.memory.sort((a, b) => a.ts - b.ts);
  return out;
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
