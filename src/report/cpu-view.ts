// The CPU side of the report view: the window the diagnosis covers and the start-up before it,
// threads (running / waiting / kernel CPU), hot functions by running time, waits, processes
// and marks. A table shows a GPU column only when the report has GPU data.
import type { Report } from "../analyze/report-types.ts";
import { dur, int, location, ms, pct } from "./format.ts";
import { type Cell, functionCell, type KV, type Table } from "./view-model.ts";

const t = (text: string, extra: Partial<Cell> = {}): Cell => ({ text, ...extra });
const n = (text: string, v: number | null | undefined): Cell =>
  typeof v === "number" && Number.isFinite(v) ? { text, v } : { text, v: Number.NEGATIVE_INFINITY };
const col = (label: string, numeric = true) => ({ label, numeric });
const kv = (key: string, value: string): KV => ({ key, value: [{ t: value }] });

function fnCell(name: string | undefined, file?: string, line?: number): Cell {
  return name ? functionCell({ function: name, file, line }) : t("");
}

/** An op's input shapes under its name (--op-shapes): the most self time first. */
function shapesText(shapes: { input_dims: unknown; calls: number }[], count: number): string {
  const more = count > shapes.length ? `, ${count - shapes.length} more` : "";
  return `input dims ${shapes.map((s) => `${JSON.stringify(s.input_dims)} ×${s.calls}`).join(", ")}${more}`;
}

const multiProcess = (r: Report) => (r.processes?.length ?? 0) > 1;

function processName(r: Report, pid: number | undefined): string {
  if (pid === undefined) return "";
  return r.processes?.find((p) => p.pid === pid)?.label ?? `pid ${pid}`;
}

