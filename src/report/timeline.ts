// A compact, level-of-detail summary of a Trace for the HTML report's timeline. The file must stay
// small (< ~10 MB) for traces with millions of events, so:
//   - each lane gets a fair share of `maxEvents` and keeps its longest events (scopes and user
//     annotations are always kept, up to a cap);
//   - the shorter ones are folded into a per-lane density strip (busy fraction per time bin), drawn
//     where the detail is missing, so nothing disappears, it only loses its edges;
//   - GPU utilization over time and the GPU's idle gaps are drawn from the analysis's busy time
//     of each GPU (every op, kept or not), so the timeline and the report agree;
//   - counter series are averaged down to `maxCounterPoints` points.
// Times in the result are integer nanoseconds relative to `start`; lane starts are delta-encoded.

import type { AnalysisContext } from "../analyze/rules/common.ts";
import type { DeviceBusy } from "../analyze/gpu.ts";
import type { Trace } from "../trace/model.ts";
import { bytes, location, truncate } from "./format.ts";

/** What the timeline draws: the (merged) trace, and the analysis's GPU time (null: no GPU ops). */
export type TimelineInput = Pick<AnalysisContext, "trace" | "gpu">;

export interface TimelineOptions {
  /** Events kept with full detail, over all lanes (default 150 000). */
  maxEvents?: number;
  /** Upper bound on the serialized timeline, bytes; the event budget shrinks to meet it (default 8 MB). */
  maxBytes?: number;
  /** Time bins of a lane's density strip (default 4000). */
  densityBins?: number;
  /** Time bins of the utilization series (default 1000). */
  utilBins?: number;
  /** Nesting rows shown per CPU thread; deeper calls are drawn on the last row (default 12). */
  maxRows?: number;
  /** Longest idle gaps kept per device (default 5000). */
  maxGaps?: number;
  /** Points per counter series (default 2000). */
  maxCounterPoints?: number;
}

/** Event categories, indexed by `c` in a lane. */
export const CATEGORIES = ["kernel", "memcpy", "memset", "python", "scope", "cpu_op", "user_annotation", "other", "cuda_api", "sync", "module", "wait"] as const;
type Cat = (typeof CATEGORIES)[number];
const CAT: Record<Cat, number> = Object.fromEntries(CATEGORIES.map((c, i) => [c, i])) as Record<Cat, number>;
const ALWAYS_KEEP = new Set<number>([CAT.scope, CAT.user_annotation]);
const ALWAYS_KEEP_CAP = 20000;

export interface TimelineLane {
  kind: "cpu" | "gpu";
  label: string;
  sub: string;
  device?: number;
  /** Rows (nesting depth) the lane needs, 1 for GPU streams. */
  rows: number;
  /** Events in the lane, kept or not. */
  total: number;
  /** Events shorter than this (ns) were folded into the density strip; 0 = all kept, -1 = none kept. */
  cut: number;
  /** Kept events, sorted by start: start deltas, durations, name index, category, row, detail. */
  s: number[];
  d: number[];
  n: number[];
  c: number[];
  r?: number[];
  /** Index in `names` of a second line for the tooltip (launcher, bytes, location); 0 = none. */
  x?: number[];
  /** Busy fraction (0..100) of the events not kept, per density bin; null when all are kept. */
  dens: number[] | null;
}

export interface Timeline {
  version: 1;
  /** Trace-clock ns of time 0. */
  start: number;
  /** Length of the window, ns. */
  span: number;
  names: string[];
  cats: readonly string[];
  lanes: TimelineLane[];
  /** Per GPU: idle gaps between its first and last op, flat [start, duration, …], longest kept. */
  idle: { device: number; label: string; gaps: number[]; total: number }[];
  /** Per GPU: busy fraction per bin, per mille. */
  util: { bins: number; binNs: number; series: { device: number; label: string; v: number[] }[] };
  counters: { track: string; key: string; t: number[]; v: number[] }[];
  /** minDurNs: the largest per-lane cut (events at most this long may be density only). */
  lod: { events: number; kept: number; minDurNs: number; budget: number; densityBins: number };
}

/**
 * A lane's events as parallel typed arrays in drawing order (start, longer first on ties): ~30
 * bytes an event, where an object per event (with its name and tooltip) took ~200 — the largest
 * part of the memory of a multi-million-event run. `ref` points back into the trace: the array in
 * its low 2 bits (REF_*), the index above them; names and tooltips are made from it only for the
 * events the level of detail keeps (names()).
 */
