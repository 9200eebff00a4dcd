// The view-model: everything a report template shows, computed once from a Report (the analysis
// contract) so that the Markdown and HTML templates only lay it out. Values stay raw strings here
// (never escaped): each template escapes for its own format. A null metric becomes "not measured".

import type { Classification, CodeRef, CopyStat, EstimatedSaving, Finding, IdleAttribution, KernelClassStat, LatencyStat, Report, Severity } from "../analyze/report-types.ts";
import { kernelLabel } from "../analyze/kernel-classes.ts";
import {
  NOT_MEASURED,
  bytes,
  confidence,
  dur,
  fullLocation,
  gbps,
  int,
  location,
  mb,
  ms,
  pct,
  plain,
  rich,
  shortKernel,
  us,
  value,
  type Seg,
} from "./format.ts";
import { LAYERS_NOT_MEASURED, layersView, type LayersView } from "./layers-view.ts";
import { hotFunctionsTable, hotNote, marksTable, noGpuLine, processesTable, startupNote, startupTable, threadsTable, waitsTable, windowSummary } from "./cpu-view.ts";

export const CLASS_LABEL: Record<Classification, string> = {
  cpu_bound: "CPU-bound",
  gpu_bound: "GPU-bound",
  memory_bound: "Memory-bound",
  wait_bound: "Waiting (not CPU-bound)",
  balanced: "Balanced",
  unknown: "Unknown",
};

const SEVERITY_RANK: Record<Severity, number> = { high: 0, medium: 1, low: 2 };

/** A table cell: the text shown, and a sort key for the HTML tables (numbers sort as numbers). */
export interface Cell {
  text: string;
  /** Sort value; absent for text columns (they sort by text). */
  v?: number;
  /** Shown as code (names from the trace). */
  code?: boolean;
  /** Full text where `text` is shortened (HTML title attribute). */
  title?: string;
  /** Secondary line (a location under a function name). */
  sub?: string;
}

export interface Table {
  id: string;
  columns: { label: string; numeric: boolean }[];
  rows: Cell[][];
  /** Shown instead of the table when it has no rows. */
  empty: string;
}

export interface KV {
  key: string;
  value: Seg[];
  /** A list under the value (evidence that is a list of records). */
  items?: Seg[][];
}

export interface FindingView {
  rank: number;
  rule: string;
  /** "rule" for a built-in rule, "user rule" for one of .inferscope_rules.yaml. */
  ruleKind: "rule" | "user rule";
  title: Seg[];
  severity: Severity;
  confidence: string;
  impact: string;
  /** "estimated saving 5.844 ms per `step` (71.7 % of the window)", "saving not estimated", or empty (a report from before savings). */
  saving: Seg[];
  /** The saving's assumption, and the findings that already count part of it. */
  savingBasis: Seg[];
  evidence: KV[];
  suggestions: Seg[][];
}

/** One kernel class's share of GPU busy time, for a bar. */
export interface ClassBar {
  label: string;
  ms: number;
  /** % of GPU busy time (bar width). */
  pct: number;
}

export interface ScopeBar {
  name: string;
  compute: number;
  transfer: number;
  idle: number;
  /** Percentages of the scope's mean duration, for the bar widths. */
  computePct: number;
  transferPct: number;
  idlePct: number;
  otherPct: number;
}

export interface ReportView {
  title: string;
  source: { path: string; format: string; events: string };
  verdict: {
    classification: Classification;
    label: string;
    confidence: string;
    /** The one-sentence verdict, label and confidence included. */
    sentence: Seg[];
    /** The analyzer's own reason, when it adds something to the sentence. */
    reason: Seg[] | null;
  };
  /** Key numbers shown under the verdict. */
  summary: KV[];
  /** Big-number cards for the HTML header. */
  cards: { label: string; value: string; note: string }[];
  findings: FindingView[];
  gpu: null | {
    idleBreakdown: KV[];
    idleTop: Table;
    kernelsSummary: KV[];
    kernels: Table;
    /** Kernel classes (gpu.kernels.by_class): table and bars; empty in reports from before them. */
    classes: Table;
    classBars: ClassBar[];
    /** GEMMs by precision with achieved TFLOP/s; null without GEMMs or in older reports. */
    gemm: Table | null;
    gemmNote: string;
    transfers: Table;
    memset: string;
    syncsSummary: string;
    syncs: Table;
    devices: string[];
  };
  scopes: Table;
  scopeBars: ScopeBar[];
  /** Per-request latency, TTFT, ITL and the slowest requests; null when no request was marked. */
  requests: null | { summary: string; stats: Table; slowest: Table };
  /** Per nn.Module path and class (report.modules); null when not measured, with the reason. */
  layers: LayersView | null;
  layersEmpty: Seg[];
  threads: Table;
  /** Functions by self time (cpu.top_functions), and what self/total mean. */
  hotFunctions: Table;
  hotNote: string;
  /** The start-up phase before the window, where threads waited, the processes, the marks. */
  startup: Table | null;
  /** The start-up section's line under its heading. */
  startupNote: string;
  waits: Table | null;
  processes: Table | null;
  marks: Table | null;
  memory: KV[];
  numa: KV[];
  clock: KV[];
  dropped: KV[];
  collection: KV[];
  warnings: Seg[][];
}

