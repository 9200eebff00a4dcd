// `inferscope diff` on real before/after pairs (test/fixtures/diff/README.md says how each was
// made), the significance test against hand-computed and scipy-computed intervals, the
// --fail-if gate's exit codes and every bad input.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { copyFileSync, writeFileSync } from "node:fs";
import { cli, ROOT, tempDir } from "../helpers.ts";
import { medianChange, nearestRank } from "../../src/diff/stats.ts";
import { runDiff } from "../../src/cli/diff-command.ts";
import { runAnalyze } from "../../src/cli/analyze-command.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

const D = join(ROOT, "test/fixtures/diff");
const K = join(ROOT, "test/fixtures/kineto");
const LOOP = join(D, "normalize_loop.inferscope.json.gz");
const NUMPY = join(D, "normalize_numpy.inferscope.json.gz");
const B1 = join(D, "mlp_cpu_batch1.kineto.json.gz");
const B8 = join(D, "mlp_cpu_batch8.kineto.json.gz");

describe("significance: percentile bootstrap of the median's change", () => {
  test("hand-computed cases", () => {
    expect(nearestRank([1, 2, 3, 4], 50)).toBe(2);
    expect(nearestRank([1, 2, 3, 4, 5], 50)).toBe(3);
    // Every instance takes the same time: every resample has the same medians, the CI is a point.
    const same = medianChange(Array(12).fill(10), Array(12).fill(8))!;
    expect(same).toEqual({ change_pct: -20, low_pct: -20, high_pct: -20, significant: true, resamples: 2000 });
    // Fully separated samples: every resampled median of NEW (in 8..8.5) is below every one of
    // BASE (in 10..11), so the whole interval lies between the extreme ratios.
    const base = Array.from({ length: 15 }, (_, i) => 10 + i / 14);
    const next = Array.from({ length: 15 }, (_, i) => 8 + i / 28);
    const sep = medianChange(base, next)!;
    expect(sep.significant).toBe(true);
    expect(sep.high_pct).toBeLessThan(0);
    expect(sep.low_pct).toBeGreaterThanOrEqual((8 / 11 - 1) * 100);
    expect(sep.high_pct).toBeLessThanOrEqual((8.5 / 10 - 1) * 100);
    expect(sep.change_pct).toBeCloseTo(((8 + 7 / 28) / (10 + 7 / 14) - 1) * 100, 10);
    // Too few instances: no test
    expect(medianChange([1, 2, 3], [1, 2, 3])).toBeNull();
  });

  test("against scipy.stats.bootstrap (percentile, 200 000 resamples) on the real pairs", async () => {
    // Values from test/diff/scipy_bootstrap.py (scipy 1.17.1). Odd sample sizes, where scipy's
    // median and the nearest-rank median are the same element; the intervals differ only by
    // Monte Carlo error (our 2000 resamples), within 1 percentage point.
    const durs = async (p: string) => (await runAnalyze({ trace: p, format: "json" })).report.scopes.find((s) => s.name === "step")!.durations_ms!;
    const cases: [string, string, number, [number, number, number]][] = [
      [LOOP, NUMPY, 59, [-91.234, -91.667, -89.425]],
      [B1, B8, 39, [-76.616, -82.173, -72.482]],
      [LOOP, LOOP, 59, [0, -18.429, 22.593]],
    ];
    for (const [a, b, n, [point, low, high]] of cases) {
      const m = medianChange((await durs(a)).slice(0, n), (await durs(b)).slice(0, n))!;
      expect(m.change_pct).toBeCloseTo(point, 2);
      expect(Math.abs(m.low_pct - low)).toBeLessThan(1);
      expect(Math.abs(m.high_pct - high)).toBeLessThan(1.5);
    }
  });
});