interface LaneAcc {
  key: string;
  kind: "cpu" | "gpu";
  label: string;
  sub: string;
  device?: number;
  pid: number;
  tid: number;
  /** GPU lanes: the process that ran the work (InferScope runs), one lane per process, device and stream. */
  proc?: number;
  /** refs while collecting; then the columns below */
  refs: number[];
  n: number;
  start: Float64Array;
  end: Float64Array;
  cat: Uint8Array;
  row: Uint8Array;
  ref: Int32Array;
  rows: number;
}

const REF_SPAN = 0;
const REF_API = 1;
const REF_SYNC = 2;
const REF_GPU = 3;

type Source = { start: number; end: number };

function sourceOf(trace: Trace, ref: number): Source {
  const i = ref >>> 2;
  switch (ref & 3) {
    case REF_SPAN:
      return trace.spans[i]!;
    case REF_API:
      return trace.api[i]!;
    case REF_SYNC:
      return trace.syncs[i]!;
    default:
      return trace.gpu[i]!;
  }
}

function catOf(trace: Trace, ref: number): number {
  switch (ref & 3) {
    case REF_SPAN:
      return cpuCat(trace.spans[ref >>> 2]!.cat);
    case REF_API:
      return CAT.cuda_api;
    case REF_SYNC:
      return CAT.sync;
    default:
      return CAT[trace.gpu[ref >>> 2]!.kind];
  }
}

/** An event's name and tooltip line. */
function names(trace: Trace, ref: number): [string, string] {
  const i = ref >>> 2;
  switch (ref & 3) {
    case REF_SYNC: {
      const w = trace.syncs[i]!;
      return [`sync (${w.type})`, w.stream !== undefined ? `stream ${w.stream}` : ""];
    }
    case REF_GPU: {
      const op = trace.gpu[i]!;
      return [op.name, gpuDetail(op)];
    }
    case REF_API:
      return [trace.api[i]!.name, ""];
    default: {
      const sp = trace.spans[i]!;
      return [sp.name, sp.cat === "python" && sp.file ? location(sp.file, sp.line) : sp.cat === "module" && sp.moduleType ? sp.moduleType : ""];
    }
  }
}

/** The lane's columns, in drawing order: by start, the longer first, then by category. */
function finishLane(trace: Trace, l: LaneAcc): void {
  const n = l.refs.length;
  const start = new Float64Array(n);
  const end = new Float64Array(n);
  const cat = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    const r = l.refs[k]!;
    const x = sourceOf(trace, r);
    start[k] = x.start;
    end[k] = x.end;
    cat[k] = catOf(trace, r);
  }
  const order = new Int32Array(n);
  for (let k = 0; k < n; k++) order[k] = k;
  order.sort((a, b) => start[a]! - start[b]! || end[b]! - end[a]! || cat[a]! - cat[b]!);
  l.n = n;
  l.start = new Float64Array(n);
  l.end = new Float64Array(n);
  l.cat = new Uint8Array(n);
  l.ref = new Int32Array(n);
  l.row = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    const o = order[k]!;
    l.start[k] = start[o]!;
    l.end[k] = end[o]!;
    l.cat[k] = cat[o]!;
    l.ref[k] = l.refs[o]!;
  }
  l.refs = [];
}

const EMPTY_COLUMNS = () => ({ refs: [] as number[], n: 0, start: new Float64Array(0), end: new Float64Array(0), cat: new Uint8Array(0), row: new Uint8Array(0), ref: new Int32Array(0) });

const MAX_NAME = 300;
const MAX_NAME_CHARS = 3_000_000;

function gpuDetail(op: Trace["gpu"][number]): string {
  const parts: string[] = [];
  if (op.kind !== "kernel" && op.bytes !== undefined) {
    const kinds = op.srcMem || op.dstMem ? ` ${op.srcMem ?? "?"} → ${op.dstMem ?? "?"}` : "";
    parts.push(`${bytes(op.bytes)}${kinds}`);
  }
  const l = op.launcher;
  if (l) {
    if (l.function) parts.push(`from ${l.function}${l.file ? ` (${location(l.file, l.line)})` : ""}`);
    if (l.scope) parts.push(`scope ${l.scope}`);
    if (!l.function && l.api) parts.push(`via ${l.api}`);
  }
  return parts.join(" · ");
}

