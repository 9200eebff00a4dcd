// renderReport(report, "md" | "html" | "json", analysis?): the report as a string; the HTML
// report draws its timeline from the analysis (the trace and its GPU time) when given.
// Markdown and HTML come from eta templates rendered from strings: the templates are imported as
// text, so `bun build --compile` embeds them and nothing is read from disk at run time.

import { Eta } from "eta/core";
import { escapeControls } from "../core/printable.ts";
import type { Report } from "../analyze/report-types.ts";
import { NOT_MEASURED, dur, html, htmlRich, mdCode, mdRich, mdText, pct, rich, truncate, type Seg } from "./format.ts";
import type { ReportFormat } from "./formats.ts";
import { reportJson, scriptJson } from "./json.ts";
import { foldedStacks, speedscopeFile } from "./stack-exports.ts";
import { VERSION } from "../version.ts";
import { buildTimeline, DEFAULT_TIMELINE_BYTES, type Timeline, type TimelineInput, type TimelineOptions } from "./timeline.ts";
import { flameData, type FlameOptions } from "./flame.ts";
import type { AnalysisContext } from "../analyze/rules/common.ts";
import { buildView, type ClassBar, type ReportView, type ScopeBar, type Table } from "./view-model.ts";

import mdTemplate from "../../templates/report.md.eta" with { type: "text" };
import htmlTemplate from "../../templates/report.html.eta" with { type: "text" };
import htmlTable from "../../templates/partials/table.html.eta" with { type: "text" };
import htmlFinding from "../../templates/partials/finding.html.eta" with { type: "text" };
import css from "../../templates/assets/report.css" with { type: "text" };
import timelineJs from "../../templates/assets/timeline.client.js" with { type: "text" };
import tablesJs from "../../templates/assets/tables.client.js" with { type: "text" };
import flameJs from "../../templates/assets/flame.client.js" with { type: "text" };

export interface RenderOptions {
  timeline?: TimelineOptions;
  flame?: FlameOptions;
}

/** What the HTML report draws besides the Report: the timeline (trace, GPU time) and the flame graphs (call tree). */
export type RenderInput = Pick<AnalysisContext, "trace" | "gpu" | "callTree">;

// ---------------------------------------------------------------------------------------------
// Markdown

function mdCell(c: Table["rows"][number][number]): string {
  let s = c.code ? mdCode(c.text) : mdText(c.text);
  if (c.sub) s += ` (${mdText(c.sub)})`;
  return s;
}

function mdTable(t: Table): string {
  if (t.rows.length === 0) return mdRich(rich(t.empty));
  const head = `| ${t.columns.map((c) => mdText(c.label)).join(" | ")} |`;
  const sep = `|${t.columns.map((c) => (c.numeric ? "---:" : "---")).join("|")}|`;
  const rows = t.rows.map((r) => `| ${r.map(mdCell).join(" | ")} |`);
  return [head, sep, ...rows].join("\n");
}

function mdBars(bars: ScopeBar[]): string {
  const width = 30;
  const nameW = Math.min(24, Math.max(...bars.map((b) => Array.from(b.name).length)));
  return bars
    .map((b) => {
      // a share that is not a finite 0–100 draws nothing rather than throwing in repeat()
      const seg = (p: number) => (Number.isFinite(p) ? Math.min(width, Math.max(0, Math.round((p / 100) * width))) : 0);
      let c = seg(b.computePct);
      let tr = seg(b.transferPct);
      let id = seg(b.idlePct);
      while (c + tr + id > width) {
        if (id >= tr && id >= c) id--;
        else if (c >= tr) c--;
        else tr--;
      }
      const bar = "█".repeat(c) + "▒".repeat(tr) + "░".repeat(id) + " ".repeat(width - c - tr - id);
      const name = truncate(escapeControls(b.name.replace(/[\r\n]/g, " ")), 24);
      const pad = " ".repeat(Math.max(0, nameW - Array.from(name).length));
      return `${name}${pad}  ${bar}  compute ${dur(b.compute)}, transfer ${dur(b.transfer)}, idle ${dur(b.idle)}`;
    })
    .join("\n")
    .replace(/`{3,}/g, (m) => m.replace(/`/g, "'")); // never close the fence
}