const t = (text: string, extra: Partial<Cell> = {}): Cell => ({ text, ...extra });
const n = (text: string, v: number | null | undefined): Cell =>
  typeof v === "number" && Number.isFinite(v) ? { text, v } : { text, v: Number.NEGATIVE_INFINITY };

function kv(key: string, v: string | Seg[]): KV {
  return { key, value: typeof v === "string" ? [{ t: v }] : v };
}

function code(s: string): Seg {
  return { t: s, code: true };
}

/** "tokenize (preprocess.py:41)" as segments. */
function refSegs(ref: Partial<CodeRef>): Seg[] {
  const out: Seg[] = [code(ref.function || "?")];
  const loc = location(ref.file, ref.line);
  if (loc) out.push({ t: ` (${loc})` });
  return out;
}

export function functionCell(ref: Partial<CodeRef>): Cell {
  if (!ref.function) return t("unknown");
  const loc = location(ref.file, ref.line);
  return t(ref.function, { code: true, sub: loc || undefined, title: fullLocation(ref.file, ref.line) || undefined });
}

/** A finding's estimated saving over the window, -1 when not estimated; null in reports from before savings. */
function savingKey(f: Finding): number | null {
  const s = f.estimated_saving;
  if (!s) return null;
  return s.ms === null ? -1 : (s.window_ms ?? s.ms);
}

/** Findings by estimated saving ("not estimated" last); by impact in reports from before savings. */
export function rankFindings(findings: Finding[]): Finding[] {
  const bySaving = findings.every((f) => savingKey(f) !== null);
  return [...findings].sort(
    (a, b) =>
      (bySaving ? savingKey(b)! - savingKey(a)! : 0) ||
      (b.impact_ms ?? 0) - (a.impact_ms ?? 0) ||
      SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
      (b.confidence ?? 0) - (a.confidence ?? 0) ||
      (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0),
  );
}

