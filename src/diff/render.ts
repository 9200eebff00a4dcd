// A diff as Markdown, self-contained HTML (no script at all: its Content-Security-Policy allows
// none) or JSON. One list of sections feeds the two text formats; every string from a trace is
// escaped by the format's own escaper (src/report/format.ts).
import type { Change, Diff } from "./compare.ts";
import { bytes, html, htmlRich, location, mdCode, mdRich, mdText, rich, shortKernel } from "../report/format.ts";
import css from "../../templates/assets/report.css" with { type: "text" };

interface Cell {
  text: string;
  code?: boolean;
  /** "good" / "bad" colouring of a change (HTML). */
  tone?: "good" | "bad";
}
interface Table {
  columns: { label: string; numeric: boolean }[];
  rows: Cell[][];
  empty: string;
}
interface Section {
  title: string;
  lines?: string[];
  table?: Table;
}

const num = (x: number | null, unit = "", digits?: number): string => {
  if (x === null) return "—";
  const a = Math.abs(x);
  const d = digits ?? (a >= 100 ? 1 : a >= 10 ? 2 : 3);
  return `${x.toFixed(d)}${unit}`;
};
const signed = (x: number | null, unit = ""): string => (x === null ? "—" : `${x > 0 ? "+" : x < 0 ? "−" : "±"}${num(Math.abs(x), unit)}`);
const pctCell = (x: number | null): string => (x === null ? "—" : `${x > 0 ? "+" : x < 0 ? "−" : "±"}${Math.abs(x).toFixed(Math.abs(x) >= 10 ? 0 : 1)} %`);

/** Lower is better for times and counts; the tone says whether a change helped. */
function tone(c: Change, higherIsBetter = false): Cell["tone"] {
  if (c.change === null || c.change === 0 || c.change_pct === null || Math.abs(c.change_pct) < 1) return undefined;
  return c.change < 0 !== higherIsBetter ? "good" : "bad";
}

function changeCells(c: Change, fmt: (x: number | null) => string = (x) => num(x), higherIsBetter = false): Cell[] {
  const t = tone(c, higherIsBetter);
  return [{ text: fmt(c.base) }, { text: fmt(c.new) }, { text: c.change === null ? "—" : `${signed(c.change)}`, ...(t ? { tone: t } : {}) }, { text: pctCell(c.change_pct), ...(t ? { tone: t } : {}) }];
}

const CHANGE_COLS = (unit: string) => [
  { label: `BASE${unit}`, numeric: true },
  { label: `NEW${unit}`, numeric: true },
  { label: "Δ", numeric: true },
  { label: "Δ %", numeric: true },
];