function cpuCat(cat: Trace["spans"][number]["cat"]): number {
  return CAT[cat] ?? CAT.other;
}

/** Assigns nesting rows on one CPU thread (its events in drawing order). */
function assignRows(l: LaneAcc, maxRows: number): number {
  const stack: number[] = []; // end times
  let rows = 1;
  for (let k = 0; k < l.n; k++) {
    while (stack.length > 0 && stack[stack.length - 1]! <= l.start[k]!) stack.pop();
    const depth = stack.length;
    l.row[k] = Math.min(depth, maxRows - 1);
    if (depth + 1 > rows) rows = depth + 1;
    stack.push(l.end[k]!);
  }
  return Math.min(rows, maxRows);
}

/** Adds the overlap of [s, e) with each bin (fraction of the bin's width) into acc. */
function addToBins(acc: Float64Array, s: number, e: number, t0: number, binNs: number): void {
  if (e <= s) return;
  const n = acc.length;
  let b = Math.max(0, Math.floor((s - t0) / binNs));
  const last = Math.min(n - 1, Math.floor((e - t0) / binNs));
  for (; b <= last; b++) {
    const bs = t0 + b * binNs;
    const ov = Math.min(e, bs + binNs) - Math.max(s, bs);
    if (ov > 0) acc[b]! += ov / binNs;
  }
}

/** The timeline's default size cap, bytes of JSON (the HTML report stays under 10 MB). */
export const DEFAULT_TIMELINE_BYTES = 8_000_000;

export function buildTimeline(input: TimelineInput, opts: TimelineOptions = {}): Timeline {
  const trace = input.trace;
  const maxBytes = opts.maxBytes ?? DEFAULT_TIMELINE_BYTES;
  const densityBins = opts.densityBins ?? 4000;
  const { t0, span } = timeWindow(trace);
  const lanes = collectLanes(trace, opts.maxRows ?? 12);
  const fixed = {
    version: 1 as const,
    start: t0,
    span,
    cats: CATEGORIES,
    ...gpuUtilization(input.gpu?.devices ?? [], t0, span, opts.utilBins ?? 1000, opts.maxGaps ?? 5000),
    counters: counterSeries(trace, t0, opts.maxCounterPoints ?? 2000),
  };
  const build = (budget: number): Timeline => {
    const detail = encodeLanes(trace, lanes, laneCuts(lanes, budget), t0, span, densityBins);
    return {
      version: fixed.version,
      start: fixed.start,
      span: fixed.span,
      names: detail.names,
      cats: fixed.cats,
      lanes: detail.lanes,
      idle: fixed.idle,
      util: fixed.util,
      counters: fixed.counters,
      lod: { events: detail.events, kept: detail.kept, minDurNs: detail.events > detail.kept ? detail.maxCut : 0, budget, densityBins },
    };
  };
  let budget = opts.maxEvents ?? 150_000;
  let tl = build(budget);
  // The event budget is a proxy for size: if names or many lanes make the file too big, shrink it.
  for (let i = 0; i < 4; i++) {
    const size = JSON.stringify(tl).length;
    if (size <= maxBytes || tl.lod.kept === 0) break;
    budget = Math.floor((tl.lod.kept * maxBytes * 0.9) / size);
    tl = build(budget);
  }
  return tl;
}

/** The trace's time window: first start to last end of any event. */
function timeWindow(trace: Trace): { t0: number; span: number } {
  let t0 = Number.POSITIVE_INFINITY;
  let t1 = Number.NEGATIVE_INFINITY;
  const see = (s: number, e: number) => {
    if (s < t0) t0 = s;
    if (e > t1) t1 = e;
  };
  for (const x of trace.spans) see(x.start, x.end);
  for (const x of trace.api) see(x.start, x.end);
  for (const x of trace.gpu) see(x.start, x.end);
  for (const x of trace.syncs) see(x.start, x.end);
  for (const x of trace.instants) see(x.ts, x.ts);
  for (const x of trace.counters) see(x.ts, x.ts);
  if (!Number.isFinite(t0)) {
    t0 = 0;
    t1 = 0;
  }
  return { t0, span: Math.max(1, t1 - t0) };
}

