// User rules → findings. Each rule's `when` is evaluated on the report's figures (the built-in
// findings included, so a rule can combine them); a rule that fires becomes a finding marked
// `source: "user"`, ranked with the built-in ones by impact. A rule whose condition reads a figure
// the trace does not have does not fire, and the report says so in a warning.
import type { Finding, Report } from "../analyze/report-types.ts";
import { REPORT_METRICS } from "../expr/catalogue.ts";
import { bindCatalogue, compileExpr, evaluateExpr, type Compiled } from "../expr/env.ts";
import { reportMetrics } from "../expr/report-metrics.ts";
import type { TitlePart, UserRule } from "./file.ts";

/** A number as a title shows it: at most 3 significant decimals, no exponent for usual sizes. */
export function formatValue(v: unknown): string {
  if (typeof v === "number") {
    if (!Number.isFinite(v)) return String(v);
    if (Number.isInteger(v)) return String(v);
    const a = Math.abs(v);
    return a >= 100 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toPrecision(3);
  }
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "string") return v;
  if (typeof v === "boolean") return v ? "true" : "false";
  if (Array.isArray(v)) return `[${v.map(formatValue).join(", ")}]`;
  return String(v);
}

/** The metric paths an expression reads (`scopes.decode.p95_ms`), for the finding's evidence. */
function readPaths(expr: Compiled): string[] {
  const paths = new Set<string>();
  const names = new Set(REPORT_METRICS.variables.map((v) => v.name));
  // Longest dotted chains starting at a catalogue variable; index syntax written as a field.
  const src = expr.source.replace(/\[\s*(["'])([A-Za-z_][\w]*)\1\s*\]/g, ".$2");
  for (const m of src.matchAll(/(?<![\w.])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)(?!\s*\()/g)) {
    const path = m[1]!;
    if (names.has(path.split(".")[0]!)) paths.add(path);
  }
  return [...paths];
}

function title(parts: TitlePart[], values: Record<string, unknown>): string {
  return parts
    .map((p) => {
      if ("text" in p) return p.text;
      const r = evaluateExpr(p.expr, values);
      return r.ok ? formatValue(r.value) : "(absent)";
    })
    .join("");
}

export interface UserRulesResult {
  findings: Finding[];
  warnings: string[];
}

/** Evaluate user rules on a report whose built-in findings are final. */
export function evaluateUserRules(report: Report, rules: readonly UserRule[]): UserRulesResult {
  const out: UserRulesResult = { findings: [], warnings: [] };
  if (rules.length === 0) return out;
  const values = bindCatalogue(REPORT_METRICS, reportMetrics(report));
  for (const rule of rules) {
    const r = evaluateExpr(rule.when, values);
    if (!r.ok) {
      out.warnings.push(`user rule ${rule.id} (${rule.where}) was not evaluated: ${r.message}`);
      continue;
    }
    if (r.value !== true) continue;
    const evidence: Record<string, unknown> = { when: rule.when.source };
    for (const path of readPaths(rule.when)) {
      const c = compileExpr(REPORT_METRICS, path, "any");
      if (!c.ok) continue;
      const v = evaluateExpr(c.expr, values);
      if (v.ok && (typeof v.value === "number" || typeof v.value === "string" || typeof v.value === "boolean")) evidence[path] = v.value;
    }
    const finding: Finding = {
      rule: rule.id,
      title: title(rule.title, values),
      severity: rule.severity,
      confidence: rule.confidence,
      impact_ms: 0,
      evidence,
      suggestions: [...rule.suggestions],
      source: "user",
    };
    if (rule.saving) {
      const s = evaluateExpr(rule.saving, values);
      if (s.ok && typeof s.value === "number" && Number.isFinite(s.value)) {
        const ms = Math.max(0, s.value);
        finding.impact_ms = Math.round(ms * 1000) / 1000;
        finding.estimated_saving = { ms: finding.impact_ms, basis: `estimated_saving_ms of user rule ${rule.id}: ${rule.saving.source}` };
      } else if (!s.ok) {
        out.warnings.push(`user rule ${rule.id}: estimated_saving_ms not evaluated: ${s.message}`);
      }
    }
    out.findings.push(finding);
  }
  return out;
}
