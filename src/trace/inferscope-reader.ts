// InferScope trace (`inferscope.trace/v1`, docs/trace-format.md) → the event model.
// The events use Kineto's categories and argument names, so they go through the same
// EventConverter as Kineto traces; what differs is the time origin (ts is relative to
// baseTimeNanoseconds, and the model wants absolute CLOCK_MONOTONIC ns) and the `inferscope`
// metadata block.
import { deviceFromRecord } from "./device-record.ts";
import type { CallSummary, CodeShape, ProcessInfo, PythonLauncher, Trace } from "./model.ts";
import { TRACE_SCHEMA } from "./event-args.ts";
import { num, str } from "./values.ts";
import { type EventConverter, type TraceHeader } from "./kineto.ts";

/** True when the top-level object is an InferScope trace (it has the `inferscope` block). */
export function isInferScopeHeader(header: TraceHeader): boolean {
  const b = header.inferscope;
  return b !== null && typeof b === "object" && !Array.isArray(b);
}

/** Add `offset` ns to every timestamp of the trace. */
export function shiftTrace(trace: Trace, offset: number): void {
  if (offset === 0) return;
  for (const list of [trace.spans, trace.api, trace.gpu, trace.syncs]) {
    for (const e of list) {
      e.start += offset;
      e.end += offset;
    }
  }
  for (const i of trace.instants) i.ts += offset;
  for (const c of trace.counters) c.ts += offset;
}

/** Finish an InferScope trace: absolute times, metadata from the `inferscope` block. */
export function inferscopeTrace(conv: EventConverter, header: TraceHeader): Trace {
  conv.finishWarnings();
  const trace = conv.trace;
  trace.format = "inferscope";
  const block = header.inferscope as Record<string, unknown>;
  const meta = trace.meta;
  const base = num(header.baseTimeNanoseconds) ?? 0;
  if (num(header.baseTimeNanoseconds) === undefined) trace.warnings.push("baseTimeNanoseconds missing: times are relative to the file's origin");
  shiftTrace(trace, base);
  meta.baseTimeNs = base;
  const schema = str(block.schema);
  if (schema !== undefined && schema !== TRACE_SCHEMA) trace.warnings.push(`unknown InferScope schema "${schema}" (expected ${TRACE_SCHEMA}); read as v1`);
  const version = str(block.version);
  meta.producer = version !== undefined ? `inferscope ${version}` : "inferscope";
  meta.clock = str(block.clock) ?? "CLOCK_MONOTONIC";
  if (Array.isArray(block.command) && block.command.every((x) => typeof x === "string")) meta.command = block.command as string[];
  const exit = num(block.exitCode);
  if (exit !== undefined) meta.exitCode = exit;
  const py = str(block.python);
  if (py !== undefined) meta.pythonVersion = py;
  const torch = str(block.torch);
  if (torch !== undefined) meta.torchVersion = torch;
  const cuda = str(block.cuda);
  if (cuda !== undefined) meta.cudaVersion = cuda;
  if (Array.isArray(block.devices)) {
    for (const d of block.devices) {
      if (d === null || typeof d !== "object") continue;
      meta.devices.push(deviceFromRecord(d as Record<string, unknown>, meta.devices.length));
    }
  }
  if (block.dropped !== null && typeof block.dropped === "object") {
    for (const [k, v] of Object.entries(block.dropped as Record<string, unknown>)) {
      const n = num(v);
      if (n !== undefined) meta.dropped[k] = n;
    }
  }
  const bound = num(block.clockErrorBoundNs);
  if (bound !== undefined) meta.clockErrorBoundNs = bound;
  if (block.buffer !== undefined) meta.buffer = block.buffer;
  const gc = str(block.gpuCollection);
  if (gc !== undefined) meta.gpuCollection = gc;
  const cuptiLibrary = str(block.cuptiLibrary);
  if (cuptiLibrary !== undefined) meta.cuptiLibrary = cuptiLibrary;
  const cuptiVersion = num(block.cuptiVersion);
  if (cuptiVersion !== undefined) meta.cuptiVersion = cuptiVersion;
  if (num(block.sampleIntervalMs) !== undefined) meta.sampleIntervalMs = block.sampleIntervalMs;
  if (block.capture !== null && typeof block.capture === "object") meta.capture = block.capture;
  if (Array.isArray(block.captureWindows)) meta.captureWindows = block.captureWindows;
  if (Array.isArray(block.warnings)) {
    for (const w of block.warnings) if (typeof w === "string") trace.warnings.push(w);
  }
  for (const key of ["torchThreads", "cpus", "processStartNs", "tracerStartNs"]) if (num(block[key]) !== undefined) meta[key] = block[key];
  if (Array.isArray(block.processes)) meta.processes = block.processes.filter((p): p is ProcessInfo => p !== null && typeof p === "object" && typeof (p as ProcessInfo).pid === "number");
  if (block.pythonTracer !== null && typeof block.pythonTracer === "object") meta.pythonTracer = block.pythonTracer;
  // the sampler's summary: its idle threads read 0 CPU, as in the run's own report
  if (block.sampler !== null && typeof block.sampler === "object" && !Array.isArray(block.sampler)) meta.sampler = block.sampler;
  const launcher = pythonLauncher(block.pythonLauncher);
  if (launcher) meta.pythonLauncher = launcher;
  trace.summaries = readSummaries(block.summaries);
  const shapes = readCodeShapes(block.codeShapes);
  if (shapes.length) meta.codeShapes = shapes;
  meta.eventCount = conv.eventCount;
  return trace;
}

