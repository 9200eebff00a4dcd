// JSON output: the Report itself (contract `inferscope.report/v1`), serialized with a stable key
// order so that two analyses of the same trace are byte-identical and diffs stay small. The keys
// of the contract come in the order the contract declares them; keys it does not name (evidence,
// collection, dropped, NUMA nodes…) follow in sorted order.

import type { Report } from "../analyze/report-types.ts";

const CODE_REF = ["function", "file", "line", "scope"];
const LATENCY = ["count", "mean_ms", "p50_ms", "p95_ms", "p99_ms", "max_ms"];
const COPY = ["count", "bytes", "ms", "gbps", "pageable_count", "pinned_count", "sync_count", "pageable_bytes", "pageable_ms", "sync_blocked_ms"];

/** Key order per path; "[]" stands for any array element. */
const ORDER: Record<string, string[]> = {
  "": ["schema", "source", "bottleneck", "gpu", "cpu", "scopes", "requests", "modules", "findings", "clock", "dropped", "collection", "warnings"],
  source: ["path", "format", "events"],
  bottleneck: ["classification", "confidence", "reason"],
  gpu: ["window_ms", "busy_ms", "utilization_pct", "compute_ms", "transfer_only_ms", "idle", "kernels", "memcpy", "memset", "syncs", "devices"],
  "gpu.idle": ["total_ms", "host_wait_ms", "kernel_wait_ms", "sync_other_ms", "gaps", "launches_known", "after_sync_ms", "top"],
  "gpu.idle.top[]": [...CODE_REF, "kind", "idle_ms", "pct_of_idle", "self_ms", "pct_of_host_wait"],
  "gpu.kernels": ["count", "total_ms", "short_count", "short_pct", "launch_api_ms", "launch_calls", "graph_launched_count", "mean_us", "queue_depth", "by_class", "gemm", "top"],
  "gpu.kernels.by_class[]": ["class", "label", "count", "total_ms", "pct_of_busy", "top_kernel", "top_kernel_ms"],
  "gpu.kernels.gemm": ["device", "peak_source", "by_precision", "not_measured"],
  "gpu.kernels.gemm.by_precision[]": ["precision", "tensor_cores", "count", "total_ms", "measured_ms", "tflop", "achieved_tflops", "peak_tflops", "pct_of_peak"],
  "gpu.kernels.queue_depth": ["mean", "max"],
  "gpu.kernels.top[]": ["name", "count", "total_ms", "mean_us", "max_us", "pct_of_busy", ...CODE_REF],
  "gpu.memcpy": ["h2d", "d2h", "d2d", "other"],
  "gpu.memcpy.h2d": COPY,
  "gpu.memcpy.d2h": COPY,
  "gpu.memcpy.d2d": COPY,
  "gpu.memcpy.other": COPY,
  "gpu.memset": ["count", "bytes", "ms"],
  "gpu.syncs": ["count", "blocked_ms", "top"],
  "gpu.syncs.top[]": [...CODE_REF, "count", "blocked_ms"],
  "gpu.devices[]": ["index", "name"],
  cpu: ["threads", "top_functions", "memory", "numa"],
  "cpu.threads[]": ["tid", "name", "busy_ms", "python_ms", "spans", "blocked_ms"],
  "cpu.top_functions[]": ["function", "file", "line", "kind", "calls", "self_ms", "total_ms", "pct_of_busy"],
  "cpu.memory": ["peak_rss_mb", "min_available_mb", "swap_used_mb"],
  "cpu.numa": ["gpu_node", "pages_mb_by_node", "remote_pct"],
  "scopes[]": ["name", "count", "mean_ms", "p50_ms", "p95_ms", "p99_ms", "max_ms", "split", "durations_ms"],
  "scopes[].split": ["compute_ms", "transfer_ms", "idle_ms"],
  requests: ["count", "unfinished", "tokens", "latency", "ttft", "itl", "slowest"],
  "requests.latency": LATENCY,
  "requests.ttft": LATENCY,
  "requests.itl": LATENCY,
  "requests.slowest[]": ["id", "latency_ms", "queue_ms", "cpu_ms", "gpu_ms", "idle_ms", "tokens", "ttft_ms"],
  modules: ["count", "in_modules_ms", "outside_step_ms", "step", "sort", "top", "types"],
  "modules.step": ["scope", "count", "ms"],
  "modules.top[]": ["path", "type", "calls", "self_ms", "total_ms", "pct_of_step", "kernel_ms", "kernel_self_ms", "pct_of_kernels", "kernels", "copies", "syncs", "top_kernel"],
  "modules.top[].copies": ["count", "bytes", "ms"],
  "modules.top[].syncs": ["count", "blocked_ms"],
  "modules.top[].top_kernel": ["name", "ms"],
  "modules.types[]": ["type", "instances", "calls", "self_ms", "total_ms", "pct_of_step", "kernel_ms", "spread", "repeats"],
  "modules.types[].spread": ["basis", "min_ms", "median_ms", "max_ms", "slowest"],
  "modules.types[].repeats": ["instances", "basis", "min_ms", "median_ms", "max_ms", "slowest"],
  "findings[]": ["rule", "source", "title", "severity", "confidence", "impact_ms", "estimated_saving", "evidence", "suggestions"],
  "findings[].estimated_saving": ["ms", "pct_of_window", "per", "basis", "scope", "steps", "window_ms", "standalone_ms", "overlaps"],
  clock: ["source", "error_bound_us"],
};

function cmp(a: string, b: string): number {
  // numeric keys ("0", "1", "10") in numeric order, then the rest by code unit
  const na = /^\d+$/.test(a);
  const nb = /^\d+$/.test(b);
  if (na && nb) return Number(a) - Number(b);
  if (na !== nb) return na ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function order(v: unknown, path: string): unknown {
  if (Array.isArray(v)) return v.map((x) => order(x, `${path}[]`));
  if (v === null || typeof v !== "object") {
    if (typeof v === "number" && Object.is(v, -0)) return 0;
    return v;
  }
  const obj = v as Record<string, unknown>;
  const known = ORDER[path] ?? [];
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined);
  const first = known.filter((k) => keys.includes(k));
  const rest = keys.filter((k) => !known.includes(k)).sort(cmp);
  const out: Record<string, unknown> = {};
  // Objects keep insertion order for string keys, but integer-like keys always come first in
  // ascending order: that matches cmp(), so the result is the same either way.
  for (const k of [...first, ...rest]) out[k] = order(obj[k], path === "" ? k : `${path}.${k}`);
  return out;
}

/** The Report as JSON: stable key order, 2-space indent, trailing newline. */
export function reportJson(report: Report): string {
  return `${JSON.stringify(order(report, ""), null, 2)}\n`;
}

/** The Report on one line (NDJSON): same key order, no indentation. */
export function reportLine(report: Report): string {
  return `${JSON.stringify(order(report, ""))}\n`;
}

/**
 * JSON that is safe inside an HTML <script> element: "<", ">", "&" and the two JavaScript line
 * terminators are written as \u escapes, so no trace string can close the element.
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
