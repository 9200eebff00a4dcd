// What the parent can see of the GPUs, through the shim (no CUDA context in the parent).
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
    const d = info as Record<string, unknown>;
    const num = (k: string) => (typeof d[k] === "number" && (d[k] as number) >= 0 ? (d[k] as number) : undefined);
    devices.push({
      index: i,
      name: String(d.name ?? "unknown"),
      ...(num("memoryBytes") !== undefined && { memoryBytes: num("memoryBytes") }),
      ...(num("smCount") !== undefined && { smCount: num("smCount") }),
      ...(num("numaNode") !== undefined && { numaNode: num("numaNode") }),
      ...(d.pciBusId ? { pciBusId: String(d.pciBusId) } : {}),
      ...(num("pcieLinkWidth") !== undefined && { pcieLinkWidth: num("pcieLinkWidth") }),
    });
  }
  return count === 0 ? { devices, reason: "the driver lists no GPU (check CUDA_VISIBLE_DEVICES)" } : { devices };
}