function verdictClause(r: Report): Seg[] {
  const g = r.gpu;
  // No GPU: the analysis's reason is the clause (why there is no GPU data, where the CPU time went).
  if (!g) return r.bottleneck.reason ? rich(r.bottleneck.reason) : [{ t: "no GPU activity was recorded" }];
  const idlePct = g.window_ms > 0 ? (100 * g.idle.total_ms) / g.window_ms : 0;
  switch (r.bottleneck.classification) {
    case "cpu_bound": {
      const out: Seg[] = [{ t: `the GPU is idle ${pct(idlePct)} of the time` }];
      // The attribution lists enclosing scopes (function == scope) beside the functions inside them.
      const isScope = (a: IdleAttribution) => !!a.scope && a.function === a.scope;
      const known = (a: IdleAttribution) => !!a.function && !a.function.startsWith("(");
      const scope = g.idle.top.find((a) => isScope(a) && a.pct_of_idle >= 50);
      // "while the CPU runs X": X the innermost code for longest (self time) when the analysis gives
      // it, else the first function listed (inclusive time).
      const fns = g.idle.top.filter((a) => known(a) && !isScope(a));
      const bySelf = fns.every((a) => typeof a.self_ms === "number") && fns.length > 0;
      const fn = bySelf ? fns.reduce((b, a) => (a.self_ms! > b.self_ms! ? a : b)) : fns[0];
      if (scope) out.push({ t: ", mostly inside " }, code(scope.function));
      if (fn) {
        const share = bySelf && g.idle.total_ms > 0 ? (100 * fn.self_ms!) / g.idle.total_ms : fn.pct_of_idle;
        if (share >= 50) out.push({ t: `${scope ? " and" : ","} mostly while the CPU runs ` }, ...refSegs(fn));
        else out.push({ t: `${scope ? ";" : ","} the largest share (${pct(share)}) while the CPU runs ` }, ...refSegs(fn));
      }
      return out;
    }
    case "gpu_bound": {
      const out: Seg[] = [{ t: `the GPU is busy ${pct(g.utilization_pct)} of the time` }];
      const c = g.kernels.by_class?.find((x) => x.class !== "memcpy" && x.class !== "memset");
      const k = g.kernels.top[0];
      if (c) out.push({ t: `; ${c.label} kernels take ${pct(c.pct_of_busy)} of it, most in ` }, code(kernelLabel(c.top_kernel, 60)));
      else if (k) out.push({ t: "; the top kernel " }, code(shortKernel(k.name, 60)), { t: ` takes ${pct(k.pct_of_busy)} of it` });
      return out;
    }
    case "memory_bound": {
      const copies = [g.memcpy.h2d, g.memcpy.d2h, g.memcpy.d2d, g.memcpy.other];
      const copyMs = copies.reduce((s, c) => s + c.ms, 0);
      const pageable = copies.reduce((s, c) => s + c.pageable_count, 0);
      const share = g.window_ms > 0 ? (100 * copyMs) / g.window_ms : null;
      const out: Seg[] = [{ t: `copies take ${dur(copyMs)}${share === null ? "" : `, ${pct(share)} of the ${dur(g.window_ms)} GPU window`}` }];
      if (pageable > 0) out.push({ t: `; ${int(pageable)} of them from pageable memory` });
      return out;
    }
    case "balanced":
      return [{ t: `the GPU is busy ${pct(g.utilization_pct)} of the time and no single cause dominates` }];
    default:
      return r.bottleneck.reason ? rich(r.bottleneck.reason) : [{ t: "the trace holds too little to decide" }];
  }
}

function copyRow(label: string, c: CopyStat): Cell[] {
  return [
    t(label),
    n(int(c.count), c.count),
    n(bytes(c.bytes), c.bytes),
    n(ms(c.ms), c.ms),
    n(gbps(c.gbps), c.gbps),
    n(int(c.pageable_count), c.pageable_count),
    n(int(c.pinned_count), c.pinned_count),
    n(int(c.sync_count), c.sync_count),
    n(ms(c.sync_blocked_ms), c.sync_blocked_ms),
  ];
}

const col = (label: string, numeric = true) => ({ label, numeric });

/** The analysis's collection record, made readable: known keys first, in a fixed order. */
function collectionKV(c: Record<string, unknown>): KV[] {
  const out: KV[] = [];
  const keys = Object.keys(c).sort();
  for (const k of keys) {
    const v = c[k];
    if (v === undefined) continue;
    if (Array.isArray(v) && v.every((x) => typeof x === "string")) out.push(kv(k, [code((v as string[]).join(" "))]));
    else out.push(evidenceKV(k, v));
  }
  return out;
}

/** Keys whose string values are names from the trace or code: shown as code. */
const CODE_KEYS = /^(function|name|kernel|scope|op|api|caller|launcher|thread|top_function)$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** One evidence record as "function `aten::mm` · scope `step` · idle_ms 19.17". */
function recordSegs(o: Record<string, unknown>): Seg[] {
  const out: Seg[] = [];
  for (const k of Object.keys(o)) {
    if (out.length) out.push({ t: " · " });
    const v = o[k];
    if (typeof v === "string" && CODE_KEYS.test(k)) out.push({ t: `${k} ` }, code(v));
    else out.push({ t: `${k} ${evidenceValue(k, v)}` });
  }
  return out;
}

/** An evidence value; byte counts also in KiB/MiB/GiB. */
function evidenceValue(key: string, v: unknown): string {
  if (typeof v === "number" && Number.isFinite(v) && (key === "bytes" || key.endsWith("_bytes")) && Math.abs(v) >= 1024) {
    return `${value(v)} (${bytes(v)})`;
  }
  if (typeof v === "number" && /version/i.test(key)) return String(v);
  return value(v);
}

