// The analysis window: the steady state of the run, apart from start-up (docs/analysis.md,
// "Steady state and start-up"). Interpreter start, imports and model construction are one
// phase of their own; the diagnosis, hot functions, waits and findings cover the window.
//
// --window auto (default) picks, in the script's own process:
//   1. the instances of the scope with the most instances (first begin → last end);
//   2. else the GPU's first launch → last op;
//   3. else the repeated call that holds the most time: the Python function called at least
//      WINDOW_MIN_CALLS times outside imports with the largest inclusive time (the request
//      handler, the step, the event loop's _run_once), first call → last return; on the main
//      thread if one there holds enough time, else on any thread; one whose last return leaves
//      most of the threads' work from its first call on still to run is passed over;
//   4. else everything after the last import that ends in the first half of the run.
// A torch.profiler (Kineto) trace covers what it was recorded for: auto means all there.
// Other values: all, mark:NAME (from the first such mark to the end), scope:NAME[,skip=N].
import { type CallSummary, type CpuSpan, type PythonLauncher, type Trace, SUMMARY_BUCKET_NS } from "../trace/model.ts";
import { UnionBuilder } from "../core/intervals.ts";
import { IMPORT_SPAN_FILE, IMPORTLIB_FILE as IMPORT_FILE, isImport } from "./imports.ts";
import { isScopeSpan, scopeName } from "../merge/stacks.ts";

/** API calls that put work on the GPU (the GPU span begins with the first). */
const LAUNCHES = new Set(["launch", "graph_launch", "memcpy", "memset"]);

/** A function must be called at least this often to stand for the steady state. */
export const WINDOW_MIN_CALLS = 3;
/** …and hold at least this share of the run after start-up (else it is not the main loop). */
export const WINDOW_MIN_SHARE = 0.2;
/**
 * …and the threads must run at least this share of their work from its first call on inside it:
 * `Thread.start` called 4 times holds half the run, but the threads it starts run on long after
 * its last call (it made the first 158 ms of a 340 ms run the steady state, and the main
 * thread's wait in Thread.start its bottleneck).
 */
export const WINDOW_MIN_WORK_SHARE = 0.5;
/** Top importers listed in the start-up phase. */
export const STARTUP_TOP_IMPORTERS = 5;

export interface AnalysisWindow {
  mode: "auto" | "all" | "mark" | "scope";
  /** How the window was chosen, for the report ("instances of scope `request` (40)"). */
  how: string;
  start: number;
  end: number;
  /** The whole recording, for the start-up phase and the report. */
  runStart: number;
  runEnd: number;
}

export interface StartupPhase {
  /** From the process's start (or the first event) to the steady state's start (the window's, unless --window all). */
  totalNs: number;
  /** When start-up ends (the steady state begins), on the trace's clock. */
  endNs: number;
  /** Interpreter start-up before the tracer ran; null when the process start is not known. */
  interpreterNs: number | null;
  /** Time in imports (outermost import calls on the main thread) before the window. */
  importsNs: number;
  /** The rest: model construction, loading weights, other set-up. */
  otherNs: number;
  /** Share of the run (process start → end) that start-up took. */
  share: number;
  topImporters: { module: string; ns: number }[];
  /** The run's Python command was a launcher script in front of the interpreter. */
  launcher: PythonLauncher | null;
}


/** The pid of the script's own process. */
export function mainPid(trace: Trace): number | null {
  const ps = trace.meta.processes as { pid: number; role: string }[] | undefined;
  const main = ps?.find((p) => p.role === "main");
  if (main) return main.pid;
  return trace.spans[0]?.pid ?? null;
}

/** The CPU spans' extent, computed once per list (the no-window rules each asked for it: a pass over every span, ~8 ms at 450,000 spans). */
const spanExtents = new WeakMap<readonly CpuSpan[], { n: number; start: number; end: number }>();

