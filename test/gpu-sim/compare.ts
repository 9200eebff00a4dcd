// Side by side: `inferscope run` of replay.py through the SIMULATED driver (README.md) against
// `inferscope analyze` of the same Kineto fixture. Prints one table and exits 1 on any mismatch.
//
//   bun test/gpu-sim/compare.ts FIXTURE RUN_DIR ANALYZE_JSON
//
// Checked exactly: kernel count and time, launch calls, copies (count and bytes per direction),
// memsets, syncs, GPU window and busy time, graph-launched kernels, ops and time per kernel class,
// the device's row in the peak table, and for every kernel its name, stream, recorded interval and
// the function that launched it; utilization within 0.1 pp. Shown, not checked (they depend on how
// closely Python kept to the recorded call times): host-wait idle, how late the calls ran, the
// clock error bound seen by the merger, and the findings (their rules read the idle gaps).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { mergeTrace } from "../../src/merge/index.ts";
import { readTrace } from "../../src/trace/read.ts";
import type { Trace } from "../../src/trace/model.ts";

/** The replay names launches outside any torch op this way (replay.py NO_OP). */
const NO_OP = "(no torch op)";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface Row {
  what: string;
  kineto: string;
  replay: string;
  ok: boolean | null; // null: shown, not checked
}

const fixed = (v: unknown, d = 6) => (typeof v === "number" ? v.toFixed(d) : String(v));

/** The figures both reports must agree on. */
export function compareReports(k: Json, r: Json): Row[] {
  const rows: Row[] = [];
  const exact = (what: string, a: unknown, b: unknown) => rows.push({ what, kineto: String(a), replay: String(b), ok: a === b });
  const close = (what: string, a: number, b: number, tol: number, d = 6) => rows.push({ what, kineto: fixed(a, d), replay: fixed(b, d), ok: Math.abs(a - b) <= tol });
  const shown = (what: string, a: unknown, b: unknown) => rows.push({ what, kineto: fixed(a, 3), replay: fixed(b, 3), ok: null });
  const kg = k.gpu ?? {};
  const rg = r.gpu ?? {};
  exact("kernels", kg.kernels?.count, rg.kernels?.count);
  close("kernel time ms", kg.kernels?.total_ms, rg.kernels?.total_ms, 1e-6);
  exact("launch calls", kg.kernels?.launch_calls, rg.kernels?.launch_calls);
  exact("graph-launched kernels", kg.kernels?.graph_launched_count, rg.kernels?.graph_launched_count);
  for (const dir of ["h2d", "d2h", "d2d", "other"]) {
    exact(`copies ${dir}`, kg.memcpy?.[dir]?.count, rg.memcpy?.[dir]?.count);
    exact(`copy bytes ${dir}`, kg.memcpy?.[dir]?.bytes, rg.memcpy?.[dir]?.bytes);
  }
  exact("memsets", kg.memset?.count, rg.memset?.count);
  exact("memset bytes", kg.memset?.bytes, rg.memset?.bytes);
  exact("syncs", kg.syncs?.count, rg.syncs?.count);
  close("GPU window ms", kg.window_ms, rg.window_ms, 1e-6);
  close("GPU busy ms", kg.busy_ms, rg.busy_ms, 1e-6);
  close("utilization %", kg.utilization_pct, rg.utilization_pct, 0.1, 3);
  // kernel classes come from the names alone on these fixtures, and the device record (name,
  // compute capability, SMs) picks the same row of the peak table as Kineto's deviceProperties
  const byClass = (g: Json) => new Map<string, Json>((g.kernels?.by_class ?? []).map((c: Json) => [c.class, c]));
  const kc = byClass(kg);
  const rc = byClass(rg);
  for (const cls of new Set([...kc.keys(), ...rc.keys()])) {
    exact(`class ${cls}: ops`, kc.get(cls)?.count, rc.get(cls)?.count);
    close(`class ${cls}: ms`, kc.get(cls)?.total_ms ?? NaN, rc.get(cls)?.total_ms ?? NaN, 1e-6);
  }
  exact("GEMM peak-table device", kg.kernels?.gemm?.device, rg.kernels?.gemm?.device);
  shown("findings", (k.findings ?? []).map((f: Json) => f.rule).join(" "), (r.findings ?? []).map((f: Json) => f.rule).join(" "));
  shown("host-wait idle ms", kg.idle?.host_wait_ms, rg.idle?.host_wait_ms);
  shown("sync blocked ms", kg.syncs?.blocked_ms, rg.syncs?.blocked_ms);
  shown("clock error bound µs", k.clock?.error_bound_us, r.clock?.error_bound_us);
  return rows;
}

