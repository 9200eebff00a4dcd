// Peak throughput per GPU and precision, from NVIDIA's datasheets, so that a GEMM's achieved
// TFLOP/s can be stated against its device's peak and a precision change (fp32 → TF32, bf16 →
// FP8) can be priced at the ratio of the two peaks. Dense figures: the datasheets of Ampere and
// later print tensor-core peaks "with sparsity" (2:4 structured sparsity), twice the dense rate
// that an ordinary GEMM can reach; the dense figure is the one the datasheet prints beside it,
// else half the sparse one (`sparse: true` marks the rows whose datasheet has both). `fp32` is the
// CUDA-core (non-tensor) FP32 rate, what an SGEMM without tensor cores runs against. GeForce cards
// run FP16/BF16/FP8 tensor math with FP32 accumulation (what PyTorch uses) at half the
// FP16-accumulate rate: the FP32-accumulate figure is the one given.
import type { DeviceInfo } from "../trace/model.ts";

export type Precision = "fp32" | "tf32" | "fp16" | "bf16" | "fp8" | "int8";

export interface DevicePeaks {
  /** Short name used in reports: "H100 SXM". */
  name: string;
  /** Matches the CUDA device name (cuDeviceGetName, Kineto's deviceProperties.name). */
  match: RegExp;
  /** Compute capability, "major.minor". */
  cc: string;
  sms: number;
  /** Dense peak TFLOP/s (TOPS for int8) per precision; a missing key: no such hardware path. */
  tflops: Partial<Record<Precision, number>>;
  /** The datasheet's tensor-core figures are "with sparsity" (halved here). */
  sparse: boolean;
  source: string;
}

/** One row per product; the first whose `match` fits the device name is used. */
export const DEVICE_PEAKS: readonly DevicePeaks[] = [
  {
    name: "H100 SXM",
    match: /H100.*(SXM|HBM3)/i,
    cc: "9.0",
    sms: 132,
    tflops: { fp32: 67, tf32: 494.5, fp16: 989.5, bf16: 989.5, fp8: 1979, int8: 1979 },
    sparse: true,
    source: "NVIDIA H100 Tensor Core GPU datasheet (H100 SXM column)",
  },
  {
    name: "H100 NVL",
    match: /H100 NVL/i,
    cc: "9.0",
    sms: 132,
    tflops: { fp32: 60, tf32: 417.5, fp16: 835.5, bf16: 835.5, fp8: 1670.5, int8: 1670.5 },
    sparse: true,
    source: "NVIDIA H100 Tensor Core GPU datasheet (H100 NVL column)",
  },
  {
    name: "H100 PCIe",
    match: /H100.*(PCIe|HBM2e)/i,
    cc: "9.0",
    sms: 114,
    tflops: { fp32: 51, tf32: 378, fp16: 756.5, bf16: 756.5, fp8: 1513, int8: 1513 },
    sparse: true,
    source: "NVIDIA H100 Tensor Core GPU datasheet (H100 PCIe column)",
  },
  {
    name: "H200 NVL",
    match: /H200 NVL/i,
    cc: "9.0",
    sms: 132,
    tflops: { fp32: 60, tf32: 417.5, fp16: 835.5, bf16: 835.5, fp8: 1670.5, int8: 1670.5 },
    sparse: true,
    source: "NVIDIA H200 Tensor Core GPU datasheet (H200 NVL column)",
  },
  {
    name: "H200 SXM",
    match: /H200/i,
    cc: "9.0",
    sms: 132,
    tflops: { fp32: 67, tf32: 494.5, fp16: 989.5, bf16: 989.5, fp8: 1979, int8: 1979 },
    sparse: true,
    source: "NVIDIA H200 Tensor Core GPU datasheet (H200 SXM column)",
  },
  {
    name: "A100",
    match: /A100/i,
    cc: "8.0",
    sms: 108,
    tflops: { fp32: 19.5, tf32: 156, fp16: 312, bf16: 312, int8: 624 },
    sparse: true,
    source: "NVIDIA A100 Tensor Core GPU datasheet (SXM and PCIe have the same peaks)",
  },
  {
    name: "L40S",
    match: /L40S/i,
    cc: "8.9",
    sms: 142,
    tflops: { fp32: 91.6, tf32: 183, fp16: 362.05, bf16: 362.05, fp8: 733, int8: 733 },
    sparse: true,
    source: "NVIDIA L40S GPU datasheet",
  },
  {
    name: "L4",
    match: /\bL4$/i,
    cc: "8.9",
    sms: 58,
    tflops: { fp32: 30.3, tf32: 60, fp16: 121, bf16: 121, fp8: 242.5, int8: 242.5 },
    sparse: true,
    source: "NVIDIA L4 Tensor Core GPU datasheet",
  },
  {
    name: "A10",
    match: /\bA10$/i,
    cc: "8.6",
    sms: 72,
    tflops: { fp32: 31.2, tf32: 62.5, fp16: 125, bf16: 125, int8: 250 },
    sparse: true,
    source: "NVIDIA A10 Tensor Core GPU datasheet",
  },
  {
    name: "RTX 4090",
    match: /RTX 4090$/i,
    cc: "8.9",
    sms: 128,
    tflops: { fp32: 82.6, tf32: 82.6, fp16: 165.2, bf16: 165.2, fp8: 330.3, int8: 660.6 },
    sparse: true,
    source: "NVIDIA Ada GPU architecture whitepaper, GeForce RTX 4090 (tensor figures with FP32 accumulate)",
  },
  {
    name: "T4",
    match: /\bT4$/i,
    cc: "7.5",
    sms: 40,
    tflops: { fp32: 8.1, fp16: 65, int8: 130 },
    sparse: false,
    source: "NVIDIA T4 Tensor Core GPU datasheet (Turing: no TF32, BF16 or FP8; no structured sparsity)",
  },
];

/** The peak table's row for a device, by its name; undefined for a GPU not in the table. */
export function peaksFor(device: Pick<DeviceInfo, "name"> | undefined): DevicePeaks | undefined {
  if (!device) return undefined;
  const name = device.name.trim();
  return DEVICE_PEAKS.find((d) => d.match.test(name));
}

/** What the analysis knows of the GPU: from the trace first, from the peak table where the trace is silent. */
export interface DeviceFacts {
  name: string;
  /** Compute capability as a number, 9.0, 8.9 …; null when unknown. */
  cc: number | null;
  sms: number | null;
  peaks: DevicePeaks | undefined;
}

export function deviceFacts(device: DeviceInfo | undefined): DeviceFacts | null {
  if (!device) return null;
  const peaks = peaksFor(device);
  // a major of 0 is no answer (a driver stand-in that knows no attributes)
  const cc = device.computeMajor ? device.computeMajor + (device.computeMinor ?? 0) / 10 : peaks ? Number(peaks.cc) : null;
  return { name: device.name, cc, sms: device.smCount ?? peaks?.sms ?? null, peaks };
}