function evidenceKV(key: string, v: unknown): KV {
  if (Array.isArray(v) && v.length > 0 && v.every(isRecord)) {
    return { key, value: [{ t: `${v.length} ${v.length === 1 ? "entry" : "entries"}` }], items: v.map(recordSegs) };
  }
  if (isRecord(v)) return { key, value: recordSegs(v) };
  if (typeof v === "string" && CODE_KEYS.test(key)) return kv(key, [code(v)]);
  return kv(key, evidenceValue(key, v));
}

export function buildView(r: Report): ReportView {
  const gpu = r.gpu ? gpuView(r.gpu) : null;
  return {
    title: `InferScope report: ${r.source.path}`,
    source: { path: r.source.path, format: r.source.format, events: int(r.source.events) },
    verdict: verdictView(r),
    summary: summaryKV(r),
    cards: summaryCards(r),
    findings: findingsView(r.findings),
    gpu,
    scopes: scopesTable(r.scopes, !!r.gpu),
    scopeBars: scopeBars(r.scopes),
    requests: r.requests ? requestsView(r.requests) : null,
    layers: layersView(r),
    layersEmpty: rich(LAYERS_NOT_MEASURED),
    threads: threadsTable(r),
    hotFunctions: hotFunctionsTable(r),
    hotNote: hotNote(r),
    startup: startupTable(r),
    startupNote: startupNote(r),
    waits: waitsTable(r),
    processes: processesTable(r),
    marks: marksTable(r),
    memory: memoryKV(r.cpu.memory),
    numa: numaKV(r.cpu.numa),
    clock: clockKV(r.clock),
    dropped: droppedKV(r.dropped),
    collection: collectionSection(r, gpu),
    warnings: (r.warnings ?? []).map((w) => rich(w)),
  };
}

/** The verdict: classification, confidence, the one sentence, and the analyzer's reason when it adds to it. */
function verdictView(r: Report): ReportView["verdict"] {
  const label = CLASS_LABEL[r.bottleneck.classification] ?? r.bottleneck.classification;
  const conf = confidence(r.bottleneck.confidence);
  const clause = verdictClause(r);
  // Without GPU data the clause is the analysis's reason, which already names the largest saving.
  const saving = r.gpu ? largestSaving(r.findings) : [];
  const sentence: Seg[] = [{ t: `${label} (confidence ${conf}): ` }, ...clause, ...saving, { t: "." }];
  const reasonSegs = rich(r.bottleneck.reason);
  const first = reasonSegs[0];
  if (first && !first.code) first.t = first.t.charAt(0).toUpperCase() + first.t.slice(1);
  const same = plain(rich(r.bottleneck.reason)).trim() === plain(clause).trim();
  const reason = reasonSegs.length > 0 && !same ? reasonSegs : null;
  return { classification: r.bottleneck.classification, label, confidence: conf, sentence, reason };
}

/** Key numbers under the verdict. */
function summaryKV(r: Report): KV[] {
  const g = r.gpu;
  const summary: KV[] = [kv("Trace", [code(r.source.path), { t: ` (${r.source.format}, ${int(r.source.events)} events)` }])];
  if (!g) {
    summary.push(kv("GPU", noGpuLine(r)), ...windowSummary(r));
    return summary;
  }
  const split =
    g.compute_ms !== undefined && g.transfer_only_ms !== undefined ? ` (computing ${dur(g.compute_ms)}, only copying ${dur(g.transfer_only_ms)})` : "";
  summary.push(kv("GPU", `busy ${dur(g.busy_ms)}${split} of a ${dur(g.window_ms)} window (${pct(g.utilization_pct)}); idle ${dur(g.idle.total_ms)}`));
  summary.push(
    kv("Kernels", `${int(g.kernels.count)} kernels, ${dur(g.kernels.total_ms)} in all; ${int(g.kernels.short_count)} short ones (${pct(g.kernels.short_pct)})`),
  );
  summary.push(...windowSummary(r));
  return summary;
}

