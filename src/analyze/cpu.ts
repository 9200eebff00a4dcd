// CPU side: per-thread activity, memory pressure and NUMA placement from the sampled counter
// tracks (docs/analysis.md, "CPU"). A value the trace does not contain is null ("not measured").
import type { CpuSpan, Trace } from "../trace/model.ts";
import type { ThreadStat } from "./report-types.ts";
import { type Union, UnionBuilder, mergeUnions } from "../core/intervals.ts";

export interface ThreadMetrics {
  tid: number;
  pid: number;
  name: string;
  /** Time in traced code (Python calls, ops, CUDA calls), waits included. */
  busyNs: number;
  pythonNs: number | null;
  spans: number;
  blockedNs: number;
  /** Time waiting in blocking builtins (wait spans); 0 when none were recorded. */
  waitNs: number;
  /** busyNs - waitNs: running (or runnable) in traced code. */
  runningNs: number;
  /** CPU time the kernel counted for the thread (sampled /proc), or null when not sampled. */
  kernelCpuNs: number | null;
}

export interface CounterSeries {
  ts: number[];
  values: number[];
}

export interface CpuMetrics {
  threads: ThreadMetrics[];
  /** Whether the trace has Python spans at all (else python_ms is "not measured"). */
  pythonTraced: boolean;
  peakRssMb: number | null;
  minAvailableMb: number | null;
  swapUsedMb: number | null;
  /** Growth of system swap use over the run, MB. */
  swapGrowthMb: number | null;
  processSwapMb: number | null;
  /** Process CPU utilization (100 = one core): mean and max over samples. */
  cpuUtilMean: number | null;
  cpuUtilMax: number | null;
  cpuSamples: number;
  /** GPU memory used, peak, MB, per device index (NVML samples). */
  gpuMemPeakMb: Map<number, number>;
  /** PCIe throughput from NVML, peak MB/s per device. */
  pcieRxPeakMbps: Map<number, number>;
  pcieTxPeakMbps: Map<number, number>;
  numa: {
    gpuNode: number | null;
    pagesMbByNode: Record<string, number> | null;
    remotePct: number | null;
    processMb: number | null;
  };
}

function series(trace: Trace, track: string, key: string): CounterSeries | null {
  const ts: number[] = [];
  const values: number[] = [];
  for (const c of trace.counters) {
    if (c.track !== track) continue;
    const v = c.values[key];
    if (v === undefined) continue;
    ts.push(c.ts);
    values.push(v);
  }
  return values.length > 0 ? { ts, values } : null;
}

function max(s: CounterSeries | null): number | null {
  if (!s) return null;
  let m = -Infinity;
  for (const v of s.values) if (v > m) m = v;
  return m;
}

function min(s: CounterSeries | null): number | null {
  if (!s) return null;
  let m = Infinity;
  for (const v of s.values) if (v < m) m = v;
  return m;
}

/**
 * `byThread`: spans per thread sorted by start (from the merger); `trace.api` and `trace.syncs`
 * sorted by start. Unions are built in linear time from the sorted lists.
 */
