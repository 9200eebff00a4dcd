// A rules file applied to a real fixture (the H100 llama_tiny_generate Kineto trace): a threshold
// override, a disabled rule and two user rules change the findings exactly as expected, in all
// three report formats.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { runAnalyze } from "../../src/cli/analyze-command.ts";
import { builtins } from "../../src/rules/builtins.ts";
import { loadRules, parseRules } from "../../src/rules/file.ts";
import { ROOT } from "../helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

const LLAMA = join(ROOT, "test/fixtures/kineto/llama_tiny_generate.kineto.json.gz");
const GOOD = join(ROOT, "test/rules/good.inferscope_rules.yaml");

describe("rules file on llama_tiny_generate", () => {
  test("without it: launch_bound, sync_stalls, gpu_idle (ranked by estimated saving)", async () => {
    const { report } = await runAnalyze({ trace: LLAMA, format: "json" });
    expect(report.findings.map((f) => [f.rule, f.impact_ms, f.estimated_saving!.window_ms])).toEqual([
      ["launch_bound", 163.627, 159.859],
      ["sync_stalls", 3.767, 3.766],
      ["gpu_idle", 163.764, 0.137], // the rest of its idle time is launch_bound's and sync_stalls'
    ]);
  });

  test("launch_bound.min_kernels 5000 (4693 launched: no longer fires), sync_stalls disabled, two user rules fire", async () => {
    const rules = loadRules(GOOD, builtins());
    const { report, text } = await runAnalyze({ trace: LLAMA, format: "md", rules });
    expect(report.findings.map((f) => [f.rule, f.source ?? "built-in", f.severity, f.confidence, f.impact_ms])).toEqual([
      ["gpu_idle", "built-in", "high", 0.95, 163.764],
      ["step_budget", "user", "high", 0.9, 81.689],
      ["gpu_mostly_idle", "user", "medium", 1, 0],
    ]);
    const [, budget, idle] = report.findings;
    expect(budget!.title).toBe("step p95 is 181.7 ms, over the 100 ms budget");
    // the user rule asks 81.689 ms; gpu_idle already holds 163.764 of the 176.193 ms window: it gets
    // the 12.428 ms left (savings never add up to more than the window)
    expect(budget!.estimated_saving).toEqual({
      ms: 12.428,
      pct_of_window: 7,
      per: "window",
      basis: "estimated_saving_ms of user rule step_budget: scopes.step.p95_ms - 100.0",
      window_ms: 12.428,
      standalone_ms: 81.689,
      overlaps: ["gpu_idle"],
    });
    expect(budget!.evidence).toEqual({ when: '"step" in scopes && scopes.step.p95_ms > 100.0', "scopes.step.p95_ms": 181.689174 });
    expect(budget!.suggestions).toEqual(["Cut the per-step host overhead"]);
    expect(idle!.title).toBe("GPU busy only 6.20 % of the time");
    expect(report.warnings).toEqual([]);
    // Markdown marks them as user rules, ranked with the built-in one
    expect(text).toContain("### 2. step p95 is 181.7 ms, over the 100 ms budget\n\n*high severity · estimated saving 12.43 ms (7.0 % of the window) · impact 81.69 ms · confidence 0.90 · user rule `step_budget`*");
    expect(text).toContain("*medium severity · saving not estimated · impact 0 ms · confidence 1.00 · user rule `gpu_mostly_idle`*");
    expect(text).toContain("· rule `gpu_idle`*");
    const html = (await runAnalyze({ trace: LLAMA, format: "html", rules })).text;
    expect(html).toContain("user rule <code>step_budget</code>");
    expect(html).toContain("estimated saving 12.43 ms (7.0 % of the window) · impact <b>81.69 ms</b>");
    const json = JSON.parse((await runAnalyze({ trace: LLAMA, format: "json", rules })).text);
    expect(json.findings[1]).toMatchObject({ rule: "step_budget", source: "user", impact_ms: 81.689 });
    expect(Object.keys(json.findings[1]).slice(0, 8)).toEqual(["rule", "source", "title", "severity", "confidence", "impact_ms", "estimated_saving", "evidence"]);
  });

  test("a lowered threshold makes a rule fire that did not: sync_stalls.min_count 50 silences it, 10 keeps it", async () => {
    const fire = async (n: number) => (await runAnalyze({ trace: LLAMA, format: "json", rules: parseRules("t.yaml", `thresholds:\n  sync_stalls.min_count: ${n}\n`, builtins()) })).report.findings.map((f) => f.rule);
    expect(await fire(41)).toContain("sync_stalls"); // 41 syncs in the trace
    expect(await fire(42)).not.toContain("sync_stalls");
  });

  test("a user rule reading a figure the trace lacks does not fire, and the report says so", async () => {
    const rules = parseRules("t.yaml", "rules:\n  - id: rss\n    when: cpu.memory.peak_rss_mb > 1000.0\n    severity: low\n    title: big\n    suggestions: [s]\n", builtins());
    const { report } = await runAnalyze({ trace: LLAMA, format: "json", rules });
    expect(report.findings.map((f) => f.rule)).not.toContain("rss");
    expect(report.warnings).toEqual(["user rule rss (t.yaml:2:5) was not evaluated: `cpu.memory.peak_rss_mb` is absent in this trace (guard it with has())"]);
  });
});