/** Big-number cards for the HTML header. */
function summaryCards(r: Report): ReportView["cards"] {
  const g = r.gpu;
  const cards: ReportView["cards"] = [];
  if (g) {
    cards.push({ label: "GPU utilization", value: pct(g.utilization_pct), note: `busy ${dur(g.busy_ms)} of ${dur(g.window_ms)}` });
    cards.push({ label: "GPU idle", value: dur(g.idle.total_ms), note: `host wait ${dur(g.idle.host_wait_ms)}` });
    cards.push({ label: "Kernels", value: int(g.kernels.count), note: `${pct(g.kernels.short_pct)} short` });
    const copyMs = g.memcpy.h2d.ms + g.memcpy.d2h.ms + g.memcpy.d2d.ms + g.memcpy.other.ms;
    cards.push({ label: "Copies", value: dur(copyMs), note: bytes(g.memcpy.h2d.bytes + g.memcpy.d2h.bytes + g.memcpy.d2d.bytes + g.memcpy.other.bytes) });
    cards.push({ label: "Syncs", value: int(g.syncs.count), note: `blocked ${dur(g.syncs.blocked_ms)}` });
  }
  if (r.window) cards.push({ label: r.window.mode === "auto" ? "Steady state" : "Window", value: dur(r.window.duration_ms), note: `of a ${dur(r.window.run_ms)} run` });
  if (r.startup) cards.push({ label: "Start-up", value: dur(r.startup.total_ms), note: `${pct(r.startup.pct_of_run)} of the run` });
  cards.push({ label: "Events", value: int(r.source.events), note: r.source.format });
  return cards;
}

/** "; fixing `fp32_gemm` saves at most 5.844 ms per `step`" — the finding with the largest estimated saving. */
function largestSaving(findings: Finding[]): Seg[] {
  const f = rankFindings(findings)[0];
  const s = f?.estimated_saving;
  if (!f || !s || s.ms === null || (s.window_ms ?? s.ms) <= 0) return [];
  return [{ t: "; fixing " }, code(f.rule), { t: " saves at most " }, ...savingSegs(s)];
}

/** "5.844 ms per `step` (71.7 % of the window)" */
function savingSegs(s: EstimatedSaving): Seg[] {
  if (s.ms === null) return [{ t: "not estimated" }];
  const out: Seg[] = [{ t: dur(s.ms) }];
  if (s.per === "step" && s.scope) out.push({ t: " per " }, code(s.scope));
  if (typeof s.pct_of_window === "number") out.push({ t: ` (${pct(s.pct_of_window)} of the window)` });
  return out;
}

function savingBasis(s: EstimatedSaving | undefined): Seg[] {
  if (!s) return [];
  const out = rich(s.ms === null ? s.basis.charAt(0).toUpperCase() + s.basis.slice(1) : s.basis);
  if (s.overlaps && s.overlaps.length > 0 && s.standalone_ms !== undefined) {
    out.push({ t: ` On its own it is worth ${dur(s.standalone_ms)}; the rest is counted under ` });
    s.overlaps.forEach((r, i) => out.push(...(i > 0 ? [{ t: ", " }] : []), code(r)));
    out.push({ t: "." });
  }
  return out;
}

function findingsView(findings: Finding[]): FindingView[] {
  return rankFindings(findings).map((f, i) => ({
    rank: i + 1,
    rule: f.rule,
    ruleKind: f.source === "user" ? "user rule" : "rule",
    title: rich(f.title),
    severity: f.severity,
    confidence: confidence(f.confidence),
    impact: dur(f.impact_ms),
    saving: f.estimated_saving ? (f.estimated_saving.ms === null ? [{ t: "saving not estimated" }] : [{ t: "estimated saving " }, ...savingSegs(f.estimated_saving)]) : [],
    savingBasis: savingBasis(f.estimated_saving),
    evidence: Object.keys(f.evidence ?? {}).map((k) => evidenceKV(k, f.evidence[k])),
    suggestions: (f.suggestions ?? []).map((s) => rich(s)),
  }));
}

type GpuReport = NonNullable<Report["gpu"]>;

