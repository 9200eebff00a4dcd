// The shared expression module (src/expr): CEL over the metric catalogue, as custom rules and
// `diff --fail-if` use it. Exact messages and offsets for every way an expression can be wrong.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { DIFF_METRICS, REPORT_METRICS } from "../../src/expr/catalogue.ts";
import { COST_LIMIT } from "../../src/expr/cost.ts";
import { bindCatalogue, compileExpr, evaluateExpr, MAX_EXPR_CHARS } from "../../src/expr/env.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

const compile = (src: string, expect: "bool" | "number" | "any" = "bool") => compileExpr(REPORT_METRICS, src, expect);
const errorOf = (src: string, expect: "bool" | "number" | "any" = "bool") => {
  const c = compile(src, expect);
  if (c.ok) throw new Error(`expected an error for ${src}`);
  return c.error;
};
const run = (src: string, plain: Record<string, unknown>) => {
  const c = compile(src, "any");
  if (!c.ok) throw new Error(c.error.message);
  return evaluateExpr(c.expr, bindCatalogue(REPORT_METRICS, plain));
};

const GPU = {
  window_ms: 100,
  busy_ms: 41,
  utilization_pct: 41,
  idle: { total_ms: 59, host_wait_ms: 50, kernel_wait_ms: 1, sync_other_ms: 8 },
  kernels: { count: 4693, total_ms: 10.8, short_count: 4661, short_pct: 99.3, launch_api_ms: null, top: [{ name: "sm90_gemm", count: 3, total_ms: 1, mean_us: 333, max_us: 400, pct_of_busy: 2.4 }] },
  memcpy: { h2d: { count: 2, bytes: 1024, ms: 0.1, gbps: null, pageable_count: 2, pinned_count: 0, sync_count: 0 } },
  memset: { count: 0, bytes: 0, ms: 0 },
  syncs: { count: 3, blocked_ms: 2 },
};

describe("compile: mistakes are caught before any trace is read", () => {
  test("unknown metric, with the closest name and its offset", () => {
    expect(errorOf("gpu.utilizaton_pct < 60.0")).toEqual({ offset: 4, message: "unknown metric `gpu.utilizaton_pct`; did you mean `gpu.utilization_pct`? (docs/metrics.md lists every metric)" });
    expect(errorOf("gpu.idle.host_wat_ms > 1.0")).toEqual({ offset: 9, message: "unknown metric `gpu.idle.host_wat_ms`; did you mean `gpu.idle.host_wait_ms`? (docs/metrics.md lists every metric)" });
  });
  test("unknown top-level name", () => {
    expect(errorOf("gpux.utilization_pct > 1.0")).toEqual({ offset: 0, message: "unknown metric `gpux`; did you mean `gpu`?; top-level names: gpu, cpu, scopes, findings, bottleneck, source" });
  });
  test("type errors: int and double mixed in arithmetic, string against number", () => {
    expect(errorOf("gpu.idle.host_wait_ms / 2 > 1.0")).toEqual({ offset: 0, message: "type error: no such overload: double / int (CEL does not mix int and double in arithmetic: write 2.0 instead of 2, or double(x))" });
    expect(errorOf("gpu.utilization_pct > 'high'")).toEqual({ offset: 0, message: "type error: no such overload: double > string" });
  });
  test("syntax errors with the offset of the problem", () => {
    expect(errorOf("gpu.utilization_pct <")).toEqual({ offset: 21, message: "syntax error: Unexpected token: EOF" });
    expect(errorOf("findings.exists(f, f.rule == 'x'")).toEqual({ offset: 32, message: "syntax error: Expected RPAREN, got EOF" });
  });
  test("a condition must be a bool, a saving a number", () => {
    expect(errorOf("gpu.utilization_pct")).toEqual({ offset: 0, message: "must be a condition (a bool), but it is a double; compare it, e.g. `gpu.utilization_pct > 0`" });
    expect(errorOf("gpu.kernels.count > 3", "number")).toEqual({ offset: 0, message: "must be a number (ms), but it is a bool" });
    expect(compile("gpu.idle.host_wait_ms * 0.5", "number").ok).toBe(true);
    expect(compile("gpu.kernels.count", "number").ok).toBe(true);
  });
  test("bounded: nested comprehensions over lists and very long expressions are refused", () => {
    const e = errorOf("cpu.threads.exists(a, cpu.threads.exists(b, a.tid == b.tid + 1))");
    expect(e.message).toBe(`too costly to evaluate: up to 1.0e+7 steps (limit ${COST_LIMIT.toExponential(0)}); avoid nesting comprehensions (all/exists/map/filter) over lists`);
    expect(e.offset).toBe(22);
    expect(compile("cpu.threads.exists(t, t.busy_ms > 100.0 && t.name.contains('worker'))").ok).toBe(true);
    expect(errorOf(`${"1 + ".repeat(MAX_EXPR_CHARS / 4)}1 > 0`).message).toBe(`expression longer than ${MAX_EXPR_CHARS} characters; split it into several rules`);
    expect(errorOf(`${"1 + ".repeat(500)}1 > 0`).message).toBe("expression too large: Exceeded maxAstNodes (400); split it into several rules");
  });
  test("the diff catalogue has its own names", () => {
    expect(compileExpr(DIFF_METRICS, "scopes.step.p50_change_pct > 5.0 && scopes.step.significant", "bool").ok).toBe(true);
    const c = compileExpr(DIFF_METRICS, "gpu.utilization_pct < 60.0", "bool");
    expect(c.ok ? "" : c.error.message).toBe("type error: no such overload: Change < double");
  });
});