/** One text bar per kernel class: its share of GPU busy time (capped at the bar's width). */
function mdClassBars(bars: ClassBar[]): string {
  const width = 30;
  const nameW = Math.max(...bars.map((b) => Array.from(b.label).length));
  return bars
    .map((b) => {
      const full = Math.min(width, Math.round((Math.max(0, b.pct) / 100) * width));
      const pad = " ".repeat(nameW - Array.from(b.label).length);
      return `${b.label}${pad}  ${"█".repeat(full)}${" ".repeat(width - full)}  ${pct(b.pct).padStart(7)}  ${dur(b.ms)}`;
    })
    .join("\n");
}

const mdHelpers = {
  text: mdText,
  code: mdCode,
  rich: mdRich,
  table: mdTable,
  bars: mdBars,
  classBars: mdClassBars,
};

// ---------------------------------------------------------------------------------------------
// HTML

function htmlCell(c: Table["rows"][number][number], numeric: boolean): string {
  const attrs: string[] = [];
  if (numeric && c.v !== undefined) attrs.push(`data-v="${Number.isFinite(c.v) ? c.v : "-1e308"}"`);
  if (numeric) attrs.push('class="num"');
  if (c.title && c.title !== c.text) attrs.push(`title="${html(c.title)}"`);
  const inner = c.code ? `<code>${html(c.text)}</code>` : c.text === NOT_MEASURED ? `<span class="nm">${html(c.text)}</span>` : html(c.text);
  const sub = c.sub ? `<div class="sub">${html(c.sub)}</div>` : "";
  return `<td${attrs.length ? ` ${attrs.join(" ")}` : ""}>${inner}${sub}</td>`;
}

/** Inline SVG area chart of GPU utilization over time (static: readable without JavaScript). */
function utilSvg(tl: Timeline | null): string {
  if (!tl || tl.util.series.length === 0) return "";
  const W = 1000;
  const H = 80;
  const out: string[] = [];
  out.push(`<svg class="util-svg" viewBox="0 0 ${W} ${H + 14}" preserveAspectRatio="none" role="img" aria-label="GPU utilization over time">`);
  for (const s of tl.util.series) {
    const n = s.v.length;
    // average down to at most 500 points
    const step = Math.max(1, Math.ceil(n / 500));
    const pts: string[] = [`0,${H}`];
    for (let i = 0; i < n; i += step) {
      let sum = 0;
      let k = 0;
      for (let j = i; j < Math.min(n, i + step); j++, k++) sum += s.v[j]!;
      const x = ((i + step / 2) / n) * W;
      const y = H - (sum / k / 1000) * H;
      pts.push(`${x.toFixed(1)},${y.toFixed(1)}`);
    }
    pts.push(`${W},${H}`);
    out.push(`<polygon class="util-area" points="${pts.join(" ")}"><title>${html(s.label)} utilization</title></polygon>`);
  }
  out.push(`<line x1="0" y1="${H}" x2="${W}" y2="${H}" class="util-axis"/>`);
  out.push(`<text x="2" y="${H + 12}" class="util-label">0</text>`);
  out.push(`<text x="${W - 2}" y="${H + 12}" class="util-label" text-anchor="end">${html(dur(tl.span / 1e6))}</text>`);
  out.push(`</svg>`);
  return out.join("");
}

const htmlHelpers = {
  esc: html,
  rich: htmlRich,
  cell: htmlCell,
  richText: (s: string) => htmlRich(rich(s)),
  sevClass: (s: string) => (s === "high" || s === "medium" || s === "low" ? s : "low"),
  /** A CSS percentage width, never anything else. */
  w: (p: number) => `${Math.max(0, Math.min(100, Number.isFinite(p) ? p : 0)).toFixed(1)}%`,
  /** Key/value rows flowing in columns (finding evidence). */
  kvCols: (items: { key: string; value: Seg[]; items?: Seg[][] }[]) =>
    `<div class="kvc">${items
      .map(
        (i) =>
          `<div class="kvr${i.items?.length ? " wide" : ""}"><span class="k">${html(i.key)}</span> ${htmlRich(i.value)}${
            i.items?.length ? `<ul class="ev">${i.items.map((x) => `<li>${htmlRich(x)}</li>`).join("")}</ul>` : ""
          }</div>`,
      )
      .join("")}</div>`,
  kvList: (items: { key: string; value: Seg[]; items?: Seg[][] }[]) =>
    `<dl class="kv">${items
      .map(
        (i) =>
          `<dt>${html(i.key)}</dt><dd>${htmlRich(i.value)}${
            i.items?.length ? `<ul class="ev">${i.items.map((x) => `<li>${htmlRich(x)}</li>`).join("")}</ul>` : ""
          }</dd>`,
      )
      .join("")}</dl>`,
};

