// The hand-made GPU-bound traces (test/fixtures/handmade, real kernel names, not recordings): the
// fp32 one gets the TF32 finding, the bf16 one does not; each gets at least two findings with at
// least two suggestions, savings that match their formulas computed from the raw file, and a
// verdict that names the dominant kernel class, its kernel and the largest saving.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
import { analyze } from "../../src/analyze/index.ts";
import type { Report } from "../../src/analyze/report-types.ts";
import { readTrace } from "../../src/trace/read.ts";
import { HANDMADE_DIR, handmadeBytes, handmadeFile, type HandmadePrecision } from "../fixtures/handmade/gpu-bound.ts";
import { ns } from "./raw.ts";

setDefaultTimeout(60_000);

const path = (p: HandmadePrecision) => join(HANDMADE_DIR, handmadeFile(p));
async function report(p: HandmadePrecision): Promise<Report> {
  return analyze(await readTrace(path(p), { progress: false }), { path: handmadeFile(p) });
}
const raw = (p: HandmadePrecision) => JSON.parse(gunzipSync(readFileSync(path(p))).toString("utf8")).traceEvents as Record<string, any>[];

test("the committed files are what the generator writes", () => {
  for (const p of ["fp32", "bf16"] as const) expect(Buffer.from(readFileSync(path(p))).equals(Buffer.from(handmadeBytes(p)))).toBe(true);
});

describe.each(["fp32", "bf16"] as const)("%s", (p) => {
  test("GPU-bound, with ≥ 2 findings of ≥ 2 suggestions each, and savings that fit in the window", async () => {
    const r = await report(p);
    expect(r.bottleneck.classification).toBe("gpu_bound");
    expect(r.findings.length).toBeGreaterThanOrEqual(2);
    for (const f of r.findings) expect(f.suggestions.length).toBeGreaterThanOrEqual(2);
    const total = r.findings.reduce((s, f) => s + f.estimated_saving!.window_ms!, 0);
    expect(total).toBeLessThanOrEqual(r.gpu!.window_ms);
    // the verdict: the dominant class, its kernel, the largest saving (the first finding's)
    const first = r.findings[0]!;
    expect(r.bottleneck.reason).toContain("GEMM kernels take");
    expect(r.bottleneck.reason).toContain(`largest estimated saving: ${first.estimated_saving!.ms} ms per \`ProfilerStep\``);
    expect(r.bottleneck.reason).toContain(`from ${first.rule}`);
    expect(r.gpu!.kernels.by_class![0]!.class).toBe("gemm");
  });
});

describe("fp32: SIMT SGEMMs on an H100", () => {
  test("the TF32 finding first, priced at 1 − 67 / 494.5 of the SGEMMs' time; unfused attention second", async () => {
    const r = await report("fp32");
    expect(r.findings.map((f) => f.rule)).toEqual(["fp32_gemm", "unfused_attention"]);
    const sgemmNs = raw("fp32")
      .filter((e) => e.cat === "kernel" && /simt_sgemm|_ffma_/.test(e.name))
      .reduce((s, e) => s + ns(e.dur), 0);
    const f = r.findings[0]!;
    expect(f.estimated_saving!.window_ms).toBeCloseTo((sgemmNs * (1 - 67 / 494.5)) / 1e6, 2);
    expect(f.estimated_saving!.per).toBe("step");
    expect(f.suggestions[0]).toContain('torch.set_float32_matmul_precision("high")');
  });
  test("achieved TFLOP/s from the ops' shapes: 50 TFLOP/s for the projections, 45 for the batched matmuls, as built", async () => {
    const g = (await report("fp32")).gpu!.kernels.gemm!;
    expect(g.device).toBe("H100 SXM");
    expect(g.not_measured).toBeNull();
    const row = g.by_precision[0]!;
    expect(row).toMatchObject({ precision: "fp32", tensor_cores: false, peak_tflops: 67 });
    expect(row.achieved_tflops!).toBeGreaterThan(45);
    expect(row.achieved_tflops!).toBeLessThan(50);
    expect(row.pct_of_peak!).toBeCloseTo((row.achieved_tflops! / 67) * 100, 9);
  });
});

describe("bf16: tensor-core GEMMs on an H100", () => {
  test("no TF32 finding; FP8, fusion and attention findings instead", async () => {
    const rules = (await report("bf16")).findings.map((f) => f.rule);
    expect(rules).not.toContain("fp32_gemm");
    expect(rules.sort()).toEqual(["fp8_candidate", "unfused_attention", "unfused_glue"]);
  });
  test("the softmax and scaling between the matmuls count for the attention finding, not again for the fusion", async () => {
    const r = await report("bf16");
    const glue = r.findings.find((f) => f.rule === "unfused_glue")!.estimated_saving!;
    expect(glue.overlaps).toEqual(["unfused_attention"]);
    expect(glue.standalone_ms! - glue.window_ms!).toBeGreaterThan(0);
  });
  test("the fusion finding names the longest run's ops in launch order (residual add, then the RMSNorm written out)", async () => {
    const glue = (await report("bf16")).findings.find((f) => f.rule === "unfused_glue")!;
    expect(glue.suggestions[0]).toContain("the longest has 9 (`aten::add` → `aten::to` → `aten::pow` → `aten::mean` → `aten::add` → `aten::rsqrt` → …)");
  });
});
