// The report's per-layer section (`modules`): one table per nn.Module path, one per class with
// several instances. GPU columns appear only when the trace has GPU ops (else they would all say
// "not measured").
import type { ModulesSection, ModuleTypeRow, Report } from "../analyze/report-types.ts";
import { bytes, dur, int, ms, pct, rich, shortKernel, type Seg } from "./format.ts";
import type { Cell, Table } from "./view-model.ts";

export interface LayersView {
  /** One sentence: how many modules, the time inside them and its share of the step. */
  summary: Seg[];
  table: Table;
  types: Table;
  note: string;
}

const t = (text: string, extra: Partial<Cell> = {}): Cell => ({ text, ...extra });
const n = (text: string, v: number | null | undefined): Cell =>
  typeof v === "number" && Number.isFinite(v) ? { text, v } : { text, v: Number.NEGATIVE_INFINITY };
const col = (label: string, numeric = true) => ({ label, numeric });

export const LAYERS_NOT_MEASURED =
  "Not measured: the trace has no nn.Module calls (`inferscope run` records them when the script uses torch, unless `--no-modules`; torch.profiler records them with `with_stack=True`, or `with_modules=True` for TorchScript).";

const NOTE =
  "Self: CPU time while the module was the innermost module running (its own code and ops, not its children's); total: while it ran. Kernel time: GPU time of the kernels launched from inside it, found from each launch call's stack. % of step: total over the step's time.";

function stepText(m: ModulesSection): string {
  const s = m.step;
  if (s.scope === null) return `${dur(m.in_modules_ms)} inside modules (${int(s.count)} outermost calls)`;
  const share = pct(s.ms > 0 ? (100 * m.in_modules_ms) / s.ms : 0);
  const outside = m.outside_step_ms > 0 ? `; ${dur(m.outside_step_ms)} in modules outside it (a warm-up, loading, other scopes) not counted here` : "";
  return `${dur(m.in_modules_ms)} inside modules: ${share} of scope \`${s.scope}\` (${int(s.count)} ${s.count === 1 ? "instance" : "instances"}, ${dur(s.ms)} in all)${outside}`;
}

/**
 * Only repeats are compared (the blocks of a stack, the same child of each): instances of a class
 * at different places see different inputs, so "10× the median" between them means nothing.
 */
function slowestRepeat(c: ModuleTypeRow): Cell {
  const r = c.repeats;
  if (!r) return t("—", { sub: "no repeats: each instance at its own place" });
  const of = `of ${int(r.instances)} repeats`;
  return t(r.slowest, { code: true, sub: r.median_ms > 0 ? `${(r.max_ms / r.median_ms).toFixed(1)}× the median ${of}` : of });
}

export function layersView(r: Report): LayersView | null {
  const m = r.modules;
  if (!m) return null;
  const gpu = m.top.some((row) => row.kernel_ms !== null);
  const sortNote = m.sort === "kernel_self" ? "by kernel self time (the GPU was busy most of the time)" : "by CPU self time";
  const table: Table = {
    id: "layers",
    columns: [
      col("module", false),
      col("calls"),
      col("self ms"),
      col("total ms"),
      col("% of step"),
      ...(gpu ? [col("kernel ms"), col("kernel self ms"), col("kernels"), col("copies"), col("syncs"), col("top kernel", false)] : []),
    ],
    rows: m.top.map((row) => [
      t(row.path, { code: true, sub: row.type && row.type !== row.path ? row.type : undefined }),
      n(int(row.calls), row.calls),
      n(ms(row.self_ms), row.self_ms),
      n(ms(row.total_ms), row.total_ms),
      n(pct(row.pct_of_step), row.pct_of_step),
      ...(gpu
        ? [
            n(ms(row.kernel_ms), row.kernel_ms),
            n(ms(row.kernel_self_ms), row.kernel_self_ms),
            n(int(row.kernels), row.kernels),
            row.copies && row.copies.count > 0 ? { ...n(int(row.copies.count), row.copies.count), sub: bytes(row.copies.bytes) } : n("0", 0),
            row.syncs && row.syncs.count > 0 ? { ...n(int(row.syncs.count), row.syncs.count), sub: `${ms(row.syncs.blocked_ms)} ms` } : n("0", 0),
            row.top_kernel ? t(shortKernel(row.top_kernel.name, 60), { code: true, title: row.top_kernel.name, sub: `${ms(row.top_kernel.ms)} ms` }) : t(""),
          ]
        : []),
    ]),
    empty: "No module took any time.",
  };
  const types: Table = {
    id: "layer-types",
    columns: [
      col("class", false),
      col("instances"),
      col("calls"),
      col("total ms"),
      col("% of step"),
      ...(gpu ? [col("kernel ms")] : []),
      col("per instance: min / median / max ms", false),
      col("slowest repeat", false),
    ],
    rows: m.types.map((c) => [
      t(`${c.type} ×${c.instances}`, { code: true }),
      n(int(c.instances), c.instances),
      n(int(c.calls), c.calls),
      n(ms(c.total_ms), c.total_ms),
      n(pct(c.pct_of_step), c.pct_of_step),
      ...(gpu ? [n(ms(c.kernel_ms), c.kernel_ms)] : []),
      t(`${ms(c.spread.min_ms)} / ${ms(c.spread.median_ms)} / ${ms(c.spread.max_ms)}`, { sub: c.spread.basis === "gpu" ? "kernel time" : "CPU time" }),
      slowestRepeat(c),
    ]),
    empty: "No module class has more than one instance.",
  };
  return {
    summary: rich(`${int(m.count)} modules; ${stepText(m)}. Rows ${sortNote}; the first ${int(m.top.length)} shown.`),
    table,
    types,
    note: NOTE,
  };
}
