// .inferscope_rules.yaml: every way a rules file can be wrong ends in one line with FILE:LINE:COL,
// what is wrong and the fix (exit 2), before any trace is read.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { mkdirSync, writeFileSync } from "node:fs";
import { builtins } from "../../src/rules/builtins.ts";
import { parseRules } from "../../src/rules/file.ts";
import { cleanEnv, cli, ROOT, tempDir } from "../helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

const F = "r.yaml";
function errorFor(yaml: string): string {
  try {
    parseRules(F, yaml, builtins());
  } catch (e) {
    expect((e as Error).name).toBe("UserError");
    return (e as Error).message;
  }
  throw new Error("expected an error");
}

const RULE = (extra: string) => `rules:\n  - id: r1\n    severity: high\n    title: t\n    suggestions: [s]\n${extra}`;

describe("bad rules files: exact message and position", () => {
  const cases: [string, string, string][] = [
    ["YAML syntax error", "rules:\n  - id: [x\n", "r.yaml:3:1: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]; fix the YAML at that position"],
    ["not a map", "- a\n- b\n", 'r.yaml:1:1: the rules file must be a map with thresholds, disable and rules, found a list; see docs/rules.md for an example'],
    ["unknown top-level key", "rule:\n  - id: x\n", 'r.yaml:1:1: unknown key "rule" in the rules file; did you mean "rules"? allowed: thresholds, disable, rules'],
    ["duplicate key", "disable: [gpu_idle]\ndisable: [numa_remote]\n", "r.yaml:2:1: YAML syntax error: Map keys must be unique; fix the YAML at that position"],
    ["thresholds not a map", "thresholds: [1, 2]\n", "r.yaml:1:13: thresholds must be a map of threshold name to number, found a list; e.g. thresholds: { launch_bound.min_kernels: 200 }"],
    ["unknown threshold", "thresholds:\n  launch_bound.min_kernel: 5\n", 'r.yaml:2:3: unknown threshold "launch_bound.min_kernel"; did you mean "launch_bound.min_kernels"? `inferscope rules list` shows every threshold'],
    ["threshold out of range", "thresholds:\n  gpu_idle.min_share: 1.5\n", "r.yaml:2:23: threshold gpu_idle.min_share must be a number from 0 to 1 (share of the GPU window), found 1.5; its default is 0.1"],
    ["threshold not a whole number", "thresholds:\n  launch_bound.min_kernels: 2.5\n", "r.yaml:2:29: threshold launch_bound.min_kernels must be a whole number from 0 to 9007199254740991 (kernels), found 2.5; its default is 100"],
    ["threshold not a number", "thresholds:\n  launch_bound.min_kernels: many\n", 'r.yaml:2:29: threshold launch_bound.min_kernels must be a whole number from 0 to 9007199254740991 (kernels), found "many"; its default is 100'],
    ["disable an unknown rule", "disable: [gpu_idle, numa_remtoe]\n", 'r.yaml:1:21: disable: "numa_remtoe" is not a built-in rule; did you mean "numa_remote"? built-in rules: gpu_idle, launch_bound, sync_stalls, sync_copies, transfer_overhead, pageable_copies, pcie_saturation, threading_contention, memory_pressure, numa_remote, fp32_gemm, fp8_candidate, unfused_attention, unfused_glue, underfilled_gpu, uneven_layers, python_preprocessing, native_code, library_code, torch_cpu_ops, data_loading_starved, waiting_for_input, blocking_calls, unseen_waits, thread_oversubscription, autograd_on, startup_dominates'],
    ["rules not a list", "rules:\n  id: x\n", "r.yaml:2:3: rules must be a list of rules, found a map; start each rule with `- id: …`"],
    ["rule without when", RULE(""), "r.yaml:2:5: rules[0] has no `when`; add `when:` (required: id, when, severity, title, suggestions)"],
    ["unknown key in a rule", RULE("    when: 'true'\n    sevrity: low\n"), 'r.yaml:7:5: unknown key "sevrity" in rules[0]; did you mean "severity"? allowed: id, when, severity, title, suggestions, confidence, estimated_saving_ms'],
    ["duplicate id", `${RULE("    when: 'true'\n")}  - id: r1\n    when: 'true'\n    severity: low\n    title: t\n    suggestions: [s]\n`, 'r.yaml:7:9: duplicate rule id "r1" (first at r.yaml:2:9); give each rule its own id'],
    ["a built-in id", RULE("    when: 'true'\n").replace("id: r1", "id: gpu_idle"), 'r.yaml:2:9: rules[0].id "gpu_idle" is a built-in rule; choose another id (to change the built-in one, use thresholds: or disable:)'],
    ["id not snake_case", RULE("    when: 'true'\n").replace("id: r1", "id: Decode-Budget"), 'r.yaml:2:9: rules[0].id "Decode-Budget" must be lower_snake_case; use letters, digits and _, starting with a letter'],
    ["unknown metric in when (plain scalar: column inside the expression)", RULE("    when: gpu.utilizaton_pct < 60.0\n"), "r.yaml:6:15: rules[0].when: unknown metric `gpu.utilizaton_pct`; did you mean `gpu.utilization_pct`? (docs/metrics.md lists every metric); a condition over the metrics in docs/metrics.md, e.g. `gpu.utilization_pct < 60.0`"],
    ["type error in when (quoted)", RULE("    when: \"gpu.idle.host_wait_ms / 2 > 1.0\"\n"), "r.yaml:6:12: rules[0].when: type error: no such overload: double / int (CEL does not mix int and double in arithmetic: write 2.0 instead of 2, or double(x)); a condition over the metrics in docs/metrics.md, e.g. `gpu.utilization_pct < 60.0`"],
    ["syntax error on the second line of a block scalar", RULE("    when: |\n      has(gpu.utilization_pct) &&\n        gpu.utilization_pct < < 60.0\n"), "r.yaml:8:31: rules[0].when: syntax error: Unexpected token: LT; a condition over the metrics in docs/metrics.md, e.g. `gpu.utilization_pct < 60.0`"],
    ["when is not a condition", RULE("    when: gpu.utilization_pct\n"), "r.yaml:6:11: rules[0].when: must be a condition (a bool), but it is a double; compare it, e.g. `gpu.utilization_pct > 0`; a condition over the metrics in docs/metrics.md, e.g. `gpu.utilization_pct < 60.0`"],
    ["when missing its value", RULE("    when:\n"), "r.yaml:6:10: rules[0].when must be a non-empty string, found nothing; e.g. when: gpu.utilization_pct < 60.0"],
    ["unknown metric in a title placeholder", RULE("    when: 'true'\n").replace("title: t", 'title: "p95 {{ scopes.step.p59_ms }} ms"'), "r.yaml:4:32: rules[0].title: unknown metric `scopes.step.p59_ms`; did you mean `scopes.step.p50_ms`? (docs/metrics.md lists every metric); a placeholder holds an expression over the metrics in docs/metrics.md"],
    ["unclosed placeholder", RULE("    when: 'true'\n").replace("title: t", 'title: "p95 {{ scopes.step.p95_ms ms"'), 'r.yaml:4:17: rules[0].title: "{{" without a closing "}}"; close it, e.g. {{ gpu.utilization_pct }}'],
    ["no suggestion", RULE("    when: 'true'\n").replace("suggestions: [s]", "suggestions: []"), 'r.yaml:5:18: rules[0].suggestions must be a list of at least one suggestion, found a list; e.g. suggestions: ["Batch the decode step"]'],
    ["bad severity", RULE("    when: 'true'\n").replace("severity: high", "severity: urgent"), "r.yaml:3:15: rules[0].severity must be high, medium or low, found \"urgent\"; e.g. severity: high"],
    ["confidence out of range", RULE("    when: 'true'\n    confidence: 2\n"), "r.yaml:7:17: rules[0].confidence must be a number from 0 to 1, found 2; e.g. confidence: 0.8"],
    ["saving not a number", RULE("    when: 'true'\n    estimated_saving_ms: gpu.utilization_pct > 1.0\n"), "r.yaml:7:26: rules[0].estimated_saving_ms: must be a number (ms), but it is a bool; a number of ms over the metrics in docs/metrics.md"],
    ["too costly", RULE("    when: cpu.threads.exists(a, cpu.threads.exists(b, a.tid != b.tid))\n"), "r.yaml:6:33: rules[0].when: too costly to evaluate: up to 7.0e+6 steps (limit 1e+6); avoid nesting comprehensions (all/exists/map/filter) over lists; a condition over the metrics in docs/metrics.md, e.g. `gpu.utilization_pct < 60.0`"],
  ];
  for (const [name, yaml, message] of cases) {
    test(name, () => {
      expect(errorFor(yaml)).toBe(message);
    });
  }

  test("a good file: thresholds, disable, two rules", () => {
    const r = parseRules(F, readFileSyncText(join(ROOT, "test/rules/good.inferscope_rules.yaml")), builtins());
    expect([...r.thresholds]).toEqual([["launch_bound.min_kernels", 5000]]);
    expect([...r.disabled]).toEqual(["sync_stalls"]);
    expect(r.rules.map((x) => [x.id, x.severity, x.confidence])).toEqual([
      ["step_budget", "high", 0.9],
      ["gpu_mostly_idle", "medium", 1],
    ]);
  });
  test("an empty file changes nothing", () => {
    const r = parseRules(F, "# nothing yet\n", builtins());
    expect(r.rules.length + r.thresholds.size + r.disabled.size).toBe(0);
  });
});