/** First start and last end of the trace's CPU spans, or null when it has none. */
export function spanExtent(spans: readonly CpuSpan[]): { start: number; end: number } | null {
  let hit = spanExtents.get(spans);
  if (!hit || hit.n !== spans.length) {
    let start = Infinity;
    let end = -Infinity;
    for (const x of spans) {
      if (x.start < start) start = x.start;
      if (x.end > end) end = x.end;
    }
    hit = { n: spans.length, start, end };
    spanExtents.set(spans, hit);
  }
  return Number.isFinite(hit.start) ? { start: hit.start, end: hit.end } : null;
}

/** The run's extent (from the process's start when known) and its first recorded event. */
function extent(trace: Trace): { start: number; end: number; first: number } {
  let start = Infinity;
  let end = -Infinity;
  const see = (a: number, b: number) => {
    if (a < start) start = a;
    if (b > end) end = b;
  };
  for (const s of trace.spans) see(s.start, s.end);
  for (const g of trace.gpu) see(g.start, g.end);
  for (const a of trace.api) see(a.start, a.end);
  for (const i of trace.instants) see(i.ts, i.ts);
  const first = start;
  const ps = trace.meta.processStartNs;
  if (typeof ps === "number" && ps < start && Number.isFinite(end)) start = ps;
  return Number.isFinite(start) ? { start, end, first } : { start: 0, end: 0, first: 0 };
}

/** Parses --window; throws a one-line message for a malformed value. */
export function parseWindowSpec(spec: string): { mode: AnalysisWindow["mode"]; name?: string; skip?: number } {
  if (spec === "auto" || spec === "all") return { mode: spec };
  if (spec.startsWith("mark:") && spec.length > 5) return { mode: "mark", name: spec.slice(5) };
  const m = /^scope:([^,]+)(?:,skip=(\d+))?$/.exec(spec);
  if (m) return { mode: "scope", name: m[1]!, skip: m[2] ? Number(m[2]) : 0 };
  throw new Error(`--window ${spec}: expected auto, all, mark:NAME or scope:NAME[,skip=N]`);
}

/** The window for `spec`; a mark or scope that is not in the trace is an error (one line). */
export function chooseWindow(trace: Trace, spec = "auto"): AnalysisWindow {
  const { start: runStart, end: runEnd, first } = extent(trace);
  const base = { runStart, runEnd };
  const w = parseWindowSpec(spec);
  const pid = mainPid(trace);
  if (w.mode === "all" || (w.mode === "auto" && trace.format === "kineto")) {
    // from the tracer's start: the interpreter's start before it is not traced, and counting it as
    // neither running nor waiting diluted every share (4 threads spinning in Python "ran 1.79
    // cores' worth of the run", half of it a launcher script's start); from the first capture
    // window when it opened later (--delay, --capture manual): nothing before it was recorded
    const tracer = trace.meta.tracerStartNs;
    if (w.mode === "all" && laterCapture(trace) && first > runStart && first < runEnd) {
      return { mode: "all", how: "the whole recording, from the first capture window (--window all; before it nothing was recorded)", start: first, end: runEnd, ...base };
    }
    if (w.mode === "all" && typeof tracer === "number" && tracer > runStart && tracer < runEnd) {
      return { mode: "all", how: "the whole run from the tracer's start (--window all; the interpreter's start before it is not traced)", start: tracer, end: runEnd, ...base };
    }
    return { mode: "all", how: w.mode === "all" ? "the whole run (--window all)" : "the whole trace (a torch.profiler trace covers what it was recorded for)", start: runStart, end: runEnd, ...base };
  }
  if (w.mode === "mark") {
    const m = trace.instants.find((i) => i.name === w.name);
    if (!m) throw new Error(`--window mark:${w.name}: no mark_event named "${w.name}" in the trace (marks: ${[...new Set(trace.instants.map((i) => i.name))].slice(0, 5).join(", ") || "none"})`);
    return { mode: "mark", how: `from mark \`${w.name}\` to the end (--window mark:${w.name})`, start: m.ts, end: runEnd, ...base };
  }
  if (w.mode === "scope") {
    // the scopes the report lists: scope()s and record_function annotations, `step#3` an instance of `step`
    const inst = trace.spans.filter((s) => isScopeSpan(s) && (scopeName(s.name) === w.name || s.name === w.name)).sort((a, b) => a.start - b.start);
    const kept = inst.slice(w.skip ?? 0);
    if (!kept.length) {
      throw new Error(
        inst.length
          ? `--window scope:${w.name},skip=${w.skip}: only ${inst.length} instances of scope "${w.name}"; skip fewer`
          : `--window scope:${w.name}: no scope named "${w.name}" in the trace (scopes: ${[...new Set(trace.spans.filter(isScopeSpan).map((s) => scopeName(s.name)))].slice(0, 5).join(", ") || "none"})`,
      );
    }
    const skipped = w.skip ? `, the first ${w.skip} skipped as warm-up` : "";
    return { mode: "scope", how: `instances of scope \`${w.name}\` (${kept.length}${skipped})`, start: kept[0]!.start, end: Math.max(...kept.map((s) => s.end)), ...base };
  }
  // auto
  const auto = autoWindow(trace, pid, runStart, runEnd);
  return { mode: "auto", ...auto, ...base };
}