/** The `pythonLauncher` entry (src/collect/python-launcher.ts), or undefined when it is not one. */
function pythonLauncher(v: unknown): PythonLauncher | undefined {
  if (v === null || typeof v !== "object") return undefined;
  const l = v as Record<string, unknown>;
  const startMs = num(l.start_ms);
  const direct = l.direct_start_ms === null ? null : num(l.direct_start_ms);
  if (typeof l.command !== "string" || typeof l.executable !== "string" || startMs === undefined || startMs < 0 || direct === undefined || (direct !== null && direct < 0)) return undefined;
  return { command: l.command, executable: l.executable, start_ms: startMs, direct_start_ms: direct };
}

/** The `codeShapes` block (see codeShapesBlock in writer.ts); malformed rows are skipped. */
function readCodeShapes(b: unknown): CodeShape[] {
  if (!Array.isArray(b)) return [];
  const out: CodeShape[] = [];
  for (const r of b) {
    if (!Array.isArray(r) || r.length < 5) continue;
    const [name, file, line, instructions, loop] = r as unknown[];
    if (typeof name !== "string" || typeof file !== "string" || num(line) === undefined || num(instructions) === undefined || (instructions as number) < 0 || (loop !== 0 && loop !== 1)) continue;
    out.push({ name, file, line: line as number, instructions: instructions as number, loop: loop === 1 });
  }
  return out;
}

/** The `summaries` block (see summariesBlock in writer.ts); malformed rows are skipped. */
function readSummaries(b: unknown): CallSummary[] {
  if (b === null || typeof b !== "object") return [];
  const { functions, rows } = b as { functions?: unknown; rows?: unknown };
  if (!Array.isArray(functions) || !Array.isArray(rows)) return [];
  const out: CallSummary[] = [];
  for (const r of rows) {
    if (!Array.isArray(r) || r.length < 7 || !r.every((x) => typeof x === "number" && Number.isFinite(x))) continue;
    const f = functions[r[2] as number];
    if (!Array.isArray(f) || (f[0] !== "python" && f[0] !== "cpu_op") || typeof f[1] !== "string") continue;
    const s: CallSummary = { pid: r[0], tid: r[1], kind: f[0], name: f[1], start: r[3], calls: r[4], selfNs: r[5], totalNs: r[6] };
    if (typeof f[2] === "string") s.file = f[2];
    if (typeof f[3] === "number") s.line = f[3];
    out.push(s);
  }
  return out;
}
