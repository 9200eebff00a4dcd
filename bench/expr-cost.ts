// How long can one rule expression run? The static cost bound (src/expr/cost.ts) refuses
// expressions over 10⁶ steps; this times expressions close to that bound on the largest inputs an
// expression can see (1000-element lists, 4096-character strings), 5 interleaved rounds, medians.
// bun bench/expr-cost.ts
import { REPORT_METRICS } from "../src/expr/catalogue.ts";
import { COST_LIMIT, estimateCost, nameBounds } from "../src/expr/cost.ts";
import { bindCatalogue, compileExpr, evaluateExpr } from "../src/expr/env.ts";
import { Environment } from "@marcbachmann/cel-js";

const name = `${"k".repeat(4095)}x`;
const threads = Array.from({ length: 1000 }, (_, i) => ({ tid: i, name, busy_ms: i, python_ms: i / 2, spans: 1, blocked_ms: 0 }));
const values = bindCatalogue(REPORT_METRICS, { cpu: { threads, memory: {}, numa: {} } });
const exprs = [
  "cpu.threads.filter(t, t.name.contains('y') || t.name.endsWith('z') || t.name.startsWith('q') || t.name.matches('a.*b')).size() > 0",
  "cpu.threads.map(t, t.busy_ms * 2.0 + t.busy_ms * 3.0 + t.busy_ms * 4.0 + t.busy_ms * 5.0 + t.busy_ms).exists(x, x > 1e9)",
  "cpu.threads.all(t, t.busy_ms >= 0.0 && t.python_ms >= 0.0 && t.name != '' && t.tid >= 0 && t.spans >= 0 && t.blocked_ms >= 0.0)",
];
const bounds = nameBounds(REPORT_METRICS);
const env = new Environment();
const compiled = exprs.map((src) => {
  const c = compileExpr(REPORT_METRICS, src, "bool");
  if (!c.ok) throw new Error(`${src}: ${c.error.message}`);
  return { src, expr: c.expr, cost: estimateCost(env.parse(src).ast, bounds).cost, ms: [] as number[] };
});
for (let round = 0; round < 5; round++) {
  for (const c of compiled) {
    const t = performance.now();
    const r = evaluateExpr(c.expr, values);
    c.ms.push(performance.now() - t);
    if (!r.ok) throw new Error(r.message);
  }
}
console.log(`| expression | static bound (steps, limit ${COST_LIMIT.toExponential(0)}) | median ms |`);
console.log("|---|---:|---:|");
for (const c of compiled) console.log(`| \`${c.src.replaceAll("|", "\\|")}\` | ${c.cost.toExponential(1)} | ${c.ms.sort((a, b) => a - b)[2]!.toFixed(1)} |`);