/**
 * One lane per CPU thread (spans, CUDA calls, syncs; nesting rows assigned) and per GPU stream,
 * CPU lanes first, the main thread first.
 */
function collectLanes(trace: Trace, maxRows: number): LaneAcc[] {
  const lanes = new Map<string, LaneAcc>();
  const devName = new Map<number, string>();
  for (const d of trace.meta.devices ?? []) devName.set(d.index, d.name);
  let last: LaneAcc | null = null;
  const cpuLane = (pid: number, tid: number): LaneAcc => {
    // consecutive events are mostly on one thread: no key string per event
    if (last && last.pid === pid && last.tid === tid) return last;
    const key = `cpu:${pid}:${tid}`;
    let l = lanes.get(key);
    if (!l) {
      const tname = trace.threadNames.get(tid);
      const pname = trace.processNames.get(pid);
      l = {
        key,
        kind: "cpu",
        label: tname && tname.length > 0 ? tname : `thread ${tid}`,
        sub: `${pname ? `${pname} · ` : ""}pid ${pid} · tid ${tid}`,
        pid,
        tid,
        ...EMPTY_COLUMNS(),
        rows: 1,
      };
      lanes.set(key, l);
    }
    last = l;
    return l;
  };
  trace.spans.forEach((x, i) => cpuLane(x.pid, x.tid).refs.push((i << 2) | REF_SPAN));
  trace.api.forEach((x, i) => cpuLane(x.pid, x.tid).refs.push((i << 2) | REF_API));
  trace.syncs.forEach((x, i) => cpuLane(x.pid, x.tid).refs.push((i << 2) | REF_SYNC));
  let lastGpu: LaneAcc | null = null;
  // Several processes on the GPU: each keeps its own lanes, named for it.
  const gpuPids = new Set<number>();
  for (const op of trace.gpu) if (op.pid !== undefined && gpuPids.add(op.pid).size > 1) break;
  const perProcess = gpuPids.size > 1;
  for (let i = 0; i < trace.gpu.length; i++) {
    const op = trace.gpu[i]!;
    const proc = perProcess ? op.pid : undefined;
    let l: LaneAcc | undefined =
      lastGpu && lastGpu.pid === op.device && lastGpu.tid === op.stream && lastGpu.proc === proc ? lastGpu : lanes.get(`gpu:${proc ?? ""}:${op.device}:${op.stream}`);
    if (!l) {
      const key = `gpu:${proc ?? ""}:${op.device}:${op.stream}`;
      const pname = proc !== undefined ? trace.processNames.get(proc) : undefined;
      const dname = devName.get(op.device) ?? "";
      l = {
        key,
        kind: "gpu",
        label: `GPU ${op.device} · stream ${op.stream}`,
        sub: proc === undefined ? dname : `${pname ? `${pname} · ` : ""}pid ${proc}${dname ? ` · ${dname}` : ""}`,
        device: op.device,
        pid: op.device,
        tid: op.stream,
        ...(proc !== undefined ? { proc } : {}),
        ...EMPTY_COLUMNS(),
        rows: 1,
      };
      lanes.set(key, l);
    }
    lastGpu = l;
    l.refs.push((i << 2) | REF_GPU);
  }

  const ordered = [...lanes.values()].sort((a, b) => {
    if (a.kind !== b.kind) return a.kind === "cpu" ? -1 : 1;
    if (a.pid !== b.pid) return a.pid - b.pid;
    if (a.proc !== b.proc) return (a.proc ?? 0) - (b.proc ?? 0);
    // the main thread (tid == pid) first
    if ((a.tid === a.pid) !== (b.tid === b.pid)) return a.tid === a.pid ? -1 : 1;
    return a.tid - b.tid;
  });
  for (const l of ordered) {
    finishLane(trace, l);
    if (l.kind === "cpu") l.rows = assignRows(l, maxRows);
  }
  return ordered;
}

/** Per lane: keep dur > cut, and dur == cut for the first `atCut` such events in time order. */
interface LaneCut {
  cut: number;
  atCut: number;
}

/**
 * Level of detail: each lane gets a fair share of the budget (max-min fairness: lanes with few
 * events keep them all, the rest split what is left), and keeps its longest events.
 */