function autoWindow(trace: Trace, pid: number | null, runStart: number, runEnd: number): { how: string; start: number; end: number } {
  const mine = (s: { pid: number }) => pid === null || s.pid === pid;
  // 1. the scope with the most instances
  const scopes = new Map<string, { n: number; start: number; end: number }>();
  for (const s of trace.spans) {
    if (s.cat !== "scope" || !mine(s)) continue;
    const e = scopes.get(s.name);
    if (!e) scopes.set(s.name, { n: 1, start: s.start, end: s.end });
    else {
      e.n++;
      if (s.start < e.start) e.start = s.start;
      if (s.end > e.end) e.end = s.end;
    }
  }
  let best: [string, { n: number; start: number; end: number }] | null = null;
  for (const e of scopes) if (!best || e[1].n > best[1].n || (e[1].n === best[1].n && e[1].end - e[1].start > best[1].end - best[1].start)) best = e;
  if (best) return { how: `instances of scope \`${best[0]}\` (${best[1].n}), the most instanced scope`, start: best[1].start, end: best[1].end };

  // 2. the GPU's span: kernels and copies are what a GPU run repeats
  if (trace.gpu.length) {
    let s = Infinity;
    let e = -Infinity;
    for (const g of trace.gpu) {
      if (g.start < s) s = g.start;
      if (g.end > e) e = g.end;
    }
    // from the call that launched the first op: a launch is the GPU work's, and the first ones
    // run before any op starts (a capture window's launches would otherwise fall outside)
    for (const c of trace.api) if (LAUNCHES.has(c.kind) && c.start < s) s = c.start;
    return { how: "from the first GPU launch to the last GPU op", start: s, end: e };
  }
  // 3. the repeated call holding the most time, outside imports
  const imports = importIntervals(trace, pid);
  const afterStartup = imports.lastEnd > runStart ? imports.lastEnd : runStart;
  const calls = new Map<string, { n: number; start: number; end: number; total: number; open: number; name: string; lastEnd: number; main: boolean }>();
  const spans = trace.spans.filter((s) => s.cat === "python" && mine(s) && s.name !== "<module>" && !IMPORT_FILE.test(s.file ?? ""));
  spans.sort((a, b) => a.start - b.start || b.end - a.end);
  for (const s of spans) {
    if (imports.contains(s.start)) continue;
    const key = `${s.name}\u0000${s.file ?? ""}\u0000${s.line ?? ""}\u0000${s.tid}`;
    let e = calls.get(key);
    if (!e) calls.set(key, (e = { n: 0, start: s.start, end: s.end, total: 0, open: 0, name: s.name, lastEnd: -Infinity, main: s.tid === s.pid || trace.threadNames.get(s.tid) === "MainThread" }));
    e.n++;
    if (s.start >= e.lastEnd) {
      e.total += s.end - s.start; // recursion / nesting counted once
      e.lastEnd = s.end;
    } else if (s.end > e.lastEnd) {
      e.total += s.end - e.lastEnd;
      e.lastEnd = s.end;
    }
    if (s.end > e.end) e.end = s.end;
  }
  // The main thread's loop first: a helper thread's (a multiprocessing queue's feeder waiting in
  // Condition.wait) spans the same time but is not what the script repeats.
  const enough = (e: { n: number; total: number }) => e.n >= WINDOW_MIN_CALLS && e.total >= WINDOW_MIN_SHARE * (runEnd - afterStartup);
  const ranked = [...calls.values()].filter(enough).sort((a, b) => Number(b.main) - Number(a.main) || b.total - a.total);
  for (const pick of ranked) {
    const work = workSplit(trace.spans, pick.start, pick.end);
    if (work.inside < WINDOW_MIN_WORK_SHARE * (work.inside + work.after)) continue;
    return { how: `from the first call of \`${pick.name}\` to the last (${pick.n} calls): the repeated call holding the most time`, start: pick.start, end: pick.end };
  }
  // 4. after start-up: from the end of the last import in the first half of what was traced
  let traced = runEnd;
  for (const s of trace.spans) if (mine(s) && s.start < traced) traced = s.start;
  if (traced >= runEnd) traced = runStart;
  const mid = traced + (runEnd - traced) / 2;
  const start = imports.lastEndBefore(mid) ?? traced;
  return { how: start > traced ? "the run after start-up (interpreter start and imports)" : "the traced run after interpreter start", start, end: runEnd };
}

