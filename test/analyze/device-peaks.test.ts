// The device peak table: CUDA device names → the right datasheet row, and rows that agree with
// themselves (FP16 = BF16; TF32 = half of FP16; FP8 = twice FP16, to the datasheets' rounding).
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { DEVICE_PEAKS, deviceFacts, peaksFor } from "../../src/analyze/device-peaks.ts";

setDefaultTimeout(60_000);

describe("device names (as cuDeviceGetName and Kineto's deviceProperties spell them)", () => {
  const cases: [string, string | undefined][] = [
    ["NVIDIA H100 80GB HBM3", "H100 SXM"], // the fixtures' device
    ["NVIDIA H100 PCIe", "H100 PCIe"],
    ["NVIDIA H100 NVL", "H100 NVL"],
    ["NVIDIA H200", "H200 SXM"],
    ["NVIDIA H200 NVL", "H200 NVL"],
    ["NVIDIA A100-SXM4-80GB", "A100"],
    ["NVIDIA A100-PCIE-40GB", "A100"],
    ["NVIDIA A100 80GB PCIe", "A100"],
    ["NVIDIA L4", "L4"],
    ["NVIDIA L40S", "L40S"],
    ["NVIDIA A10", "A10"],
    ["NVIDIA GeForce RTX 4090", "RTX 4090"],
    ["Tesla T4", "T4"],
    // not in the table: other SKUs with other peaks
    ["NVIDIA A10G", undefined],
    ["NVIDIA L40", undefined],
    ["NVIDIA GeForce RTX 4090 D", undefined],
    ["NVIDIA B200", undefined],
  ];
  for (const [name, row] of cases) test(`${name} → ${row ?? "not in the table"}`, () => expect(peaksFor({ name })?.name).toBe(row));
});

describe("every row", () => {
  for (const d of DEVICE_PEAKS) {
    test(`${d.name}: consistent dense figures and a source`, () => {
      const p = d.tflops;
      expect(d.source).toMatch(/NVIDIA/);
      expect(p.fp32).toBeGreaterThan(0);
      expect(p.fp16).toBeGreaterThan(p.fp32!);
      if (p.bf16 !== undefined) expect(p.bf16).toBe(p.fp16!);
      // within 2 %: the datasheets round (L4: 120 TF32 vs 242 FP16; L40S: 183 vs 362.05)
      if (p.tf32 !== undefined) expect(Math.abs(p.tf32 / (p.fp16! / 2) - 1)).toBeLessThan(0.02);
      if (p.fp8 !== undefined) expect(Math.abs(p.fp8 / (2 * p.fp16!) - 1)).toBeLessThan(0.02);
      expect(Number(d.cc)).toBeGreaterThanOrEqual(7.5);
      // FP8 tensor cores exist from sm89 on, TF32 from sm80 on
      expect(p.fp8 !== undefined).toBe(Number(d.cc) >= 8.9);
      expect(p.tf32 !== undefined).toBe(Number(d.cc) >= 8.0);
    });
  }
  test("H100 SXM: the datasheet's figures halved (989 TF32, 1 979 BF16, 3 958 FP8 with sparsity)", () => {
    expect(peaksFor({ name: "NVIDIA H100 80GB HBM3" })!.tflops).toEqual({ fp32: 67, tf32: 494.5, fp16: 989.5, bf16: 989.5, fp8: 1979, int8: 1979 });
  });
});

describe("device facts: the trace first, the table where the trace is silent", () => {
  test("the fixtures' H100 (Kineto gives SM count and compute capability)", () => {
    const f = deviceFacts({ index: 0, name: "NVIDIA H100 80GB HBM3", smCount: 132, computeMajor: 9, computeMinor: 0 })!;
    expect([f.cc, f.sms, f.peaks?.name]).toEqual([9, 132, "H100 SXM"]);
  });
  test("a MIG slice reports its own SM count; the compute capability comes from the name", () => {
    const f = deviceFacts({ index: 0, name: "NVIDIA A100-SXM4-80GB", smCount: 14 })!;
    expect([f.cc, f.sms]).toEqual([8, 14]);
  });
  test("an unknown GPU: what the trace says, nothing more", () => {
    expect(deviceFacts({ index: 0, name: "NVIDIA B200", computeMajor: 10, computeMinor: 0 })).toEqual({ name: "NVIDIA B200", cc: 10, sms: null, peaks: undefined });
    expect(deviceFacts({ index: 0, name: "GPU" })).toEqual({ name: "GPU", cc: null, sms: null, peaks: undefined });
    expect(deviceFacts(undefined)).toBeNull();
  });
});
