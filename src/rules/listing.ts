// One listing of what rules can use — the built-in rules with their thresholds, and the metric
// catalogues — rendered three ways: `inferscope rules list`, `rules list --json`, and
// docs/metrics.md (`bun run docs:metrics` writes it; test/rules/docs.test.ts fails when the
// committed file differs).
import { RULES } from "../analyze/rules/index.ts";
import { DIFF_METRICS, REPORT_METRICS, typeName, type Catalogue, type Field } from "../expr/catalogue.ts";
import { builtinParams } from "./builtins.ts";
import type { ParamSpec } from "./file.ts";

export interface MetricRow {
  name: string;
  type: string;
  unit: string;
  meaning: string;
  absent: string | null;
}

export interface Listing {
  rules: { id: string; description: string; thresholds: Omit<ParamSpec, "rule">[] }[];
  metrics: MetricRow[];
  diff_metrics: MetricRow[];
}

/** Every metric of a catalogue, flattened to paths: `gpu.idle.host_wait_ms`, `scopes[name].p95_ms`, `findings[].rule`. */
export function metricRows(cat: Catalogue): MetricRow[] {
  const rows: MetricRow[] = [];
  // A figure is absent when its own note says, or when what holds it is (gpu without GPU activity).
  const visit = (prefix: string, field: Field, depth: number, inherited: string | null = null): void => {
    const name = prefix ? `${prefix}.${field.name}` : field.name;
    const absent = field.absent ?? inherited;
    rows.push({ name, type: typeName(field.type), unit: field.unit, meaning: field.meaning, absent });
    if (depth > 6) return;
    const t = field.type;
    if (typeof t === "string") return;
    const inner = "object" in t ? t.object : "list" in t ? (typeof t.list === "string" ? null : t.list.object) : typeof t.map === "string" ? null : t.map.object;
    if (!inner) return;
    const path = "object" in t ? name : "list" in t ? `${name}[]` : `${name}[name]`;
    // Elements of a list or map exist only where the list does: their notes are their own.
    const pass = "object" in t ? absent : null;
    for (const sub of cat.types.find((x) => x.name === inner)!.fields) visit(path, sub, depth + 1, pass);
  };
  for (const v of cat.variables) visit("", v, 0);
  return rows;
}

export function listing(): Listing {
  const params = builtinParams();
  return {
    rules: RULES.map((r) => ({
      id: r.id,
      description: r.description,
      thresholds: params.filter((p) => p.rule === r.id).map(({ rule: _rule, ...p }) => p),
    })),
    metrics: metricRows(REPORT_METRICS),
    diff_metrics: metricRows(DIFF_METRICS),
  };
}

const mdCell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

function metricTable(rows: MetricRow[]): string[] {
  return ["| metric | type | unit | meaning | absent when |", "|---|---|---|---|---|", ...rows.map((m) => `| \`${mdCell(m.name)}\` | ${mdCell(m.type)} | ${m.unit} | ${mdCell(m.meaning)} | ${m.absent ? mdCell(m.absent) : "never"} |`)];
}

export function metricsMarkdown(l: Listing = listing()): string {
  const out: string[] = [
    "# Metrics and thresholds for rules",
    "",
    "<!-- Generated from src/expr/catalogue.ts and the rule files by `bun run docs:metrics`; do not edit by hand. -->",
    "",
    "Custom rules (`.inferscope_rules.yaml`, [rules.md](rules.md)) and `inferscope diff --fail-if`",
    "([diff.md](diff.md)) are [CEL](https://cel.dev) expressions over the figures below, type-checked",
    "before any trace is read. `inferscope rules list` prints the same listing (`--json` for scripts).",
    "",
    "- A figure that was not measured is **absent**, never 0: `has(gpu.idle.host_wait_ms)` is false,",
    "  and reading it anyway makes the rule not fire (the report says so in a warning). Guard such",
    "  figures with `has()`, or `\"step\" in scopes` for a scope.",
    "- CEL does not mix `int` and `double` in arithmetic: write `gpu.idle.host_wait_ms / 2.0`, or",
    "  `double(gpu.kernels.count)`. Comparisons may mix them: `gpu.kernels.count > 100.5`.",
    "- Lists and maps hold at most 1000 elements and strings at most 4096 characters; an expression",
    "  whose worst-case work exceeds 10⁶ steps (e.g. a comprehension nested in another over lists)",
    "  is refused when the file is checked. `matches()` uses RE2 (linear time).",
    "",
    `## ${REPORT_METRICS.title}`,
    "",
    `Used by ${REPORT_METRICS.usedBy}. The names follow the report's JSON ([report-json.md](report-json.md)); \`scopes\` is keyed by name.`,
    "",
    ...metricTable(l.metrics),
    "",
    `## ${DIFF_METRICS.title}`,
    "",
    `Used by ${DIFF_METRICS.usedBy}. A \`Change\` holds \`base\`, \`new\`, \`change\` (new − base) and \`change_pct\`.`,
    "",
    ...metricTable(l.diff_metrics),
    "",
    "## Built-in rules and their thresholds",
    "",
    "Override a threshold under `thresholds:` by its name; turn a rule off with `disable: [id]`.",
    "",
    "| rule | threshold | default | unit | meaning |",
    "|---|---|---:|---|---|",
  ];
  for (const r of l.rules) {
    if (r.thresholds.length === 0) out.push(`| \`${r.id}\` | (none) | | | ${mdCell(r.description)} |`);
    for (const p of r.thresholds) out.push(`| \`${r.id}\` | \`${p.name}\` | ${p.default} | ${p.unit} | ${mdCell(p.doc)} |`);
  }
  return `${out.join("\n")}\n`;
}

export function listingText(l: Listing = listing()): string {
  const out: string[] = ["Built-in rules (override a threshold in .inferscope_rules.yaml under `thresholds:`, turn a rule off with `disable:`):", ""];
  for (const r of l.rules) {
    out.push(`${r.id}: ${r.description}`);
    for (const p of r.thresholds) out.push(`  ${p.name} = ${p.default} (${p.unit}): ${p.doc}`);
    out.push("");
  }
  out.push(`Metrics a rule's \`when\` can read (${l.metrics.length}; docs/metrics.md explains each):`, "");
  const w = Math.max(...l.metrics.map((m) => m.name.length));
  for (const m of l.metrics) out.push(`  ${m.name.padEnd(w)}  ${m.type}${m.unit ? ` (${m.unit})` : ""}${m.absent ? "  [may be absent]" : ""}`);
  return `${out.join("\n")}\n`;
}