export function cpuMetrics(trace: Trace, byThread: Map<number, CpuSpan[]>, blockedByThread: Map<number, number>, waitByThread: Map<number, number> = new Map()): CpuMetrics {
  const pythonTraced = trace.spans.some((s) => s.cat === "python");
  const busyParts = new Map<number, Union[]>();
  const part = (tid: number, u: Union) => {
    let a = busyParts.get(tid);
    if (!a) busyParts.set(tid, (a = []));
    a.push(u);
  };
  const pythonNs = new Map<number, number>();
  const spanCount = new Map<number, number>();
  const pidOf = new Map<number, number>();
  for (const [tid, spans] of byThread) {
    spanCount.set(tid, spans.length);
    if (spans.length) pidOf.set(tid, spans[0]!.pid);
    const code = new UnionBuilder();
    const py = pythonTraced ? new UnionBuilder() : null;
    for (const s of spans) {
      const cat = s.cat;
      if (cat === "python") {
        code.add(s.start, s.end);
        py?.add(s.start, s.end);
      } else if (cat === "cpu_op" || cat === "module" || cat === "other" || cat === "wait") code.add(s.start, s.end);
    }
    part(tid, code.finish());
    if (py) pythonNs.set(tid, py.finish().measure);
  }
  const perThread = (items: { tid: number; start: number; end: number }[]) => {
    const m = new Map<number, UnionBuilder>();
    for (const x of items) {
      if (x.tid < 0) continue;
      let b = m.get(x.tid);
      if (!b) m.set(x.tid, (b = new UnionBuilder()));
      b.add(x.start, x.end);
    }
    for (const [tid, b] of m) part(tid, b.finish());
  };
  perThread(trace.api);
  perThread(trace.syncs);
  const kernel = kernelCpuByThread(trace);
  const threads: ThreadMetrics[] = [];
  for (const [tid, parts] of busyParts) {
    const busyNs = parts.length === 1 ? parts[0]!.measure : mergeUnions(parts).measure;
    const waitNs = Math.min(busyNs, waitByThread.get(tid) ?? 0);
    threads.push({
      tid,
      pid: pidOf.get(tid) ?? trace.api.find((a) => a.tid === tid)?.pid ?? -1,
      name: trace.threadNames.get(tid) ?? `thread ${tid}`,
      busyNs,
      pythonNs: pythonTraced ? (pythonNs.get(tid) ?? 0) : null,
      spans: spanCount.get(tid) ?? 0,
      blockedNs: blockedByThread.get(tid) ?? 0,
      waitNs,
      runningNs: busyNs - waitNs,
      kernelCpuNs: kernel.get(tid) ?? null,
    });
  }
  threads.sort((a, b) => b.busyNs - a.busyNs || a.tid - b.tid);

  const rss = series(trace, "memory", "rss_mb");
  const avail = series(trace, "memory", "mem_available_mb");
  const swapUsed = series(trace, "memory", "swap_used_mb");
  const procSwap = series(trace, "memory", "swap_mb");
  const util = series(trace, "cpu", "utilization_pct");

  const gpuMemPeakMb = new Map<number, number>();
  const pcieRxPeakMbps = new Map<number, number>();
  const pcieTxPeakMbps = new Map<number, number>();
  const numaLast = new Map<string, number>();
  for (const c of trace.counters) {
    const g = /^gpu (\d+)$/.exec(c.track);
    if (g) {
      const dev = Number(g[1]);
      const peak = (m: Map<number, number>, v: number | undefined) => {
        if (v !== undefined) m.set(dev, Math.max(m.get(dev) ?? -Infinity, v));
      };
      peak(gpuMemPeakMb, c.values.memory_used_mb);
      peak(pcieRxPeakMbps, c.values.pcie_rx_mbps);
      peak(pcieTxPeakMbps, c.values.pcie_tx_mbps);
      continue;
    }
    const n = /^numa node (\d+)$/.exec(c.track);
    if (n && c.values.process_mb !== undefined) numaLast.set(n[1]!, c.values.process_mb); // counters are sorted: last wins
  }

  const dev0 = trace.meta.devices[0];
  const gpuNode = dev0?.numaNode !== undefined && dev0.numaNode >= 0 ? dev0.numaNode : null;
  let pagesMbByNode: Record<string, number> | null = null;
  let remotePct: number | null = null;
  let processMb: number | null = null;
  if (numaLast.size > 0) {
    pagesMbByNode = {};
    let total = 0;
    for (const [node, mb] of [...numaLast].sort((a, b) => Number(a[0]) - Number(b[0]))) {
      pagesMbByNode[node] = mb;
      total += mb;
    }
    processMb = total;
    if (gpuNode !== null && total > 0) {
      const local = numaLast.get(String(gpuNode)) ?? 0;
      remotePct = ((total - local) / total) * 100;
    }
  }

  return {
    threads,
    pythonTraced,
    peakRssMb: max(rss),
    minAvailableMb: min(avail),
    swapUsedMb: max(swapUsed),
    swapGrowthMb: swapUsed ? Math.max(0, max(swapUsed)! - swapUsed.values[0]!) : null,
    processSwapMb: max(procSwap),
    cpuUtilMean: util ? util.values.reduce((a, b) => a + b, 0) / util.values.length : null,
    cpuUtilMax: max(util),
    cpuSamples: util?.values.length ?? 0,
    gpuMemPeakMb,
    pcieRxPeakMbps,
    pcieTxPeakMbps,
    numa: { gpuNode, pagesMbByNode, remotePct, processMb },
  };
}

/**
 * CPU time per thread from the sampled `cpu thread <tid>` tracks ({utilization_pct} over the
 * interval ending at each sample): Σ pct/100 × interval, over the samples in the trace (the
 * window's, once clipped). The kernel's ticks are 10 ms, so a thread's figure is ± 10 ms.
 */
export function kernelCpuByThread(trace: Trace): Map<number, number> {
  const last = new Map<number, number>();
  const out = new Map<number, number>();
  for (const c of trace.counters) {
    if (!c.track.startsWith("cpu thread ")) continue;
    const tid = Number(c.track.slice(11));
    const v = c.values.utilization_pct;
    const prev = last.get(tid);
    last.set(tid, c.ts);
    if (prev === undefined || v === undefined) {
      if (!out.has(tid)) out.set(tid, 0);
      continue;
    }
    out.set(tid, (out.get(tid) ?? 0) + (v / 100) * (c.ts - prev));
  }
  return out;
}

export function threadStat(t: ThreadMetrics): ThreadStat {
  return {
    tid: t.tid,
    name: t.name,
    busy_ms: t.busyNs / 1e6,
    python_ms: t.pythonNs === null ? null : t.pythonNs / 1e6,
    spans: t.spans,
    blocked_ms: t.blockedNs / 1e6,
    pid: t.pid,
    running_ms: t.runningNs / 1e6,
    waiting_ms: t.waitNs / 1e6,
    cpu_ms: t.kernelCpuNs === null ? null : t.kernelCpuNs / 1e6,
  };
}
