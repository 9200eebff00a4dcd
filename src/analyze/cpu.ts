// CPU side: per-thread activity, memory pressure and NUMA placement from the sampled counter
// tracks (docs/analysis.md, "CPU"). A value the trace does not contain is null ("not measured").
import type { CpuSpan, Trace } from "../trace/model.ts";
import type { ThreadStat } from "./report-types.ts";
import { UnionMeasure } from "../core/intervals.ts";

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
  /** The part of kernelCpuNs in the kernel itself (system calls, page faults), or null when not sampled. */
  kernelSysNs: number | null;
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
  /** CPU time the kernel counted per sampled thread, traced or not (kernelCpuByThread), ns. */
  kernelByThread: Map<number, number>;
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

/** The spans a thread's busy time counts: its code (Python calls, ops, modules, waits), not scopes or marks. */
const CODE_CATS = new Set<CpuSpan["cat"]>(["python", "cpu_op", "module", "other", "wait"]);

/** Index of the first code span at or after i. */
function nextCode(spans: CpuSpan[], i: number): number {
  while (i < spans.length && !CODE_CATS.has(spans[i]!.cat)) i++;
  return i;
}

/** Each thread's items as a chain through a sorted list: its first index, and each index's next of the same thread (-1: none). Negative tids are left out. */
function byTid(items: readonly { tid: number }[]): { head: Map<number, number>; next: Int32Array } {
  const head = new Map<number, number>();
  const tail = new Map<number, number>();
  const next = new Int32Array(items.length).fill(-1);
  // consecutive items are mostly of one thread: the Maps are asked only when the thread changes
  let tid = NaN;
  let last = -1;
  for (let i = 0; i < items.length; i++) {
    const t = items[i]!.tid;
    if (t < 0) continue;
    if (t !== tid) {
      if (last >= 0) tail.set(tid, last);
      tid = t;
      last = tail.get(t) ?? -1;
    }
    if (last < 0) head.set(t, i);
    else next[last] = i;
    last = i;
  }
  return { head, next };
}

/**
 * `byThread`: spans per thread sorted by start (from the merger); `trace.api` and `trace.syncs`
 * sorted by start. Each thread's busy time is measured in one merge of its three sorted lists.
 */
export function cpuMetrics(trace: Trace, byThread: Map<number, CpuSpan[]>, blockedByThread: Map<number, number>, waitByThread: Map<number, number> = new Map()): CpuMetrics {
  // A thread's busy time: the union of its code spans, CUDA calls and syncs, merged by start
  // (each list is sorted) and measured as it goes; only the totals are kept.
  const api = byTid(trace.api);
  const syncs = byTid(trace.syncs);
  const tids = new Set<number>([...byThread.keys(), ...api.head.keys(), ...syncs.head.keys()]);
  const measured: { tid: number; busyNs: number; pythonNs: number; spans: number; pid: number | undefined }[] = [];
  let pythonTraced = false;
  for (const tid of tids) {
    const spans = byThread.get(tid) ?? [];
    const busy = new UnionMeasure();
    const py = new UnionMeasure();
    let si = nextCode(spans, 0);
    let ai = api.head.get(tid) ?? -1;
    let yi = syncs.head.get(tid) ?? -1;
    for (;;) {
      const hasS = si < spans.length;
      const hasA = ai >= 0;
      const hasY = yi >= 0;
      if (!hasS && !hasA && !hasY) break;
      // each branch moves its list on, whatever the times hold (a NaN compares false)
      const ss = hasS ? spans[si]!.start : 0;
      const as = hasA ? trace.api[ai]!.start : 0;
      const ys = hasY ? trace.syncs[yi]!.start : 0;
      if (hasS && (!hasA || ss <= as) && (!hasY || ss <= ys)) {
        const s = spans[si]!;
        busy.add(s.start, s.end);
        if (s.cat === "python") {
          py.add(s.start, s.end);
          pythonTraced = true;
        }
        si = nextCode(spans, si + 1);
      } else if (hasA && (!hasY || as <= ys)) {
        busy.add(as, trace.api[ai]!.end);
        ai = api.next[ai]!;
      } else {
        busy.add(ys, trace.syncs[yi]!.end);
        yi = syncs.next[yi]!;
      }
    }
    measured.push({ tid, busyNs: busy.measure, pythonNs: py.measure, spans: spans.length, pid: spans[0]?.pid });
  }
  const kernel = kernelCpuByThread(trace);
  const kernelSys = kernelCpuByThread(trace, "system_pct");
  const threads: ThreadMetrics[] = [];
  for (const m of measured) {
    const { tid, busyNs } = m;
    const waitNs = Math.min(busyNs, waitByThread.get(tid) ?? 0);
    threads.push({
      tid,
      pid: m.pid ?? trace.api.find((a) => a.tid === tid)?.pid ?? -1,
      name: trace.threadNames.get(tid) ?? `thread ${tid}`,
      busyNs,
      pythonNs: m.pythonNs,
      spans: m.spans,
      blockedNs: blockedByThread.get(tid) ?? 0,
      waitNs,
      runningNs: busyNs - waitNs,
      kernelCpuNs: kernel.get(tid) ?? null,
      kernelSysNs: kernelSys.get(tid) ?? null,
    });
  }
  if (!pythonTraced) for (const t of threads) t.pythonNs = null;
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
    kernelByThread: kernel,
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
 * With `key` "system_pct", the part of it in the kernel; a thread whose samples lack the value
 * (a trace recorded before it was sampled) is left out: not measured. A thread the sampler lists
 * as idle (sampled throughout, never ran) has 0.
 */
export function kernelCpuByThread(trace: Trace, key: "utilization_pct" | "system_pct" = "utilization_pct"): Map<number, number> {
  const last = new Map<number, number>();
  const out = new Map<number, number>();
  for (const c of trace.counters) {
    if (!c.track.startsWith("cpu thread ")) continue;
    const tid = Number(c.track.slice(11));
    const v = c.values[key];
    const prev = last.get(tid);
    last.set(tid, c.ts);
    if (v === undefined && key === "system_pct") continue;
    if (prev === undefined || v === undefined) {
      if (!out.has(tid)) out.set(tid, 0);
      continue;
    }
    out.set(tid, (out.get(tid) ?? 0) + (v / 100) * (c.ts - prev));
  }
  // threads the sampler saw throughout without a tick of CPU (a pool's helper thread blocked from C)
  const idle = (trace.meta.sampler as { idleThreads?: unknown } | undefined)?.idleThreads;
  if (Array.isArray(idle)) for (const tid of idle) if (typeof tid === "number" && !out.has(tid)) out.set(tid, 0);
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
    system_ms: t.kernelSysNs === null ? null : t.kernelSysNs / 1e6,
  };
}