/**
 * The threads' running time (Python calls and torch ops, less their traced waits) in [a, b] and
 * after b: per thread, the union of its spans less its waits (leaves inside them), in one sweep
 * over spans in start order per thread (as the readers leave them; sorted here otherwise).
 */
function workSplit(spans: readonly CpuSpan[], a: number, b: number): { inside: number; after: number } {
  const until = new Map<number, number>();
  const lastStart = new Map<number, number>();
  let inside = 0;
  let after = 0;
  const add = (s: number, e: number, sign: number) => {
    if (e > a && s < b) inside += sign * (Math.min(e, b) - Math.max(s, a));
    if (e > b) after += sign * (e - Math.max(s, b));
  };
  for (const x of spans) {
    if (x.cat !== "wait" && !TRACED_WORK.has(x.cat)) continue;
    if (x.start < (lastStart.get(x.tid) ?? -Infinity)) return workSplit([...spans].sort((p, q) => p.start - q.start), a, b);
    lastStart.set(x.tid, x.start);
    if (x.end <= a) continue;
    if (x.cat === "wait") {
      add(x.start, x.end, -1);
      continue;
    }
    const u = until.get(x.tid) ?? -Infinity;
    if (x.end <= u) continue;
    add(Math.max(x.start, u), x.end, 1);
    until.set(x.tid, x.end);
  }
  return { inside, after };
}
const TRACED_WORK = new Set(["python", "cpu_op"]);

/** Outermost import calls of the main process's threads. */
function importIntervals(trace: Trace, pid: number | null) {
  const spans = trace.spans.filter((s) => isImport(s) && (pid === null || s.pid === pid)).sort((a, b) => a.start - b.start);
  const starts: number[] = [];
  const ends: number[] = [];
  for (const s of spans) {
    if (ends.length && s.start < ends[ends.length - 1]!) {
      if (s.end > ends[ends.length - 1]!) ends[ends.length - 1] = s.end;
      continue;
    }
    starts.push(s.start);
    ends.push(s.end);
  }
  return {
    starts,
    ends,
    lastEnd: ends.length ? ends[ends.length - 1]! : -Infinity,
    contains(t: number): boolean {
      let lo = 0;
      let hi = starts.length - 1;
      while (lo <= hi) {
        const m = (lo + hi) >> 1;
        if (starts[m]! <= t) lo = m + 1;
        else hi = m - 1;
      }
      return hi >= 0 && t < ends[hi]!;
    },
    lastEndBefore(t: number): number | null {
      let r: number | null = null;
      for (let i = 0; i < ends.length; i++) if (starts[i]! < t) r = ends[i]!;
      return r;
    },
  };
}