function laneCuts(ordered: LaneAcc[], budget: number): LaneCut[] {
  const droppable = ordered.map((l) => {
    let n = 0;
    for (let k = 0; k < l.n; k++) if (!ALWAYS_KEEP.has(l.cat[k]!)) n++;
    return n;
  });
  let always = 0;
  for (let i = 0; i < ordered.length; i++) always += ordered[i]!.n - droppable[i]!;
  let left = Math.max(0, budget - Math.min(always, ALWAYS_KEEP_CAP));
  const quota = new Array<number>(ordered.length).fill(0);
  const byCount = ordered.map((_, i) => i).sort((a, b) => droppable[a]! - droppable[b]! || a - b);
  byCount.forEach((li, k) => {
    const share = Math.floor(left / (byCount.length - k));
    quota[li] = Math.min(droppable[li]!, share);
    left -= quota[li]!;
  });
  return ordered.map((l, li) => {
    const q = quota[li]!;
    const n = droppable[li]!;
    if (q >= n) return { cut: -1, atCut: 0 };
    if (q === 0) return { cut: Number.POSITIVE_INFINITY, atCut: 0 };
    const durs = new Float64Array(n);
    let i = 0;
    for (let k = 0; k < l.n; k++) if (!ALWAYS_KEEP.has(l.cat[k]!)) durs[i++] = l.end[k]! - l.start[k]!;
    durs.sort();
    const cut = durs[n - q]!;
    let above = 0;
    for (let j = n - 1; j >= 0 && durs[j]! > cut; j--) above++;
    return { cut, atCut: q - above };
  });
}

/** The names table: every name and tooltip line once, truncated, within a total size cap. */
class NameTable {
  readonly names: string[] = [""];
  private readonly index = new Map<string, number>([["", 0]]);
  private chars = 0;

  /** Index of s in `names`; 0 (no name) once the table is full. */
  intern(s: string): number {
    // the same few names recur across the kept events: look the untruncated name up first
    const hit = this.index.get(s);
    if (hit !== undefined) return hit;
    const t = truncate(s, MAX_NAME);
    let i = this.index.get(t);
    if (i !== undefined) {
      this.index.set(s, i);
      return i;
    }
    if (this.chars + t.length > MAX_NAME_CHARS) return 0;
    this.chars += t.length;
    i = this.names.length;
    this.names.push(t);
    this.index.set(t, i);
    if (t !== s) this.index.set(s, i);
    return i;
  }
}

/** The kept events of each lane, delta-encoded, and the density strip of those folded away. */
function encodeLanes(
  trace: Trace,
  ordered: LaneAcc[],
  cuts: LaneCut[],
  t0: number,
  span: number,
  densityBins: number,
): { lanes: TimelineLane[]; names: string[]; events: number; kept: number; maxCut: number } {
  const table = new NameTable();
  const binNs = span / densityBins;
  const lanes: TimelineLane[] = [];
  let alwaysLeft = ALWAYS_KEEP_CAP;
  let events = 0;
  let kept = 0;
  let maxCut = 0;
  ordered.forEach((l, li) => {
    const lc = cuts[li]!;
    let atCut = lc.atCut;
    const s: number[] = [];
    const d: number[] = [];
    const n: number[] = [];
    const c: number[] = [];
    const r: number[] = [];
    const x: number[] = [];
    let hasX = false;
    let dens: Float64Array | null = null;
    let prev = t0;
    for (let k = 0; k < l.n; k++) {
      const start = l.start[k]!;
      const end = l.end[k]!;
      const du = end - start;
      let keep: boolean;
      if (ALWAYS_KEEP.has(l.cat[k]!)) keep = alwaysLeft-- > 0;
      else if (du > lc.cut) keep = true;
      else if (du === lc.cut && atCut > 0) {
        atCut--;
        keep = true;
      } else keep = false;
      if (keep) {
        const st = Math.round(start);
        s.push(st - prev);
        prev = st;
        d.push(Math.max(0, Math.round(du)));
        const [name, detail] = names(trace, l.ref[k]!);
        n.push(table.intern(name));
        c.push(l.cat[k]!);
        r.push(l.row[k]!);
        const xi = detail ? table.intern(detail) : 0;
        if (xi !== 0) hasX = true;
        x.push(xi);
      } else {
        if (!dens) dens = new Float64Array(densityBins);
        addToBins(dens, start, end, t0, binNs);
      }
    }
    events += l.n;
    kept += s.length;
    const lane: TimelineLane = {
      kind: l.kind,
      label: l.label,
      sub: l.sub,
      rows: l.rows,
      total: l.n,
      cut: lc.cut >= 0 && Number.isFinite(lc.cut) ? Math.round(lc.cut) : lc.cut < 0 ? 0 : -1,
      s,
      d,
      n,
      c,
      dens: dens ? Array.from(dens, (v) => Math.min(100, Math.round(v * 100))) : null,
    };
    if (l.device !== undefined) lane.device = l.device;
    if (l.kind === "cpu") lane.r = r;
    if (hasX) lane.x = x;
    if (s.length < l.n && lane.cut > maxCut) maxCut = lane.cut;
    lanes.push(lane);
  });
  return { lanes, names: table.names, events, kept, maxCut };
}

