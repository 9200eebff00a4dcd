// Per-request latency (docs/analysis.md, "Requests"): requests the program marked, their
// latency, time to first token (TTFT) and inter-token latency (ITL) percentiles, and where the
// slowest ones spent their time.
//
// A request is either
//   - a pair of instants `request.begin` / `request.end` with the same `id` (inferscope.request(),
//     request_begin()/request_end(): any thread, any task, paired by id), or
//   - a scope named `request` with an `id` attribute (`with scope("request", id=…)`).
// Marks that carry `request=<id>` belong to it: `token` (each generated token: TTFT, ITL) and
// `schedule` (the request left the queue). Scopes with a `request=<id>` attribute are its CPU work.
import type { CpuSpan, Instant, Trace } from "../trace/model.ts";
import { Union, unionOf } from "../core/intervals.ts";
import { latencyStat } from "./latency.ts";
import type { GpuTime } from "./gpu.ts";
import type { LatencyStat, RequestBreakdown, RequestStats } from "./report-types.ts";

export const REQUEST_BEGIN = "request.begin";
export const REQUEST_END = "request.end";
export const REQUEST_SCOPE = "request";
export const TOKEN_MARK = "token";
export const SCHEDULE_MARK = "schedule";

interface Req {
  id: string;
  begin: number;
  end: number;
  tokens: number[];
  schedule?: number;
  cpu: CpuSpan[];
}

const key = (v: unknown): string | null => (typeof v === "string" || typeof v === "number" ? String(v) : null);

const stat = (valuesNs: number[]): LatencyStat | null => (valuesNs.length ? latencyStat(Float64Array.from(valuesNs).sort()) : null);

/** The marked requests: begin/end pairs by id, then `request` scopes with an id. */
function findRequests(trace: Trace): { requests: Map<string, Req>; unfinished: number } {
  const requests = new Map<string, Req>();
  const open = new Map<string, number>();
  const instants = [...trace.instants].sort((a, b) => a.ts - b.ts);
  for (const i of instants) {
    if (i.name !== REQUEST_BEGIN && i.name !== REQUEST_END) continue;
    const id = key(i.args?.id);
    if (id === null) continue;
    if (i.name === REQUEST_BEGIN) open.set(id, i.ts);
    else if (open.has(id)) {
      requests.set(id, { id, begin: open.get(id)!, end: i.ts, tokens: [], cpu: [] });
      open.delete(id);
    }
  }
  for (const s of trace.spans) {
    if (s.cat !== "scope" || s.name !== REQUEST_SCOPE) continue;
    const id = key(s.args?.id);
    if (id === null || requests.has(id) || s.args?.unfinished || s.args?.window_end) continue;
    requests.set(id, { id, begin: s.start, end: s.end, tokens: [], cpu: [] });
  }
  return { requests, unfinished: open.size };
}

function attach(trace: Trace, requests: Map<string, Req>, instants: Instant[]): void {
  for (const i of instants) {
    if (i.name !== TOKEN_MARK && i.name !== SCHEDULE_MARK) continue;
    const r = requests.get(key(i.args?.request) ?? "");
    if (!r) continue;
    if (i.name === TOKEN_MARK) r.tokens.push(i.ts);
    else if (r.schedule === undefined) r.schedule = i.ts;
  }
  for (const s of trace.spans) {
    if (s.cat !== "scope" || s.name === REQUEST_SCOPE) continue;
    const r = requests.get(key(s.args?.request) ?? "");
    if (r) r.cpu.push(s);
  }
}

/**
 * Where a request's time went; the four parts add up to its latency. S = its schedule mark (else
 * its begin). cpu: its tagged scopes, except where the GPU was busy after S; gpu: the GPU busy
 * after S; queue: begin → S, except its own CPU work there; idle: the rest.
 */
function breakdown(r: Req, gpu: GpuTime | null): RequestBreakdown {
  const start = Math.min(Math.max(r.schedule ?? r.begin, r.begin), r.end);
  const gpuNs = gpu ? gpu.all.covered(start, r.end) : null;
  let cpuNs: number | null = null;
  let cpuInQueue = 0;
  if (r.cpu.length) {
    const u: Union = unionOf(
      r.cpu.map((s) => Math.max(s.start, r.begin)),
      r.cpu.map((s) => Math.min(s.end, r.end)),
    );
    cpuNs = 0;
    for (let k = 0; k < u.length; k++) {
      const a = u.starts[k]!;
      const b = u.ends[k]!;
      if (b <= a) continue;
      const afterS = Math.max(a, start);
      cpuNs += b - a - (gpu && b > afterS ? gpu.all.covered(afterS, b) : 0);
    }
    cpuInQueue = u.covered(r.begin, start);
  }
  const latency = r.end - r.begin;
  const queue = r.schedule !== undefined ? start - r.begin - cpuInQueue : null;
  const idle = latency - (queue ?? 0) - (cpuNs ?? 0) - (gpuNs ?? 0);
  const ms = (x: number | null) => (x === null ? null : x / 1e6);
  return {
    id: r.id,
    latency_ms: latency / 1e6,
    queue_ms: ms(queue),
    cpu_ms: ms(cpuNs),
    gpu_ms: ms(gpuNs),
    idle_ms: Math.max(0, idle) / 1e6,
    tokens: r.tokens.length,
    ttft_ms: r.tokens.length ? (r.tokens[0]! - r.begin) / 1e6 : null,
  };
}

/** Request statistics, or null when the trace marks no request. */
export function requestMetrics(trace: Trace, gpu: GpuTime | null, top: number): RequestStats | null {
  const { requests, unfinished } = findRequests(trace);
  if (requests.size === 0) return null;
  attach(trace, requests, trace.instants);
  const list = [...requests.values()];
  const ttft: number[] = [];
  const itl: number[] = [];
  let tokens = 0;
  for (const r of list) {
    r.tokens.sort((a, b) => a - b);
    tokens += r.tokens.length;
    if (r.tokens.length) ttft.push(r.tokens[0]! - r.begin);
    for (let k = 1; k < r.tokens.length; k++) itl.push(r.tokens[k]! - r.tokens[k - 1]!);
  }
  const slowest = [...list].sort((a, b) => b.end - b.begin - (a.end - a.begin) || a.id.localeCompare(b.id)).slice(0, top);
  return {
    count: list.length,
    unfinished,
    tokens,
    latency: stat(list.map((r) => r.end - r.begin))!,
    ttft: stat(ttft),
    itl: stat(itl),
    slowest: slowest.map((r) => breakdown(r, gpu)),
  };
}