/** The GPU section: idle breakdown and attribution, kernels, copies, syncs, devices. */
function gpuView(g: GpuReport): NonNullable<ReportView["gpu"]> {
  return {
    idleBreakdown: idleBreakdownKV(g.idle),
    idleTop: idleTopTable(g.idle.top),
    kernelsSummary: kernelsSummaryKV(g.kernels),
    kernels: kernelsTable(g.kernels.top),
    classes: classesTable(g.kernels.by_class ?? []),
    classBars: (g.kernels.by_class ?? []).map((c) => ({ label: c.label, ms: c.total_ms, pct: c.pct_of_busy })),
    gemm: g.kernels.gemm ? gemmTable(g.kernels.gemm) : null,
    gemmNote: gemmNote(g.kernels.gemm),
    transfers: transfersTable(g.memcpy),
    memset: g.memset.count > 0 ? `${int(g.memset.count)} memsets, ${bytes(g.memset.bytes)}, ${dur(g.memset.ms)}` : "No memsets.",
    syncsSummary: `${int(g.syncs.count)} synchronizations; the CPU was blocked ${dur(g.syncs.blocked_ms)} in them.`,
    syncs: syncsTable(g.syncs.top),
    devices: g.devices.map((d) => `GPU ${d.index}: ${d.name}`),
  };
}

function idleBreakdownKV(idle: GpuReport["idle"]): KV[] {
  const out = [
    kv("waiting for the host (CPU work, launches)", `${dur(idle.host_wait_ms)}`),
    kv("waiting between dependent kernels", `${dur(idle.kernel_wait_ms)}`),
    kv("around syncs and other", `${dur(idle.sync_other_ms)}`),
  ];
  if (idle.after_sync_ms !== undefined) out.push(kv("right after a CPU–GPU sync (any kind)", dur(idle.after_sync_ms)));
  if (idle.gaps !== undefined) out.push(kv("idle gaps", int(idle.gaps)));
  if (idle.launches_known === false) out.push(kv("note", "the trace has no launch calls, so host waits cannot be told from other gaps"));
  return out;
}

function idleTopTable(top: IdleAttribution[]): Table {
  return {
    id: "idle-top",
    columns: [col("function", false), col("kind", false), col("scope", false), col("idle ms"), col("% of idle"), col("self ms")],
    rows: top.map((a) => [
      functionCell(a),
      t(a.kind ?? ""),
      t(a.scope ?? "", { code: !!a.scope }),
      n(ms(a.idle_ms), a.idle_ms),
      n(pct(a.pct_of_idle), a.pct_of_idle),
      n(ms(a.self_ms), a.self_ms),
    ]),
    empty: "No host-side activity was found during the GPU's idle time.",
  };
}

function kernelsSummaryKV(k: GpuReport["kernels"]): KV[] {
  return [
    kv("kernels", int(k.count)),
    kv("GPU time in kernels", dur(k.total_ms)),
    kv("short kernels", `${int(k.short_count)} (${pct(k.short_pct)})`),
    kv("time in launch API calls", dur(k.launch_api_ms)),
    ...(k.launch_calls !== undefined ? [kv("launch calls", int(k.launch_calls))] : []),
    ...(k.graph_launched_count !== undefined ? [kv("kernels from CUDA graphs", int(k.graph_launched_count))] : []),
    ...(k.mean_us !== undefined ? [kv("mean kernel time", `${us(k.mean_us)} µs`)] : []),
    ...(k.queue_depth !== undefined
      ? [kv("queue depth at launch", k.queue_depth ? `mean ${value(k.queue_depth.mean)}, max ${int(k.queue_depth.max)}` : NOT_MEASURED)]
      : []),
  ];
}

function kernelsTable(top: GpuReport["kernels"]["top"]): Table {
  return {
    id: "kernels",
    columns: [col("kernel", false), col("count"), col("total ms"), col("mean µs"), col("max µs"), col("% of busy"), col("launched from", false)],
    rows: top.map((k) => [
      t(shortKernel(k.name), { code: true, title: k.name }),
      n(int(k.count), k.count),
      n(ms(k.total_ms), k.total_ms),
      n(us(k.mean_us), k.mean_us),
      n(us(k.max_us), k.max_us),
      n(pct(k.pct_of_busy), k.pct_of_busy),
      k.function ? { ...functionCell(k), sub: [location(k.file, k.line), k.scope ? `scope ${k.scope}` : ""].filter(Boolean).join(" · ") || undefined } : t("unknown"),
    ]),
    empty: "No kernels were recorded.",
  };
}

function classesTable(rows: KernelClassStat[]): Table {
  return {
    id: "kernel-classes",
    columns: [col("class", false), col("ops"), col("total ms"), col("% of busy"), col("largest kernel", false)],
    rows: rows.map((c) => [
      t(c.label),
      n(int(c.count), c.count),
      n(ms(c.total_ms), c.total_ms),
      n(pct(c.pct_of_busy), c.pct_of_busy),
      t(kernelLabel(c.top_kernel), { code: true, title: c.top_kernel, sub: `${ms(c.top_kernel_ms)} ms` }),
    ]),
    empty: "No kernel classes in this report.",
  };
}