describe("evaluate", () => {
  test("figures, scopes by name, findings, comprehensions", () => {
    const plain = { gpu: GPU, scopes: { step: { name: "step", count: 40, mean_ms: 31, p50_ms: 30, p95_ms: 35.5, p99_ms: 40, max_ms: 41, split: null } }, findings: [{ rule: "gpu_idle", impact_ms: 50 }] };
    expect(run("gpu.utilization_pct < 60", plain)).toEqual({ ok: true, value: true });
    expect(run("scopes['step'].p95_ms", plain)).toEqual({ ok: true, value: 35.5 });
    expect(run("scopes.step.count", plain)).toEqual({ ok: true, value: 40 });
    expect(run("'decode' in scopes", plain)).toEqual({ ok: true, value: false });
    expect(run("findings.exists(f, f.rule == 'gpu_idle' && f.impact_ms > 10.0)", plain)).toEqual({ ok: true, value: true });
    expect(run("gpu.kernels.top.exists(k, k.name.matches('^sm[0-9]+_gemm$'))", plain)).toEqual({ ok: true, value: true });
  });
  test("absent figures are absent, never 0: has() is false and reading one says so", () => {
    const plain = { gpu: GPU, scopes: {} };
    expect(run("has(gpu.kernels.launch_api_ms)", plain)).toEqual({ ok: true, value: false });
    expect(run("gpu.kernels.launch_api_ms > 0.0", plain)).toEqual({ ok: false, absent: true, message: "`gpu.kernels.launch_api_ms` is absent in this trace (guard it with has())" });
    expect(run("has(gpu.kernels.launch_api_ms) && gpu.kernels.launch_api_ms > 0.0", plain)).toEqual({ ok: true, value: false });
    expect(run("scopes.step.p95_ms > 1.0", plain)).toEqual({ ok: false, absent: true, message: "`scopes.step` is absent in this trace (guard it with has())" });
    // a trace without GPU activity: gpu itself is absent
    expect(run("gpu.utilization_pct < 60.0", { scopes: {} })).toEqual({ ok: false, absent: true, message: "`gpu.utilization_pct` is absent in this trace (guard it with has())" });
    expect(run("has(gpu.utilization_pct)", { gpu: null })).toEqual({ ok: true, value: false });
  });
  test("matches() is RE2: linear time on a pattern that makes a backtracking engine run for ever", () => {
    const name = `${"a".repeat(4000)}!`;
    const plain = { gpu: { ...GPU, kernels: { ...GPU.kernels, top: [{ ...GPU.kernels.top[0], name }] } } };
    // JavaScript's RegExp needs ~2^4000 steps for this; RE2 answers at once.
    expect(run("gpu.kernels.top.exists(k, k.name.matches('^(a+)+$'))", plain)).toEqual({ ok: true, value: false });
    expect(run("matches(gpu.kernels.top[0].name, 'a!$')", plain)).toEqual({ ok: true, value: true });
    // RE2 has no backreferences: an error, not a silent JavaScript behaviour
    const r = run("gpu.kernels.top.exists(k, k.name.matches('(a)\\\\1'))", plain);
    expect(r.ok).toBe(false);
    expect(r.ok ? "" : r.message).toStartWith('invalid regular expression "(a)\\\\1"');
  });
});