// ---------------------------------------------------------------------------------------------

let etaMd: Eta | null = null;
let etaHtml: Eta | null = null;

function md(): Eta {
  if (!etaMd) {
    // `<%= %>` escapes for Markdown; the templates trim control lines themselves.
    etaMd = new Eta({ autoEscape: true, escapeFunction: mdText, autoTrim: false, useWith: false });
  }
  return etaMd;
}

function htmlEngine(): Eta {
  if (!etaHtml) {
    etaHtml = new Eta({ autoEscape: true, escapeFunction: html, autoTrim: false, useWith: false });
    etaHtml.loadTemplate("@table", htmlTable);
    etaHtml.loadTemplate("@finding", htmlFinding);
  }
  return etaHtml;
}

function assertInlineSafe(name: string, code: string): string {
  // Inlined assets are our own code, but a stray "</script" or "</style" would end the element.
  if (/<\/(script|style)|<!--|<script/i.test(code)) throw new Error(`report asset ${name} contains a closing tag`);
  return code;
}

const BOOT_JS = 'document.body.classList.add("js")';
const MAIN_JS = `\n${assertInlineSafe("timeline.client.js", timelineJs)}\n${assertInlineSafe("flame.client.js", flameJs)}\n${assertInlineSafe("tables.client.js", tablesJs)}\n`;
// The Content-Security-Policy allows exactly our two inline scripts (by hash) and nothing else:
// even if a trace string slipped through escaping, a script it injected would not run, and the
// page can load nothing from the network.
const sha256 = (s: string) => `'sha256-${new Bun.CryptoHasher("sha256").update(s).digest("base64")}'`;
const SCRIPT_HASHES = `${sha256(BOOT_JS)} ${sha256(MAIN_JS)}`;

export function renderMarkdown(report: Report): string {
  const view = buildView(report);
  const out = md().renderString(mdTemplate, { view, h: mdHelpers });
  // one blank line at most, one newline at the end
  return `${out.replace(/\n{3,}/g, "\n\n").trim()}\n`;
}

export function renderHtml(report: Report, analysis?: RenderInput, opts: RenderOptions = {}): string {
  const view: ReportView = buildView(report);
  const flame = analysis ? flameData(analysis.callTree(), opts.flame) : null;
  const flameJson = flame ? scriptJson(flame) : "null";
  // the flame graphs' bytes come out of the timeline's budget: the file stays within the same size
  const tlOpts: TimelineOptions = { ...opts.timeline, maxBytes: opts.timeline?.maxBytes ?? Math.max(1_000_000, DEFAULT_TIMELINE_BYTES - flameJson.length) };
  const timeline = analysis ? buildTimeline(analysis, tlOpts) : null;
  return htmlEngine().renderString(htmlTemplate, {
    view,
    h: htmlHelpers,
    timeline,
    timelineJson: timeline ? scriptJson(timeline) : "null",
    flame,
    flameJson,
    utilSvg: utilSvg(timeline),
    gpuLanes: timeline ? timeline.lanes.filter((l) => l.kind === "gpu").length : 0,
    lod: timeline?.lod ?? null,
    css: assertInlineSafe("report.css", css),
    bootJs: BOOT_JS,
    js: MAIN_JS,
    scriptHash: SCRIPT_HASHES,
    fmt: { dur, pct },
  });
}

function needTree(analysis: RenderInput | undefined, format: string): RenderInput {
  if (!analysis) throw new Error(`the ${format} format is drawn from the analysis's call tree: pass the analysis`);
  return analysis;
}

export function renderReport(report: Report, format: ReportFormat, analysis?: RenderInput, opts: RenderOptions = {}): string {
  switch (format) {
    case "md":
      return renderMarkdown(report);
    case "html":
      return renderHtml(report, analysis, opts);
    case "json":
      return reportJson(report);
    case "folded":
      return foldedStacks(needTree(analysis, format).callTree());
    case "speedscope":
      return `${JSON.stringify(speedscopeFile(needTree(analysis, format).callTree(), report.source.path, `inferscope ${VERSION}`))}\n`;
    default:
      throw new Error(`unknown report format: ${String(format)}`);
  }
}