/** "/…/site-packages/torch/nn/__init__.py" → "torch.nn"; "/…/lib/python3.11/json/decoder.py" → "json.decoder". */
export function moduleName(file: string): string {
  const f = file.replace(/\\/g, "/");
  const m = /.*(?:site-packages|dist-packages)\/(.*)$/.exec(f) ?? /.*\/lib\/python\d+\.\d+\/(.*)$/.exec(f);
  let rel = m ? m[1]! : f.split("/").slice(-1).join("/");
  rel = rel.replace(/\.(py|pyc|so)$/, "").replace(/\/__init__$/, "");
  return rel.split("/").join(".");
}

/** Whether the recording began with a capture window that opened after the script's start. */
function laterCapture(trace: Trace): boolean {
  const windows = trace.meta.captureWindows as { opened_by?: string }[] | undefined;
  return !!windows && windows[0]?.opened_by !== "start";
}

/** The start-up phase before the window (on the script's main thread). */
export function startupPhase(trace: Trace, w: AnalysisWindow): StartupPhase | null {
  if (trace.format === "kineto") return null;
  // Recorded through capture windows that did not open at the script's start: what came before
  // the first window was not recorded, and is not known to be start-up (a server's first hour).
  if (laterCapture(trace)) return null;
  const pid = mainPid(trace);
  const ps = typeof trace.meta.processStartNs === "number" ? trace.meta.processStartNs : null;
  const begin = ps ?? w.runStart;
  // --window all: the window holds start-up; the phase is the same as --window auto's (the run
  // before the steady state), so that a run that is all start-up says so in every mode
  const end = w.mode === "all" ? autoWindow(trace, pid, w.runStart, w.runEnd).start : w.start;
  if (end <= begin) return null;
  const tracerStart = typeof trace.meta.tracerStartNs === "number" ? trace.meta.tracerStartNs : null;
  const interpreterNs = ps !== null && tracerStart !== null && tracerStart > ps ? Math.min(tracerStart, end) - ps : null;
  const imports = new UnionBuilder();
  // Top-level imports: <module> spans one level below the main script's <module>.
  const mods = trace.spans
    .filter((s) => s.cat === "python" && (pid === null || s.pid === pid) && s.start < end && (s.name === "<module>" || isImport(s)))
    .sort((a, b) => a.tid - b.tid || a.start - b.start || b.end - a.end);
  const byModule = new Map<string, number>();
  const stack: CpuSpan[] = [];
  let tid = -1;
  for (const s of mods) {
    if (s.tid !== tid) {
      tid = s.tid;
      stack.length = 0;
    }
    while (stack.length && stack[stack.length - 1]!.end <= s.start) stack.pop();
    if (isImport(s)) {
      const outer = !stack.some(isImport);
      if (outer) imports.add(s.start, Math.min(s.end, end));
      if (outer && s.file === IMPORT_SPAN_FILE) {
        const name = s.name.replace(/^import /, "");
        byModule.set(name, (byModule.get(name) ?? 0) + Math.min(s.end, end) - s.start);
      }
      stack.push(s);
      continue;
    }
    const moduleDepth = stack.filter((x) => x.name === "<module>").length;
    if (moduleDepth === 1 && s.file && !s.file.startsWith("<") && !stack.some((x) => x.file === IMPORT_SPAN_FILE)) {
      const name = moduleName(s.file);
      byModule.set(name, (byModule.get(name) ?? 0) + Math.min(s.end, end) - s.start);
    }
    stack.push(s);
  }
  const importsNs = imports.finish().measure;
  const totalNs = end - begin;
  const topImporters = [...byModule].sort((a, b) => b[1] - a[1]).slice(0, STARTUP_TOP_IMPORTERS).map(([module, ns]) => ({ module, ns }));
  const runNs = w.runEnd - begin;
  return {
    totalNs,
    endNs: end,
    interpreterNs,
    importsNs,
    otherNs: Math.max(0, totalNs - importsNs - (interpreterNs ?? 0)),
    share: runNs > 0 ? totalNs / runNs : 0,
    topImporters,
    launcher: trace.meta.pythonLauncher ?? null,
  };
}

