// What the parent can see of the GPUs, through the shim (no CUDA context in the parent).
import { deviceFromRecord } from "../trace/device-record.ts";
import type { DeviceInfo } from "../trace/model.ts";
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