type GemmReport = NonNullable<GpuReport["kernels"]["gemm"]>;

function gemmTable(gm: GemmReport): Table {
  return {
    id: "gemm",
    columns: [col("precision", false), col("math", false), col("kernels"), col("total ms"), col("achieved TFLOP/s"), col("peak TFLOP/s"), col("% of peak")],
    rows: gm.by_precision.map((r) => [
      t(r.precision),
      t(r.tensor_cores ? "tensor cores" : "CUDA cores"),
      n(int(r.count), r.count),
      n(ms(r.total_ms), r.total_ms),
      n(r.achieved_tflops === null ? NOT_MEASURED : value(r.achieved_tflops), r.achieved_tflops),
      n(r.peak_tflops === null ? "unknown" : value(r.peak_tflops), r.peak_tflops),
      n(r.pct_of_peak === null ? NOT_MEASURED : pct(r.pct_of_peak), r.pct_of_peak),
    ]),
    empty: "No GEMM kernels.",
  };
}

function gemmNote(gm: GpuReport["kernels"]["gemm"]): string {
  if (!gm) return "";
  const peak = gm.device ? `Peaks: ${gm.device}, dense (${gm.peak_source}).` : "The device is not in the peak table: peaks unknown.";
  return gm.not_measured ? `Achieved TFLOP/s not measured: ${gm.not_measured}. ${peak}` : `Achieved TFLOP/s from the ops' tensor shapes over the kernels' time. ${peak}`;
}

function transfersTable(m: GpuReport["memcpy"]): Table {
  return {
    id: "transfers",
    columns: [col("direction", false), col("count"), col("bytes"), col("ms"), col("GB/s"), col("pageable"), col("pinned"), col("synchronous"), col("CPU blocked ms")],
    rows: [copyRow("host → device", m.h2d), copyRow("device → host", m.d2h), copyRow("device → device", m.d2d), copyRow("other", m.other)].filter(
      (row) => row[1]!.v !== 0,
    ),
    empty: "No copies were recorded.",
  };
}

function syncsTable(top: GpuReport["syncs"]["top"]): Table {
  return {
    id: "syncs",
    columns: [col("called from", false), col("scope", false), col("count"), col("blocked ms")],
    rows: top.map((s) => [functionCell(s), t(s.scope ?? "", { code: !!s.scope }), n(int(s.count), s.count), n(ms(s.blocked_ms), s.blocked_ms)]),
    empty: "No synchronizations were recorded.",
  };
}

/** Per scope; its GPU split columns only when the report has GPU data. */
function scopesTable(scopes: Report["scopes"], g: boolean): Table {
  return {
    id: "scopes",
    columns: [
      col("scope", false),
      col("count"),
      col("mean ms"),
      col("p50 ms"),
      col("p95 ms"),
      col("p99 ms"),
      col("max ms"),
      ...(g ? [col("compute ms"), col("transfer ms"), col("GPU idle ms")] : []),
    ],
    rows: scopes.map((s) => [
      t(s.name, { code: true }),
      ...latencyCells(s),
      ...(g ? [n(ms(s.split?.compute_ms), s.split?.compute_ms), n(ms(s.split?.transfer_ms), s.split?.transfer_ms), n(ms(s.split?.idle_ms), s.split?.idle_ms)] : []),
    ]),
    empty: "No scopes were recorded (wrap request phases in `inferscope.scope(\"name\")` or `torch.profiler.record_function`).",
  };
}

/** count, mean, p50, p95, p99, max: the scopes' and the requests' columns. */
function latencyCells(x: LatencyStat | null): Cell[] {
  if (!x) return Array.from({ length: 6 }, () => n(NOT_MEASURED, null));
  return [n(int(x.count), x.count), ...[x.mean_ms, x.p50_ms, x.p95_ms, x.p99_ms, x.max_ms].map((v) => n(ms(v), v))];
}

