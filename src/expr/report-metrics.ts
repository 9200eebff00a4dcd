// A report (the `inferscope.report/v1` object) as the figures of REPORT_METRICS: the JSON contract
// itself, except that scopes are keyed by name and a finding's estimated saving is a number.
import type { Finding, Report } from "../analyze/report-types.ts";

/** `findings[].estimated_saving` (issue 12's `{ ms, … }`), or a plain number, or absent. */
export function savingMs(f: Finding): number | undefined {
  const s = (f as { estimated_saving?: unknown }).estimated_saving;
  if (typeof s === "number") return s;
  if (s && typeof s === "object" && typeof (s as { ms?: unknown }).ms === "number") return (s as { ms: number }).ms;
  return undefined;
}

export function reportMetrics(report: Report, findings: Finding[] = report.findings): Record<string, unknown> {
  const scopes: Record<string, unknown> = {};
  for (const s of report.scopes) scopes[s.name] = s;
  return {
    gpu: report.gpu,
    cpu: report.cpu,
    scopes,
    findings: findings.map((f) => ({ ...f, estimated_saving_ms: savingMs(f) })),
    bottleneck: report.bottleneck,
    source: report.source,
  };
}