describe("real before/after pairs", () => {
  test("pure-Python loop → numpy: 91 % faster per step, significant; the loop's functions vanish", async () => {
    const d = await runDiff({ base: LOOP, next: NUMPY });
    const s = d.scopes.step!;
    expect(d.per).toBe("step");
    expect(d.comparable).toBe(true);
    expect(s.count).toMatchObject({ base: 60, new: 60 });
    expect(s.p50_change_pct).toBeCloseTo(-91.24, 1);
    expect(s.significant).toBe(true);
    expect(s.ci_high_pct!).toBeLessThan(-85);
    expect(d.verdict).toStartWith("NEW is 91 % faster per `step` (p50 7.83 → 0.686 ms, 95 % CI of the change −92 % … −89 %)");
    const vanished = d.functions.filter((f) => f.status === "vanished").map((f) => f.function);
    expect(vanished).toContain("normalize_loop");
    expect(d.functions.find((f) => f.function === "normalize_numpy")?.status).toBe("new");
  });

  test("torch MLP batch 1 → batch 8 (Kineto, CPU): 77 % faster per step; 8× fewer aten::linear calls", async () => {
    const d = await runDiff({ base: B1, next: B8 });
    const s = d.scopes.step!;
    expect(s.count).toMatchObject({ base: 40, new: 40 });
    expect(s.p50_change_pct).toBeCloseTo(-76.80, 1);
    expect(s.significant).toBe(true);
    const linear = d.functions.find((f) => f.function === "aten::linear")!;
    expect(linear.calls).toMatchObject({ base: 24, new: 3 });
  });

  test("the same trace against itself: no significant change, and --fail-if exits 0", async () => {
    const d = await runDiff({ base: LOOP, next: LOOP });
    expect(d.scopes.step!.significant).toBe(false);
    expect(new Set(d.functions.map((f) => f.status))).toEqual(new Set(["unchanged"]));
    expect(d.verdict).toStartWith("No significant change per `step` (p50 7.83 → 7.83 ms, 0.0 %; the 95 % CI");
    const r = cli(["diff", LOOP, LOOP, "--format", "json", "--fail-if", "scopes.step.significant && scopes.step.p50_change_pct > 5.0"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).schema).toBe("inferscope.diff/v1");
  });

  test("edited Kineto pair: the top kernel 20 % slower is found with its size", async () => {
    const d = await runDiff({ base: join(K, "vit_fp16.kineto.json.gz"), next: join(D, "vit_fp16_edited_topkernel_slow20.kineto.json.gz") });
    const k = d.kernels.find((x) => x.name === "nvjet_sm90_hsh_128x144_64x6_2x1_v_bz_coopA_bias_TNT")!;
    expect(k.status).toBe("changed");
    expect(k.count.change).toBe(0);
    expect(k.mean_us.change_pct).toBeCloseTo(20, 2);
    expect(d.kernels[0]!.name).toBe(k.name); // the largest |Δ time|
    expect(d.kernels.slice(1).map((x) => x.status)).toEqual(Array(d.kernels.length - 1).fill("unchanged"));
    // Its class carries the whole change; every other class is unchanged.
    const gemm = d.kernel_classes.find((c) => c.class === "gemm")!;
    expect(gemm.status).toBe("changed");
    expect(gemm.total_ms.change).toBe(k.total_ms.change);
    expect(d.kernel_classes.filter((c) => c.status !== "unchanged").map((c) => c.class)).toEqual(["gemm"]);
    expect(d.scopes.step!.test_note).toBe("too few instances for a significance test (4 and 4; at least 10 each)");
  });

  test("edited Kineto pair: syncs removed → sync_stalls resolved, 20.5 → 0 syncs per step", async () => {
    const d = await runDiff({ base: join(K, "sync_stall.kineto.json.gz"), next: join(D, "sync_stall_edited_nosync.kineto.json.gz") });
    expect(d.gpu!.syncs).toEqual({ base: 20.5, new: 0, change: -20.5, change_pct: -100 });
    expect(d.findings.resolved).toEqual(["sync_stalls"]);
    expect(d.verdict).toContain("sync-stalls resolved");
  });

  test("a stored report.json diffs like its trace (instance durations are in the report)", async () => {
    const dir = tempDir();
    const rep = join(dir, "base.report.json");
    expect(cli(["analyze", LOOP, "-f", "json", "-o", rep]).code).toBe(0);
    const d = await runDiff({ base: rep, next: NUMPY });
    expect(d.base.from).toBe("report");
    expect(d.scopes.step!.significant).toBe(true);
    expect(d.scopes.step!.p50_change_pct).toBeCloseTo(-91.24, 1);
  });

  test("a run directory: its trace (else its report.json)", async () => {
    const dir = tempDir();
    copyFileSync(LOOP, join(dir, "trace.json.gz"));
    const d = await runDiff({ base: dir, next: NUMPY });
    expect(d.base).toEqual({ path: join(dir, "trace.json.gz"), format: "inferscope", events: d.base.events, from: "trace" });
    expect(d.scopes.step!.significant).toBe(true);
  });

  test("a torch.profiler log directory: its one trace; several: one line asking for one (it said 'without trace.json')", async () => {
    const dir = tempDir();
    copyFileSync(join(K, "sync_stall.kineto.json.gz"), join(dir, "host_1.1733.pt.trace.json.gz"));
    const d = await runDiff({ base: dir, next: join(K, "sync_stall.kineto.json.gz") });
    expect(d.base.path).toBe(join(dir, "host_1.1733.pt.trace.json.gz"));
    expect(d.scopes.step!.p50_change_pct).toBe(0);
    copyFileSync(join(K, "sync_stall.kineto.json.gz"), join(dir, "host_2.1733.pt.trace.json.gz"));
    const r = cli(["diff", dir, join(K, "sync_stall.kineto.json.gz")]);
    expect(r).toEqual({ code: 2, stdout: "", stderr: `inferscope: BASE ${dir}: a directory with 2 traces (host_1.1733.pt.trace.json.gz, host_2.1733.pt.trace.json.gz); pass one of them\n` });
  });

  test("two different programs: said plainly, no tables", async () => {
    const d = await runDiff({ base: LOOP, next: join(K, "cudagraph.kineto.json.gz") });
    expect(d.comparable).toBe(false);
    expect(d.verdict).toBe("BASE and NEW look like different programs: they share no kernel and no function, so a comparison would mean nothing. Compare two runs of the same script.");
    const r = cli(["diff", LOOP, join(K, "cudagraph.kineto.json.gz"), "--fail-if", "!comparable"]);
    expect(r.code).toBe(1);
  });
});