interface KernelRow {
  start: number;
  dur: number;
  stream: number;
  name: string;
  fn: string;
}

function kernels(t: Trace): KernelRow[] {
  mergeTrace(t);
  const ks = t.gpu.filter((o) => o.kind === "kernel");
  const t0 = Math.min(...t.gpu.map((o) => o.start));
  return ks
    .map((o) => ({ start: o.start - t0, dur: o.end - o.start, stream: o.stream, name: o.name, fn: o.launcher?.function ?? NO_OP }))
    .sort((a, b) => a.start - b.start || a.stream - b.stream || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Every kernel, paired in recorded order: same name, stream, interval, and launching function. */
export function compareKernels(kineto: Trace, live: Trace): { checked: number; mismatches: string[] } {
  const a = kernels(kineto);
  const b = kernels(live);
  const mismatches: string[] = [];
  if (a.length !== b.length) mismatches.push(`kernel count ${a.length} vs ${b.length}`);
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    const diff: string[] = [];
    if (x.name !== y.name) diff.push(`name ${JSON.stringify(x.name.slice(0, 60))} vs ${JSON.stringify(y.name.slice(0, 60))}`);
    if (x.stream !== y.stream) diff.push(`stream ${x.stream} vs ${y.stream}`);
    if (x.start !== y.start || x.dur !== y.dur) diff.push(`interval +${x.start}/${x.dur} ns vs +${y.start}/${y.dur} ns`);
    if (x.fn !== y.fn) diff.push(`launched by ${x.fn} vs ${y.fn}`);
    if (diff.length) mismatches.push(`kernel ${i}: ${diff.join(", ")}`);
  }
  return { checked: Math.min(a.length, b.length), mismatches };
}

if (import.meta.main) {
  const [fixture, runDir, analyzeJson] = process.argv.slice(2);
  if (!fixture || !runDir || !analyzeJson) {
    console.error("usage: bun test/gpu-sim/compare.ts FIXTURE RUN_DIR ANALYZE_JSON");
    process.exit(2);
  }
  const k = JSON.parse(readFileSync(analyzeJson, "utf8")) as Json;
  const r = JSON.parse(readFileSync(join(runDir, "report.json"), "utf8")) as Json;
  const rows = compareReports(k, r);
  const per = compareKernels(await readTrace(fixture), await readTrace(join(runDir, "trace.json")));
  rows.push({ what: "kernels: name, stream, interval, launching function", kineto: String(per.checked), replay: `${per.checked - per.mismatches.length} match`, ok: per.mismatches.length === 0 });
  const name = fixture.split("/").pop()!.replace(/\.kineto\.json(\.gz)?$/, "");
  console.log(`\n### ${name}\n\n| | inferscope analyze (Kineto) | inferscope run (replay) | |\n|---|---:|---:|---|`);
  for (const row of rows) console.log(`| ${row.what} | ${row.kineto} | ${row.replay} | ${row.ok === null ? "shown" : row.ok ? "ok" : "MISMATCH"} |`);
  for (const m of per.mismatches.slice(0, 10)) console.log(`- ${m}`);
  if (per.mismatches.length > 10) console.log(`- … and ${per.mismatches.length - 10} more`);
  process.exit(rows.some((row) => row.ok === false) ? 1 : 0);
}
