// CPU side: per-thread activity, memory pressure and NUMA placement from the sampled counter
// tracks (docs/analysis.md, "CPU"). A value the trace does not contain is null ("not measured").
import type { Trace } from "../trace/model.ts";
import type { ThreadStat } from "./report-types.ts";
import { unionOf } from "./intervals.ts";

export interface ThreadMetrics {
  tid: number;
  name: string;
  busyNs: number;
  pythonNs: number | null;
  spans: number;
  blockedNs: number;
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

export function cpuMetrics(trace: Trace, blockedByThread: Map<number, number>): CpuMetrics {
  const tids = new Set<number>();
  const spanCount = new Map<number, number>();
  const busyS = new Map<number, number[]>();
  const busyE = new Map<number, number[]>();
  const pyS = new Map<number, number[]>();
  const pyE = new Map<number, number[]>();
  const add = (m: Map<number, number[]>, tid: number, v: number) => {
    let a = m.get(tid);
    if (!a) {
      a = [];
      m.set(tid, a);
    }
    a.push(v);
  };
  let pythonTraced = false;
  for (const s of trace.spans) {
    tids.add(s.tid);
    spanCount.set(s.tid, (spanCount.get(s.tid) ?? 0) + 1);
    if (s.cat === "python" || s.cat === "cpu_op" || s.cat === "other") {
      add(busyS, s.tid, s.start);
      add(busyE, s.tid, s.end);
    }
    if (s.cat === "python") {
      pythonTraced = true;
      add(pyS, s.tid, s.start);
      add(pyE, s.tid, s.end);
    }
  }
  for (const c of trace.api) {
    tids.add(c.tid);
    add(busyS, c.tid, c.start);
    add(busyE, c.tid, c.end);
  }
  for (const w of trace.syncs) {
    if (w.tid < 0) continue;
    tids.add(w.tid);
    add(busyS, w.tid, w.start);
    add(busyE, w.tid, w.end);
  }
  const threads: ThreadMetrics[] = [];
  for (const tid of tids) {
    const bs = busyS.get(tid);
    const busyNs = bs ? unionOf(bs, busyE.get(tid)!).measure : 0;
    const ps = pyS.get(tid);
    threads.push({
      tid,
      name: trace.threadNames.get(tid) ?? `thread ${tid}`,
      busyNs,
      pythonNs: pythonTraced ? (ps ? unionOf(ps, pyE.get(tid)!).measure : 0) : null,
      spans: spanCount.get(tid) ?? 0,
      blockedNs: blockedByThread.get(tid) ?? 0,
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

export function threadStat(t: ThreadMetrics): ThreadStat {
  return {
    tid: t.tid,
    name: t.name,
    busy_ms: t.busyNs / 1e6,
    python_ms: t.pythonNs === null ? null : t.pythonNs / 1e6,
    spans: t.spans,
    blocked_ms: t.blockedNs / 1e6,
  };
}