export function sections(d: Diff): Section[] {
  const out: Section[] = [];
  out.push({ title: "Inputs", lines: [`BASE: ${d.base.path} (${d.base.from === "report" ? "stored report" : `${d.base.format} trace`}, ${d.base.events} events)`, `NEW: ${d.new.path} (${d.new.from === "report" ? "stored report" : `${d.new.format} trace`}, ${d.new.events} events)`, ...d.notes] });
  if (!d.comparable) return out;
  const per = d.per === "step" && d.step ? ` per \`${d.step.scope}\`` : " per window";

  const scopeRows: Cell[][] = [];
  for (const s of Object.values(d.scopes)) {
    const ci = s.ci_low_pct !== null && s.ci_high_pct !== null ? `${pctCell(s.ci_low_pct)} … ${pctCell(s.ci_high_pct)}` : "—";
    const verdict = s.significant === true ? (s.p50_change_pct! < 0 ? "faster" : "slower") : s.significant === false ? "no significant change" : (s.test_note ?? "—");
    const t = s.significant === true ? (s.p50_change_pct! < 0 ? "good" : "bad") : undefined;
    scopeRows.push([
      { text: s.name, code: true },
      { text: `${num(s.count.base, "", 0)} → ${num(s.count.new, "", 0)}` },
      { text: `${num(s.p50_ms.base)} → ${num(s.p50_ms.new)}` },
      { text: `${num(s.p95_ms.base)} → ${num(s.p95_ms.new)}` },
      { text: `${num(s.p99_ms.base)} → ${num(s.p99_ms.new)}` },
      { text: `${num(s.mean_ms.base)} → ${num(s.mean_ms.new)}` },
      { text: pctCell(s.p50_change_pct), ...(t ? { tone: t } : {}) },
      { text: ci },
      { text: verdict, ...(t ? { tone: t } : {}) },
    ]);
  }
  out.push({
    title: "Latency per scope (ms)",
    lines: ["Significance: 95 % percentile-bootstrap interval of the median's change over the instances (2000 resamples); \"no significant change\" when it spans 0."],
    table: {
      columns: [
        { label: "scope", numeric: false },
        { label: "count", numeric: true },
        { label: "p50", numeric: true },
        { label: "p95", numeric: true },
        { label: "p99", numeric: true },
        { label: "mean", numeric: true },
        { label: "p50 Δ", numeric: true },
        { label: "95 % CI", numeric: true },
        { label: "verdict", numeric: false },
      ],
      rows: scopeRows,
      empty: "No scope in both traces.",
    },
  });

  if (d.gpu) {
    const g = d.gpu;
    const row = (label: string, c: Change | undefined, fmt?: (x: number | null) => string, higher = false): Cell[] => [{ text: label }, ...changeCells(c ?? { base: null, new: null, change: null, change_pct: null }, fmt, higher)];
    const b = (x: number | null) => (x === null ? "—" : bytes(x));
    out.push({
      title: `GPU${per}`,
      table: {
        columns: [{ label: "figure", numeric: false }, ...CHANGE_COLS("")],
        rows: [
          row("window (ms)", g.window_ms),
          row("busy (ms)", g.busy_ms),
          row("utilization (%)", g.utilization_pct, (x) => num(x, "", 1), true),
          row("idle (ms)", g.idle_ms),
          row("  host-wait (ms)", g.host_wait_ms),
          row("  kernel-wait (ms)", g.kernel_wait_ms),
          row("  sync/other (ms)", g.sync_other_ms),
          row("kernels", g.kernel_count),
          row("kernel time (ms)", g.kernel_ms),
          row("launch calls", g.launch_calls),
          row("syncs", g.syncs),
          row("CPU blocked in syncs (ms)", g.sync_blocked_ms),
          row("host → device", g.h2d_bytes, b),
          row("device → host", g.d2h_bytes, b),
          row("device → device", g.d2d_bytes, b),
          row("copies", g.copies),
          row("copy time (ms)", g.copy_ms),
          row("pageable copies (%)", g.pageable_pct, (x) => num(x, "", 1)),
        ],
        empty: "",
      },
    });
    out.push({
      title: `Kernel classes${per}`,
      table: {
        columns: [{ label: "class", numeric: false }, { label: "status", numeric: false }, { label: "count BASE → NEW", numeric: true }, { label: "% of busy BASE → NEW", numeric: true }, ...CHANGE_COLS(" ms")],
        rows: d.kernel_classes.map((c) => [
          { text: c.label },
          { text: c.status },
          { text: `${num(c.count.base)} → ${num(c.count.new)}` },
          { text: `${num(c.pct_of_busy.base, "", 1)} → ${num(c.pct_of_busy.new, "", 1)}` },
          ...changeCells(c.total_ms),
        ]),
        empty: "Neither report has kernel classes (a stored report from before they existed, or no kernels).",
      },
    });
    out.push({
      title: `Kernels by |Δ time|${per}`,
      table: {
        columns: [{ label: "kernel", numeric: false }, { label: "status", numeric: false }, { label: "count BASE → NEW", numeric: true }, { label: "mean µs BASE → NEW", numeric: true }, ...CHANGE_COLS(" ms")],
        rows: d.kernels.map((k) => [
          { text: shortKernel(k.name, 90), code: true },
          { text: k.status },
          { text: `${num(k.count.base)} → ${num(k.count.new)}` },
          { text: `${num(k.mean_us.base, "", 1)} → ${num(k.mean_us.new, "", 1)}` },
          ...changeCells(k.total_ms),
        ]),
        empty: "No kernels in either trace.",
      },
    });
  }
  out.push({
    title: `Hot functions by |Δ self time|${per}`,
    table: {
      columns: [{ label: "function", numeric: false }, { label: "status", numeric: false }, { label: "calls BASE → NEW", numeric: true }, ...CHANGE_COLS(" ms")],
      rows: d.functions.map((f) => {
        const loc = location(f.file, f.line);
        return [{ text: loc ? `${f.function} (${loc})` : f.function, code: true }, { text: f.status }, { text: `${num(f.calls.base, "", 0)} → ${num(f.calls.new, "", 0)}` }, ...changeCells(f.self_ms)];
      }),
      empty: "No Python calls or torch ops in either trace.",
    },
  });
  const sav = (c: Change) => (c.base === null && c.new === null ? "—" : `${num(c.base)} → ${num(c.new)}`);
  out.push({
    title: "Findings",
    lines: [`Classification: ${d.classification.base} → ${d.classification.new}${d.classification.changed ? "" : " (unchanged)"}`],
    table: {
      columns: [{ label: "rule", numeric: false }, { label: "status", numeric: false }, { label: "title", numeric: false }, { label: "impact ms BASE → NEW", numeric: true }, { label: "est. saving ms BASE → NEW", numeric: true }],
      rows: d.findings.details.map((f) => [
        { text: f.source === "user" ? `${f.rule} (user rule)` : f.rule, code: true },
        { text: f.status, ...(f.status === "resolved" ? { tone: "good" as const } : f.status === "new" ? { tone: "bad" as const } : {}) },
        { text: f.title },
        { text: sav(f.impact_ms) },
        { text: sav(f.estimated_saving_ms) },
      ]),
      empty: "No findings in either trace.",
    },
  });
  return out;
}