/** "Steady state: 12.3 s (…how…), 3.1 s → 15.4 s of a 20 s run" and the start-up line. */
export function windowSummary(r: Report): KV[] {
  const out: KV[] = [];
  const w = r.window;
  if (w) {
    const label = w.mode === "auto" ? "Steady state" : "Window";
    out.push(kv(label, `${dur(w.duration_ms)}, ${dur(w.start_ms)} → ${dur(w.end_ms)} of a ${dur(w.run_ms)} run: ${w.how.replace(/`/g, "")}; the diagnosis, hot functions and waits cover it${w.mode === "all" ? "" : " (--window all for the whole run)"}`));
    if (w.imports_ms) {
      const mods = (w.imports ?? []).slice(0, 3).map((m) => `${m.module} ${dur(m.ms)}`).join(", ");
      out.push(kv("Imports in it", `${dur(w.imports_ms)}${mods ? ` (${mods})` : ""}: one-time import work, not counted among the hot functions`));
    }
  }
  const s = r.startup;
  if (s) {
    const imp = s.top_importers.slice(0, 3).map((m) => `${m.module} ${dur(m.ms)}`).join(", ");
    const l = s.launcher;
    const via = l ? ` (through the launcher script ${l.command}: ${dur(l.start_ms)} to start Python through it${l.direct_start_ms === null ? "" : `, ${dur(l.direct_start_ms)} directly`})` : "";
    out.push(kv("Start-up", `${dur(s.total_ms)} (${pct(s.pct_of_run)} of the run): ${s.interpreter_ms !== null ? `interpreter ${dur(s.interpreter_ms)}${via}, ` : ""}imports ${dur(s.imports_ms)}${imp ? ` (${imp})` : ""}, model construction and other set-up ${dur(s.other_ms)}`));
  }
  return out;
}

/** The start-up section's line: whether the diagnosis covers start-up (--window all) or not. */
export function startupNote(r: Report): string {
  const covered = r.window?.mode === "all" ? "--window all: the diagnosis above covers it from the tracer's start" : "not in the diagnosis above";
  return `Before the steady state: interpreter start, imports and model construction (${covered}).`;
}

/** The start-up section: phases and the top importers. */
export function startupTable(r: Report): Table | null {
  const s = r.startup;
  if (!s) return null;
  return {
    id: "startup",
    columns: [col("phase / import", false), col("ms"), col("% of start-up")],
    rows: [
      ...(s.interpreter_ms !== null ? [[t("interpreter start"), n(ms(s.interpreter_ms), s.interpreter_ms), n(pct((100 * s.interpreter_ms) / s.total_ms), s.interpreter_ms)]] : []),
      [t("imports"), n(ms(s.imports_ms), s.imports_ms), n(pct((100 * s.imports_ms) / s.total_ms), s.imports_ms)],
      ...s.top_importers.map((m) => [t(`import ${m.module}`, { code: true }), n(ms(m.ms), m.ms), n(pct((100 * m.ms) / s.total_ms), m.ms)]),
      [t("model construction and other set-up"), n(ms(s.other_ms), s.other_ms), n(pct((100 * s.other_ms) / s.total_ms), s.other_ms)],
    ],
    empty: "",
  };
}

export function threadsTable(r: Report): Table {
  const gpu = !!r.gpu;
  const procs = multiProcess(r);
  const waits = r.cpu.waits !== null && r.cpu.waits !== undefined;
  const kernel = r.cpu.threads.some((th) => th.cpu_ms !== null && th.cpu_ms !== undefined);
  const system = r.cpu.threads.some((th) => th.system_ms !== null && th.system_ms !== undefined);
  const columns = [
    col("thread", false),
    ...(procs ? [col("process", false)] : []),
    col("tid"),
    col("busy ms"),
    ...(waits ? [col("running ms"), col("waiting ms")] : []),
    ...(kernel ? [col("CPU ms (kernel)")] : []),
    ...(system ? [col("of it system ms")] : []),
    col("Python ms"),
    ...(gpu ? [col("blocked on GPU ms")] : []),
    col("spans"),
  ];
  return {
    id: "threads",
    columns,
    rows: r.cpu.threads.map((th) => [
      t(th.name || `thread ${th.tid}`, { code: true }),
      ...(procs ? [t(processName(r, th.pid))] : []),
      n(String(th.tid), th.tid),
      n(ms(th.busy_ms), th.busy_ms),
      ...(waits ? [n(ms(th.running_ms), th.running_ms), n(ms(th.waiting_ms), th.waiting_ms)] : []),
      ...(kernel ? [n(ms(th.cpu_ms), th.cpu_ms)] : []),
      ...(system ? [n(ms(th.system_ms), th.system_ms)] : []),
      n(ms(th.python_ms), th.python_ms),
      ...(gpu ? [n(ms(th.blocked_ms), th.blocked_ms)] : []),
      n(int(th.spans), th.spans),
    ]),
    empty: "No CPU threads were recorded.",
  };
}

export function hotFunctionsTable(r: Report): Table {
  const hot = r.cpu.top_functions;
  const waits = r.cpu.waits !== null && r.cpu.waits !== undefined;
  return {
    id: "hot-functions",
    columns: [col("function", false), col("kind", false), col("calls"), col(waits ? "running self ms" : "self ms"), col("% of CPU busy"), ...(waits ? [col("waiting ms")] : []), col("total ms")],
    rows: (hot ?? []).map((f) => [
      f.shapes ? { ...fnCell(f.function), sub: shapesText(f.shapes, f.shape_count ?? f.shapes.length) } : fnCell(f.function, f.file, f.line),
      t(f.kind),
      n(int(f.calls), f.calls),
      n(ms(f.self_ms), f.self_ms),
      n(pct(f.pct_of_busy), f.pct_of_busy),
      ...(waits ? [n(ms(f.wait_ms ?? 0), f.wait_ms ?? 0)] : []),
      n(ms(f.total_ms), f.total_ms),
    ]),
    empty: hot
      ? "No function took any CPU time."
      : "Not measured: the trace has no Python calls or torch ops (`inferscope run` records Python calls unless `--python-calls none`; torch.profiler records torch ops, and Python functions with `with_stack=True`).",
  };
}

export function hotNote(r: Report): string {
  const waits = r.cpu.waits !== null && r.cpu.waits !== undefined;
  const summed = typeof (r.collection?.pythonTracer as { minDurationUs?: number } | undefined)?.minDurationUs === "number";
  return (
    (waits
      ? "Running self time: while the function was the innermost traced function on its thread and not waiting (its own bytecode, untraced and C code it ran, CUDA calls). Waiting: time in blocking calls it made (sleep, locks, select/epoll, reads), listed in Waits. "
      : "Self time: while the function was the innermost traced function on its thread (untraced code, C code, waits and CUDA calls it made count as its own). ") +
    "Total: while it was on the stack, a recursive function counted once. % of CPU busy: self time over the running time of all threads." +
    (summed ? " Calls shorter than --min-duration-us are counted here but not drawn on the timeline." : "")
  );
}

export function waitsTable(r: Report): Table | null {
  const w = r.cpu.waits;
  if (w === null || w === undefined) return null;
  const procs = multiProcess(r);
  return {
    id: "waits",
    columns: [col("thread", false), ...(procs ? [col("process", false)] : []), col("waiting for", false), col("in", false), col("called from", false), col("count"), col("ms"), col("% of window")],
    rows: w.map((e) => [
      t(e.thread, { code: true }),
      ...(procs ? [t(processName(r, e.pid))] : []),
      t(e.on),
      { ...fnCell(e.function, e.file, e.line), sub: [e.call, location(e.file, e.line)].filter(Boolean).join(" · ") } as Cell,
      fnCell(e.caller, e.caller_file, e.caller_line),
      n(int(e.count), e.count),
      n(ms(e.ms), e.ms),
      n(pct(e.pct_of_window), e.pct_of_window),
    ]),
    empty: "No thread waited in a blocking call (sleep, locks, select/epoll, reads) for longer than 20 µs.",
  };
}

export function processesTable(r: Report): Table | null {
  const ps = r.processes;
  if (!ps || ps.length < 2) return null;
  // Which process did the GPU work: its busy time and kernels, when the run has GPU data.
  const gpu = ps.some((p) => p.gpu_busy_ms !== null && p.gpu_busy_ms !== undefined);
  return {
    id: "processes",
    columns: [
      col("process", false),
      col("pid"),
      col("role", false),
      col("running ms"),
      col("waiting ms"),
      col("CPU ms (kernel)"),
      ...(gpu ? [col("GPU busy ms"), col("kernels")] : []),
      col("top function", false),
    ],
    rows: ps.map((p) => [
      t(p.label),
      n(String(p.pid), p.pid),
      t(p.traced ? p.role : `${p.role} (not traced)`),
      n(ms(p.running_ms), p.running_ms),
      n(ms(p.waiting_ms), p.waiting_ms),
      n(ms(p.cpu_ms), p.cpu_ms),
      ...(gpu ? [n(ms(p.gpu_busy_ms ?? null), p.gpu_busy_ms ?? null), n(p.kernels === null || p.kernels === undefined ? "" : p.kernels.toLocaleString("en-US"), p.kernels ?? null)] : []),
      p.top_function ? t(p.top_function, { code: true }) : t(""),
    ]),
    empty: "",
  };
}

export function marksTable(r: Report): Table | null {
  const m = r.marks;
  if (!m || m.length === 0) return null;
  return {
    id: "marks",
    columns: [col("mark", false), col("at ms"), col("thread", false), col("attributes", false)],
    rows: m.map((x) => [
      t(x.name, { code: true }),
      n(ms(x.at_ms), x.at_ms),
      t(multiProcess(r) ? `${x.thread} (${processName(r, x.pid)})` : x.thread, { code: true }),
      t(x.args ? Object.entries(x.args).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ") : ""),
    ]),
    empty: "",
  };
}

/** The one line a CPU-only report says about the GPU. */
export function noGpuLine(r: Report): string {
  const gc = r.collection?.gpuCollection;
  const why: Record<string, string> = {
    "no-driver": "no NVIDIA driver on this machine",
    "no-gpu": "no GPU visible",
    "no-cupti": "CUPTI not found",
    "cupti-busy": "another CUPTI client held the GPU",
    "cupti-error": "CUPTI failed",
    disabled: "GPU collection was off",
    "not-used": "the script did not use CUDA",
  };
  const reason = typeof gc === "string" ? (why[gc] ?? `GPU collection: ${gc}`) : "";
  return `no GPU data${reason ? ` (${reason})` : ""}: this report covers the CPU side only`;
}