function readFileSyncText(p: string): string {
  return require("node:fs").readFileSync(p, "utf8");
}

describe("the CLI: found like .inferscope.yaml, checked before any trace", () => {
  test("rules check: OK, or the one line and exit 2", () => {
    const good = cli(["rules", "check", join(ROOT, "test/rules/good.inferscope_rules.yaml")]);
    expect(good.code).toBe(0);
    expect(good.stdout).toBe(`${join(ROOT, "test/rules/good.inferscope_rules.yaml")}: OK\n`);
    const dir = tempDir();
    writeFileSync(join(dir, ".inferscope_rules.yaml"), "disable: [nope]\n");
    const bad = cli(["rules", "check"], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toStartWith(`inferscope: ${join(dir, ".inferscope_rules.yaml")}:1:11: disable: "nope" is not a built-in rule;`);
  });
  test("a bad rules file stops analyze before the trace is read, and run before the script starts", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "bad.yaml"), "rules: 3\n");
    const a = cli(["analyze", "/nonexistent/trace.json", "--rules", join(dir, "bad.yaml")]);
    expect(a.code).toBe(2);
    expect(a.stderr).toBe(`inferscope: ${join(dir, "bad.yaml")}:1:8: rules must be a list of rules, found 3; start each rule with \`- id: …\`\n`);
    writeFileSync(join(dir, "touch.py"), `open(${JSON.stringify(join(dir, "ran"))}, "w").write("x")\n`);
    const r = cli(["run", "--rules", join(dir, "bad.yaml"), join(dir, "touch.py")], { cwd: dir });
    expect(r.code).toBe(2);
    expect(require("node:fs").existsSync(join(dir, "ran"))).toBe(false);
  });
  test("INFERSCOPE_RULES, a missing file, and config show naming the file", () => {
    const dir = tempDir();
    const missing = cli(["analyze", "x.json"], { cwd: dir, env: cleanEnv({ INFERSCOPE_RULES: "nope.yaml" }) });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`inferscope: rules file ${join(dir, "nope.yaml")} (from INFERSCOPE_RULES) does not exist; check the path\n`);
    mkdirSync(join(dir, ".git"));
    mkdirSync(join(dir, "sub"));
    writeFileSync(join(dir, ".inferscope_rules.yaml"), "disable: [numa_remote]\n");
    const show = cli(["config", "show"], { cwd: join(dir, "sub") });
    expect(show.stdout).toEndWith(`rules file: ${join(dir, ".inferscope_rules.yaml")}  file (found in cwd or the git root)\n`);
    const env = cli(["config", "show", "--json"], { cwd: join(dir, "sub"), env: cleanEnv({ INFERSCOPE_RULES: join(dir, ".inferscope_rules.yaml") }) });
    expect(JSON.parse(env.stdout)).toMatchObject({ rules_file: join(dir, ".inferscope_rules.yaml"), rules_source: "env (INFERSCOPE_RULES)" });
  });
});
