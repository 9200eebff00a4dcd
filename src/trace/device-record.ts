// A GPU's description from a JSON record, wherever it comes from: the shim's is_gpu_info (through
// collect/devices.ts), an InferScope trace's `inferscope.devices`, or a Kineto trace's
// `deviceProperties` (other field names). Counts, sizes and ids are non-negative: the shim and
// sysfs write -1 for "unknown" (a PCI device with no NUMA affinity), which reads as absent.
import type { DeviceInfo } from "./model.ts";
import { num, str } from "./values.ts";

type Field = Exclude<keyof DeviceInfo, "name" | "pciBusId" | "uuid" | "index">;

/** InferScope's field names: the model's own. */
const INFERSCOPE: Record<Field, string> = {
  memoryBytes: "memoryBytes",
  smCount: "smCount",
  computeMajor: "computeMajor",
  computeMinor: "computeMinor",
  numaNode: "numaNode",
  pcieLinkWidth: "pcieLinkWidth",
  pcieLinkGen: "pcieLinkGen",
};

/** Kineto's deviceProperties name fewer things, differently. */
const KINETO: Partial<Record<Field, string>> = { memoryBytes: "totalGlobalMem", smCount: "numSms", computeMajor: "computeMajor", computeMinor: "computeMinor" };

/** The model's key order (a trace file lists a device's keys in it). */
const ORDER: (Field | "pciBusId" | "uuid")[] = ["memoryBytes", "smCount", "computeMajor", "computeMinor", "numaNode", "pciBusId", "uuid", "pcieLinkWidth", "pcieLinkGen"];

function count(v: unknown): number | undefined {
  const n = num(v);
  return n !== undefined && n >= 0 ? n : undefined;
}

/** `fallbackIndex` when the record has no index of its own (its position in the list). */
export function deviceFromRecord(r: Record<string, unknown>, fallbackIndex: number, format: "inferscope" | "kineto" = "inferscope"): DeviceInfo {
  const kineto = format === "kineto";
  const dev: DeviceInfo = { index: count(r[kineto ? "id" : "index"]) ?? fallbackIndex, name: str(r.name) ?? "GPU" };
  const fields = kineto ? KINETO : INFERSCOPE;
  for (const k of ORDER) {
    if (k === "pciBusId" || k === "uuid") {
      const v = kineto ? undefined : str(r[k]);
      if (v) dev[k] = v;
      continue;
    }
    const v = fields[k] === undefined ? undefined : count(r[fields[k]!]);
    if (v !== undefined) dev[k] = v;
  }
  return dev;
}