describe("--fail-if: exit codes 0/1/2", () => {
  test("1 when a condition holds, naming it; the comparison is still written", () => {
    const r = cli(["diff", B1, B8, "--fail-if", "scopes.step.p50_change_pct < -50.0 && scopes.step.significant", "--fail-if", "classification.changed"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toStartWith("# InferScope diff\n");
    // batch 1 is cpu_bound (its ops run 66 % of the trace), batch 8 balanced (36 %): both hold
    expect(r.stderr).toBe("inferscope: --fail-if held: `scopes.step.p50_change_pct < -50.0 && scopes.step.significant`, `classification.changed`\n");
  });
  test("0 when none holds", () => {
    const r = cli(["diff", B1, B8, "--fail-if", "scopes.step.p50_change_pct > 5.0", "-f", "json"]);
    expect(r.code).toBe(0);
  });
  const bad: [string, string[], string][] = [
    ["unknown metric, with its column", ["--fail-if", "scopes.step.p50_chnage_pct > 5.0"], "inferscope: --fail-if `scopes.step.p50_chnage_pct > 5.0`, column 13: unknown metric `scopes.step.p50_chnage_pct`; did you mean `scopes.step.p50_change_pct`? (docs/metrics.md lists every metric)\n"],
    ["syntax error", ["--fail-if", "scopes.step.significant &&"], "inferscope: --fail-if `scopes.step.significant &&`, column 27: syntax error: Unexpected token: EOF\n"],
    ["not a condition", ["--fail-if", "scopes.step.p50_change_pct"], "inferscope: --fail-if `scopes.step.p50_change_pct`, column 1: must be a condition (a bool), but it is a double; compare it, e.g. `scopes.step.p50_change_pct > 0`\n"],
    ["second of two is bad", ["--fail-if", "comparable", "--fail-if", "per == 1"], "inferscope: --fail-if #2 `per == 1`, column 1: type error: no such overload: string == int\n"],
    ["missing value", ["--fail-if"], "inferscope: --fail-if needs an expression, e.g. --fail-if 'scopes.step.p50_change_pct > 5.0 && scopes.step.significant'\n"],
  ];
  for (const [name, args, message] of bad) {
    test(`2 on a bad expression: ${name}`, () => {
      const r = cli(["diff", B1, B8, ...args]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toBe(message);
    });
  }
  test("2 when a condition reads a figure the diff does not have", () => {
    const r = cli(["diff", join(K, "vit_fp16.kineto.json.gz"), join(D, "vit_fp16_edited_topkernel_slow20.kineto.json.gz"), "-f", "json", "--fail-if", "scopes.step.significant"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("inferscope: --fail-if `scopes.step.significant` cannot be decided: `scopes.step.significant` is absent in this trace (guard it with has())\n");
  });
});

describe("bad input: one line, exit 2, nothing overwritten", () => {
  const dir = tempDir();
  const notReport = join(dir, "report.json");
  writeFileSync(notReport, '{"schema": "inferscope.report/v1", "x": 1}');
  const cases: [string, string[], string][] = [
    ["missing BASE", ["diff", join(dir, "nope.json"), B8], `inferscope: BASE ${join(dir, "nope.json")}: no such file or directory; pass a trace, a run directory or a report.json\n`],
    ["a directory without a trace", ["diff", dir, B8], `inferscope: BASE ${dir}: not an inferscope.report/v1 report (missing schema, scopes, findings, bottleneck or cpu); pass a trace, a run directory or a report written by inferscope\n`],
    ["one input", ["diff", B8], "inferscope: diff needs two inputs, BASE and NEW (got 1): inferscope diff base.json.gz new.json.gz\n"],
    ["bad format", ["diff", B1, B8, "--format", "pdf"], 'inferscope: --format must be md, html or json (got "pdf")\n'],
    ["NEW not a trace", ["diff", B1, join(ROOT, "package.json")], `inferscope: NEW: ${join(ROOT, "package.json")}: JSON but not a trace (no "traceEvents" array; its keys: "name", "version", "description", "type", "private", "bin"); pass a Chrome-trace JSON file from 'inferscope run' or torch.profiler's export_chrome_trace\n`],
  ];
  for (const [name, args, message] of cases) {
    test(name, () => {
      const r = cli(args);
      expect(r.stderr).toBe(message);
      expect(r.code).toBe(2);
    });
  }
  test("--output never replaces a file without --force", () => {
    const out = join(dir, "diff.md");
    writeFileSync(out, "mine");
    const r = cli(["diff", B1, B8, "-o", out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`inferscope: ${out} already exists; pass --force to overwrite it, or choose another path\n`);
    expect(cli(["diff", B1, B8, "-o", out, "--force"]).code).toBe(0);
  });
});

describe("analyze: several traces, one report per line", () => {
  test("--format ndjson on 3 traces gives 3 lines that each parse as a report", () => {
    const paths = [B1, B8, join(K, "sync_stall.kineto.json.gz")];
    const r = cli(["analyze", "--format", "ndjson", ...paths]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n").filter((l) => l !== "");
    expect(lines.length).toBe(3);
    lines.forEach((l, i) => {
      const rep = JSON.parse(l);
      expect(rep.schema).toBe("inferscope.report/v1");
      expect(rep.source.path).toBe(paths[i]);
    });
  });
  test("several traces without ndjson, or a bad one among them", () => {
    expect(cli(["analyze", B1, B8]).stderr).toBe("inferscope: 2 traces given: several traces need --format ndjson (one report per line); or analyze one at a time\n");
    const r = cli(["analyze", "-f", "ndjson", B1, "/nonexistent.json", B8]);
    expect(r.code).toBe(2);
    expect(r.stdout.split("\n").filter((l) => l).length).toBe(2);
    expect(r.stderr).toBe("inferscope: /nonexistent.json: no such file; check the path (skipped)\ninferscope: 1 of 3 traces could not be read (see above); the other reports were written\n");
  });
});

describe("estimated savings (findings[].estimated_saving, where a finding has one)", () => {
  test("a new finding's saving is in the verdict, per step when the finding says so", async () => {
    const { diffReports } = await import("../../src/diff/compare.ts");
    const base = (await runAnalyze({ trace: join(D, "sync_stall_edited_nosync.kineto.json.gz"), format: "json" })).report;
    const next = (await runAnalyze({ trace: join(K, "sync_stall.kineto.json.gz"), format: "json" })).report;
    const f = next.findings.find((x) => x.rule === "sync_stalls")!;
    f.estimated_saving = { ms: 2.1, per: "step", basis: "test" };
    const info = { path: "x", format: "kineto", events: 1, from: "trace" as const };
    const d = diffReports(base, next, { base: info, new: info });
    expect(d.findings.new).toEqual(["sync_stalls"]);
    expect(d.findings.details.find((x) => x.rule === "sync_stalls")!.estimated_saving_ms).toEqual({ base: null, new: 2.1, change: null, change_pct: null });
    expect(d.verdict).toContain("new: sync-stalls (est. 2.10 ms/step)");
  });
});