/**
 * For the summary buckets a window edge cuts, per `tid:bucket start`: the share of the bucket's
 * summed calls inside [start, end]. The calls lie inside the spans that hold them as hiddenNs
 * (spread evenly over each, as clipping assumes), not evenly over the bucket: a recursive fib
 * that ran 45 ms inside one 100 ms bucket kept only the window's 25 % of it (its 39,269 calls
 * and 20.6 ms of self time, of 170,931 and 31.5 ms). Buckets without such spans: absent.
 */
function edgeBucketShares(trace: Trace, start: number, end: number): Map<string, number> {
  const edges = new Set<number>();
  for (const s of trace.summaries) {
    const b1 = s.start + SUMMARY_BUCKET_NS;
    if ((s.start < start && start < b1) || (s.start < end && end < b1)) edges.add(s.start);
  }
  const inBucket = new Map<string, number>();
  const inWindow = new Map<string, number>();
  if (edges.size === 0) return inBucket;
  for (const x of trace.spans) {
    if (!x.hiddenNs || x.end <= x.start) continue;
    const density = x.hiddenNs / (x.end - x.start);
    for (const b0 of edges) {
      const b1 = b0 + SUMMARY_BUCKET_NS;
      const o = Math.min(b1, x.end) - Math.max(b0, x.start);
      if (o <= 0) continue;
      const k = `${x.tid}:${b0}`;
      inBucket.set(k, (inBucket.get(k) ?? 0) + density * o);
      const ow = Math.min(b1, x.end, end) - Math.max(b0, x.start, start);
      if (ow > 0) inWindow.set(k, (inWindow.get(k) ?? 0) + density * ow);
    }
  }
  const out = new Map<string, number>();
  for (const [k, v] of inBucket) if (v > 0) out.set(k, Math.min(1, (inWindow.get(k) ?? 0) / v));
  return out;
}

/** A copy of the trace with every event clipped to [w.start, w.end] (events outside dropped). */
export function windowTrace(trace: Trace, w: AnalysisWindow): Trace {
  const { start, end } = w;
  const clip = <T extends { start: number; end: number }>(xs: T[]): T[] => {
    const out: T[] = [];
    for (const x of xs) {
      if (x.end < start || x.start > end) continue;
      if (x.start >= start && x.end <= end) out.push(x);
      else out.push({ ...x, start: Math.max(x.start, start), end: Math.min(x.end, end) });
    }
    return out;
  };
  const spans: CpuSpan[] = [];
  for (const x of trace.spans) {
    if (x.end < start || x.start > end) continue;
    if (x.start >= start && x.end <= end) {
      spans.push(x);
      continue;
    }
    const c = { ...x, start: Math.max(x.start, start), end: Math.min(x.end, end) };
    // A clipped span keeps the share of its hidden time that falls in the window (spread evenly).
    if (x.hiddenNs && x.end > x.start) c.hiddenNs = (x.hiddenNs * (c.end - c.start)) / (x.end - x.start);
    spans.push(c);
  }
  const summaries: CallSummary[] = [];
  const edge = edgeBucketShares(trace, start, end);
  for (const s of trace.summaries) {
    const b0 = s.start;
    const b1 = s.start + SUMMARY_BUCKET_NS;
    const overlap = Math.min(b1, end) - Math.max(b0, start);
    if (overlap <= 0) continue;
    const f = overlap >= SUMMARY_BUCKET_NS ? 1 : (edge.get(`${s.tid}:${b0}`) ?? overlap / SUMMARY_BUCKET_NS);
    if (f <= 0) continue; // its calls all lie outside the window
    summaries.push(f >= 1 ? s : { ...s, calls: s.calls * f, selfNs: s.selfNs * f, totalNs: s.totalNs * f });
  }
  return {
    ...trace,
    meta: { ...trace.meta },
    spans,
    api: clip(trace.api),
    gpu: clip(trace.gpu),
    syncs: clip(trace.syncs),
    instants: trace.instants.filter((i) => i.ts >= start && i.ts <= end),
    counters: trace.counters.filter((c) => c.ts >= start && c.ts <= end),
    summaries,
    warnings: [...trace.warnings],
  };
}