/** Per GPU: busy fraction per bin, and the idle gaps between its first and last op (the longest kept). */
function gpuUtilization(
  devices: DeviceBusy[],
  t0: number,
  span: number,
  utilBins: number,
  maxGaps: number,
): { util: Timeline["util"]; idle: Timeline["idle"] } {
  const uBin = span / utilBins;
  const util: Timeline["util"] = { bins: utilBins, binNs: uBin, series: [] };
  const idle: Timeline["idle"] = [];
  for (const { device, busy } of devices) {
    const acc = new Float64Array(utilBins);
    for (let i = 0; i < busy.length; i++) addToBins(acc, busy.starts[i]!, busy.ends[i]!, t0, uBin);
    const label = `GPU ${device}`;
    util.series.push({ device, label, v: Array.from(acc, (v) => Math.min(1000, Math.round(v * 1000))) });
    const gaps: [number, number][] = [];
    for (let i = 1; i < busy.length; i++) gaps.push([busy.ends[i - 1]!, busy.starts[i]! - busy.ends[i - 1]!]);
    const totalGaps = gaps.length;
    if (gaps.length > maxGaps) {
      gaps.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
      gaps.length = maxGaps;
      gaps.sort((a, b) => a[0] - b[0]);
    }
    const flat: number[] = [];
    for (const [gs, gd] of gaps) flat.push(Math.round(gs - t0), Math.round(gd));
    idle.push({ device, label, gaps: flat, total: totalGaps });
  }
  return { util, idle };
}

/** Counter series (one per track and key), averaged down to maxPoints; constant series left out. */
function counterSeries(trace: Trace, t0: number, maxPoints: number): Timeline["counters"] {
  const series = new Map<string, { track: string; key: string; pts: [number, number][] }>();
  for (const cs of trace.counters) {
    for (const key of Object.keys(cs.values)) {
      const v = cs.values[key];
      if (typeof v !== "number" || !Number.isFinite(v)) continue;
      const id = `${cs.track}\u0000${key}`;
      let sr = series.get(id);
      if (!sr) series.set(id, (sr = { track: cs.track, key, pts: [] }));
      sr.pts.push([cs.ts, v]);
    }
  }
  const counters: Timeline["counters"] = [];
  for (const id of [...series.keys()].sort()) {
    const sr = series.get(id)!;
    sr.pts.sort((a, b) => a[0] - b[0]);
    let pts = sr.pts;
    // a constant series (swap 0, a node's total memory) says nothing on a timeline: the tables have it
    if (pts.every((p) => p[1] === pts[0]![1])) continue;
    if (pts.length > maxPoints) {
      const per = pts.length / maxPoints;
      const down: [number, number][] = [];
      for (let b = 0; b < maxPoints; b++) {
        const lo = Math.floor(b * per);
        const hi = Math.max(lo + 1, Math.floor((b + 1) * per));
        let sum = 0;
        for (let i = lo; i < hi; i++) sum += pts[i]![1];
        down.push([pts[Math.floor((lo + hi - 1) / 2)]![0], sum / (hi - lo)]);
      }
      pts = down;
    }
    counters.push({
      track: sr.track,
      key: sr.key,
      t: pts.map((p) => Math.round(p[0] - t0)),
      v: pts.map((p) => Math.round(p[1] * 1000) / 1000),
    });
  }
  return counters;
}
