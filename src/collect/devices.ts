// What the parent can see of the GPUs, through the shim (no CUDA context in the parent).
import { deviceFromRecord } from "../trace/device-record.ts";
import type { DeviceInfo } from "../trace/model.ts";
import type { CuptiDevice } from "./gpu-records.ts";
import type { Native } from "./native.ts";

export interface DeviceScan {
  devices: DeviceInfo[];
  /** Why no GPU is listed (no driver, no device…); absent when the driver answered. */
  reason?: string;
}

export function scanDevices(native: Native): DeviceScan {
  const { count, reason } = native.gpuCount();
  if (count < 0) return { devices: [], reason: reason ?? "unknown" };
  const devices: DeviceInfo[] = [];
  for (let i = 0; i < count; i++) {
    const info = native.gpuInfo(i);
    if ("error" in info) continue;
    devices.push({ ...deviceFromRecord(info as Record<string, unknown>, i), index: i });
  }
  return count === 0 ? { devices, reason: "the driver lists no GPU (check CUDA_VISIBLE_DEVICES)" } : { devices };
}

/**
 * The GPUs the script used: CUPTI's device records (by CUDA ordinal, as GPU ops name them),
 * completed with what the parent's scan knows of the same GPU, matched by UUID (CUDA's device
 * order is not nvidia-smi's, so indices alone could name the wrong GPU). Absent without device
 * records; a warning when the GPU used is not the one the parent listed.
 */
export function usedDevices(planned: DeviceInfo[], seen: CuptiDevice[]): { devices?: DeviceInfo[]; warning?: string } {
  if (seen.length === 0) return {};
  const devices: DeviceInfo[] = [];
  const unplanned: string[] = [];
  for (const d of seen) {
    const p = planned.find((x) => x.uuid !== undefined && x.uuid === d.uuid);
    if (!p && planned.length > 0) unplanned.push(`${d.name} (${d.uuid})`);
    devices.push({ ...p, index: d.id, name: d.name, uuid: d.uuid, memoryBytes: d.memoryBytes, smCount: d.smCount });
  }
  if (unplanned.length === 0) return { devices };
  const listed = planned.map((p) => `${p.name}${p.uuid ? ` (${p.uuid})` : ""}`).join(", ");
  return { devices, warning: `the script ran on ${unplanned.join(", ")}, not on the GPU InferScope listed before it started (${listed}): the report names the GPU CUPTI saw` };
}