function requestsView(q: NonNullable<Report["requests"]>): NonNullable<ReportView["requests"]> {
  const row = (label: string, x: LatencyStat | null): Cell[] => [t(label), ...latencyCells(x)];
  const unfinished = q.unfinished ? `; ${int(q.unfinished)} more began and had not ended when the recording stopped (left out)` : "";
  return {
    summary: `${int(q.count)} requests, ${int(q.tokens)} tokens${unfinished}.`,
    stats: {
      id: "requests",
      columns: [col("", false), col("count"), col("mean ms"), col("p50 ms"), col("p95 ms"), col("p99 ms"), col("max ms")],
      rows: [row("latency", q.latency), row("time to first token", q.ttft), row("inter-token latency", q.itl)],
      empty: "",
    },
    slowest: {
      id: "slowest-requests",
      columns: [col("request", false), col("latency ms"), col("queue ms"), col("CPU ms"), col("GPU ms"), col("idle ms"), col("tokens"), col("TTFT ms")],
      rows: q.slowest.map((r) => [
        t(r.id, { code: true }),
        n(ms(r.latency_ms), r.latency_ms),
        n(ms(r.queue_ms), r.queue_ms),
        n(ms(r.cpu_ms), r.cpu_ms),
        n(ms(r.gpu_ms), r.gpu_ms),
        n(ms(r.idle_ms), r.idle_ms),
        n(int(r.tokens), r.tokens),
        n(ms(r.ttft_ms), r.ttft_ms),
      ]),
      empty: "",
    },
  };
}

/** Per scope with a GPU split: compute / transfer / idle as shares of its mean duration. */
function scopeBars(scopes: Report["scopes"]): ScopeBar[] {
  return scopes
    .filter((s) => s.split)
    .map((s) => {
      const sp = s.split!;
      const total = Math.max(s.mean_ms, sp.compute_ms + sp.transfer_ms + sp.idle_ms, 1e-12);
      const p = (x: number) => Math.round((1000 * x) / total) / 10;
      const computePct = p(sp.compute_ms);
      const transferPct = p(sp.transfer_ms);
      const idlePct = p(sp.idle_ms);
      return {
        name: s.name,
        compute: sp.compute_ms,
        transfer: sp.transfer_ms,
        idle: sp.idle_ms,
        computePct,
        transferPct,
        idlePct,
        otherPct: Math.max(0, Math.round(10 * (100 - computePct - transferPct - idlePct)) / 10),
      };
    });
}

function memoryKV(m: Report["cpu"]["memory"]): KV[] {
  return [kv("peak RSS", mb(m.peak_rss_mb)), kv("lowest available system memory", mb(m.min_available_mb)), kv("swap used", mb(m.swap_used_mb))];
}

function numaKV(nu: Report["cpu"]["numa"]): KV[] {
  const byNode = nu.pages_mb_by_node;
  return [
    kv("GPU's NUMA node", nu.gpu_node === null || nu.gpu_node === undefined ? NOT_MEASURED : String(nu.gpu_node)),
    kv(
      "process memory by node",
      byNode
        ? Object.keys(byNode)
            .sort((a, b) => Number(a) - Number(b) || (a < b ? -1 : 1))
            .map((k) => `node ${k}: ${mb(byNode[k])}`)
            .join(", ") || NOT_MEASURED
        : NOT_MEASURED,
    ),
    kv("on a node other than the GPU's", pct(nu.remote_pct)),
  ];
}

function clockKV(c: Report["clock"]): KV[] {
  return [
    kv("clock", c.source || NOT_MEASURED),
    kv("error bound", c.error_bound_us === null || c.error_bound_us === undefined ? NOT_MEASURED : `± ${us(c.error_bound_us)} µs`),
  ];
}

function droppedKV(dropped: Report["dropped"]): KV[] {
  const keys = Object.keys(dropped ?? {}).sort();
  return keys.length > 0 ? keys.map((k) => kv(k, int(dropped[k]))) : [kv("dropped events", NOT_MEASURED)];
}

/** How the trace was collected: the source, the devices, then the analysis's collection record. */
function collectionSection(r: Report, gpu: ReportView["gpu"]): KV[] {
  const out: KV[] = [kv("source", [code(r.source.path), { t: ` (${r.source.format} trace, ${int(r.source.events)} events)` }])];
  if (gpu) for (const d of gpu.devices) out.push(kv("device", d));
  out.push(...collectionKV(r.collection ?? {}));
  return out;
}