function mdTable(t: Table): string {
  if (t.rows.length === 0) return mdText(t.empty);
  const head = `| ${t.columns.map((c) => mdText(c.label)).join(" | ")} |`;
  const sep = `|${t.columns.map((c) => (c.numeric ? "---:" : "---")).join("|")}|`;
  return [head, sep, ...t.rows.map((r) => `| ${r.map((c) => (c.code ? mdCode(c.text) : mdText(c.text))).join(" | ")} |`)].join("\n");
}

export function renderDiffMarkdown(d: Diff): string {
  const out = ["# InferScope diff", "", `**${mdRich(rich(d.verdict))}**`, ""];
  for (const s of sections(d)) {
    out.push(`## ${mdRich(rich(s.title))}`, "");
    if (s.lines?.length) out.push(...s.lines.map((l) => `- ${mdRich(rich(l))}`), "");
    if (s.table) out.push(mdTable(s.table), "");
  }
  return `${out.join("\n").replace(/\n{3,}/g, "\n\n").trim()}\n`;
}

function htmlTable(t: Table): string {
  if (t.rows.length === 0) return `<p class="nm">${html(t.empty)}</p>`;
  const head = `<tr>${t.columns.map((c) => `<th${c.numeric ? ' class="num"' : ""}>${html(c.label)}</th>`).join("")}</tr>`;
  const rows = t.rows.map((r) => `<tr>${r.map((c, i) => `<td class="${[t.columns[i]?.numeric ? "num" : "", c.tone ?? ""].join(" ").trim()}">${c.code ? `<code>${html(c.text)}</code>` : html(c.text)}</td>`).join("")}</tr>`);
  return `<div class="tablewrap"><table>${head}${rows.join("")}</table></div>`;
}

const DIFF_CSS = `
td.good { color: #1c7c3a; font-weight: 600; }
td.bad { color: #c62f2f; font-weight: 600; }
main.diff { padding: 8px 28px 40px; max-width: 110em; }
main.diff section { margin: 18px 0; }
main.diff table { border-collapse: collapse; background: var(--card); }
main.diff th, main.diff td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: left; vertical-align: top; }
main.diff th.num, main.diff td.num { text-align: right; white-space: nowrap; }
`;

export function renderDiffHtml(d: Diff): string {
  const body = sections(d)
    .map((s) => `<section><h2>${htmlRich(rich(s.title))}</h2>${s.lines?.length ? `<ul>${s.lines.map((l) => `<li>${htmlRich(rich(l))}</li>`).join("")}</ul>` : ""}${s.table ? htmlTable(s.table) : ""}</section>`)
    .join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="InferScope">
<link rel="icon" href="data:,">
<title>InferScope diff: ${html(d.base.path)} → ${html(d.new.path)}</title>
<style>
${css}
${DIFF_CSS}
</style>
</head>
<body>
<header class="top">
<div class="brand">InferScope diff<span>${html(d.base.path)} → ${html(d.new.path)}</span></div>
<h1 id="verdict">${htmlRich(rich(d.verdict))}</h1>
</header>
<main class="diff">
${body}
</main>
</body>
</html>
`;
}

/** JSON with the contract's key order (docs/diff.md). */
export function diffJson(d: Diff): string {
  return `${JSON.stringify(d, null, 2)}\n`;
}
