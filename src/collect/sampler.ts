// Parent-side sampling of the profiled process and of the machine through the C shim
// (ffi/procfs.c), on the shim's CLOCK_MONOTONIC: cheap files every sampleIntervalMs,
// /proc/<pid>/numa_maps every numaMapsIntervalMs (it costs ~4 µs per MiB of RSS). A file the
// machine does not expose leaves its metric out of the samples (absent, never 0).
//
// Tracks (docs/trace-format.md): `memory` {rss_mb, threads, swap_mb, mem_available_mb,
// swap_used_mb}, `cpu` {utilization_pct} (100 = one core busy; over the trailing ≥ 100 ms),
// `numa node N` {process_mb, free_mb, total_mb}, and per thread that used CPU during the run
// `cpu thread <tid>` {utilization_pct, system_pct} (over each interval: summed into CPU time per
// thread; system_pct is the part in the kernel: system calls, page faults). A thread that never
// ran has no track; the summary lists it (`idleThreads`), so its CPU time reads 0, not unknown.
import { ptr } from "bun:ffi";
import type { CounterSample } from "../trace/model.ts";
import type { Native } from "./native.ts";
import { ProcTree } from "./proc-tree.ts";

export interface SamplerOptions {
  pid: number;
  /** Follow the process tree: the children's threads are sampled too (and listed in `tree`). */
  children?: boolean;
  intervalMs: number;
  numaMapsIntervalMs: number;
}

const MAX_THREADS = 4096;
const MAX_NODES = 64;
/** The `cpu` track's shortest window, in /proc ticks (see the constructor). */
const CPU_WINDOW_TICKS = 10;

const mb = (kb: number) => Math.round((kb / 1024) * 1000) / 1000;
const pct = (x: number) => Math.round(x * 10) / 10;

/** What the sampler did, in the trace's metadata (`sampler`). */
export interface SamplerSummary {
  intervalMs: number;
  /** Samples taken, and the ticks due between start and stop (one every intervalMs). */
  samples: number;
  due: number;
  /** What one sample cost (the sampler's own time), µs; null when none was taken. */
  meanSampleUs: number | null;
  maxSampleUs: number | null;
  /** Threads sampled throughout that never ran (no `cpu thread` track: their CPU time is 0); absent when none. */
  idleThreads?: number[];
}

interface ThreadSeries {
  ts: number[];
  ticks: number[];
  /** The kernel's part of ticks (stime). */
  sys: number[];
}

export class Sampler {
  readonly counters: CounterSample[] = [];
  /** Threads sampled at least twice that used no CPU tick meanwhile (set by stop()). */
  readonly idleThreads: number[] = [];
  /** Samples taken (one per tick, whatever it found). */
  samples = 0;
  /** Longest time one sample took, ns (the sampler's own cost). */
  maxSampleNs = 0;
  totalSampleNs = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  private startedNs = 0;
  private stoppedNs = 0;
  private readonly status = new BigInt64Array(4);
  private readonly meminfo = new BigInt64Array(4);
  private readonly nodeMem = new BigInt64Array(2);
  private readonly nodeIds = new Int32Array(MAX_NODES);
  private readonly numaKb = new BigInt64Array(MAX_NODES);
  private readonly tids = new Int32Array(MAX_THREADS);
  private readonly ticks = new BigInt64Array(MAX_THREADS);
  private readonly sysTicks = new BigInt64Array(MAX_THREADS);
  private readonly hz: number;
  private nodes: number[] = [];
  /** The process's (ts, ticks) samples back to the oldest one a `cpu` figure still needs. */
  private readonly cpuHistory: { ts: number; ticks: number }[] = [];
  private readonly cpuWindowNs: number;
  private lastNumaMaps = -Infinity;
  private readonly threads = new Map<number, ThreadSeries>();
  private gone = false;
  /** The script's descendants seen while sampling (children: true). */
  readonly tree: ProcTree | null;

  constructor(
    private readonly native: Native,
    private readonly opts: SamplerOptions,
  ) {
    const s = native.lib.symbols;
    this.hz = Number(s.is_clock_ticks_per_sec()) || 100;
    // /proc counts CPU time in whole ticks (10 ms at hz 100): over one 10 ms interval a busy
    // core reads 0, 100 or 200 %, and 300 % once a late timer shortens the interval. The
    // `cpu` track is therefore the trailing ≥ 10 ticks (± 10 %), one point per sample.
    this.cpuWindowNs = Math.max(opts.intervalMs * 1e6, (CPU_WINDOW_TICKS / this.hz) * 1e9);
    const n = s.is_numa_nodes(ptr(this.nodeIds), MAX_NODES);
    this.nodes = Array.from(this.nodeIds.subarray(0, Math.max(0, n)));
    this.tree = opts.children ? new ProcTree(native, opts.pid) : null;
  }

  start(): void {
    this.startedNs = this.native.monotonicNs();
    this.sample();
    this.timer = setInterval(() => this.sample(), this.opts.intervalMs);
  }

  /** Stops the timer; returns every sample, per-thread CPU tracks included. */
  stop(): CounterSample[] {
    this.stoppedNs = this.native.monotonicNs();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const [tid, series] of this.threads) {
      const first = series.ticks[0]!;
      if (series.ticks[series.ticks.length - 1]! <= first) {
        // never ran during the run: no track, but its CPU time is known (0, to a tick)
        if (series.ts.length >= 2) this.idleThreads.push(tid);
        continue;
      }
      for (let i = 1; i < series.ts.length; i++) {
        const dt = (series.ts[i]! - series.ts[i - 1]!) / 1e9;
        if (dt <= 0) continue;
        const used = (series.ticks[i]! - series.ticks[i - 1]!) / this.hz;
        const sys = (series.sys[i]! - series.sys[i - 1]!) / this.hz;
        this.counters.push({ track: `cpu thread ${tid}`, ts: series.ts[i]!, values: { utilization_pct: pct((100 * used) / dt), system_pct: pct((100 * sys) / dt) } });
      }
    }
    this.threads.clear();
    return this.counters;
  }

  summary(): SamplerSummary {
    const intervalNs = this.opts.intervalMs * 1e6;
    const ran = this.startedNs > 0 && this.stoppedNs >= this.startedNs;
    const us = (ns: number) => Math.round(ns / 100) / 10;
    return {
      intervalMs: this.opts.intervalMs,
      samples: this.samples,
      due: ran ? Math.floor((this.stoppedNs - this.startedNs) / intervalNs) + 1 : this.samples,
      meanSampleUs: this.samples > 0 ? us(this.totalSampleNs / this.samples) : null,
      maxSampleUs: this.samples > 0 ? us(this.maxSampleNs) : null,
      ...(this.idleThreads.length ? { idleThreads: [...this.idleThreads].sort((a, b) => a - b) } : {}),
    };
  }

  /** One sample of every track; public so a test (or the end of a run) can force one. */
  sample(): void {
    if (this.gone) return;
    const s = this.native.lib.symbols;
    const t0 = this.native.monotonicNs();
    const pid = this.opts.pid;

    const mem: Record<string, number> = {};
    if (s.is_proc_status(pid, ptr(this.status)) === 0) {
      const [rss, threads, swap] = [Number(this.status[0]), Number(this.status[1]), Number(this.status[2])];
      if (rss >= 0) mem.rss_mb = mb(rss);
      if (threads >= 0) mem.threads = threads;
      if (swap >= 0) mem.swap_mb = mb(swap);
    } else {
      // The process is gone (or /proc hides it): nothing more to sample from it.
      this.gone = true;
    }
    if (s.is_meminfo(ptr(this.meminfo)) === 0) {
      const [, avail, swapTotal, swapFree] = Array.from(this.meminfo, Number);
      if (avail! >= 0) mem.mem_available_mb = mb(avail!);
      if (swapTotal! >= 0 && swapFree! >= 0) mem.swap_used_mb = mb(swapTotal! - swapFree!);
    }
    if (Object.keys(mem).length) this.counters.push({ track: "memory", ts: t0, values: mem });
    if (this.gone) return;

    const ticks = Number(s.is_proc_cpu_ticks(pid));
    if (ticks >= 0) {
      const h = this.cpuHistory;
      while (h.length > 1 && t0 - h[1]!.ts >= this.cpuWindowNs) h.shift();
      if (h.length && t0 - h[0]!.ts >= this.cpuWindowNs) {
        const used = (ticks - h[0]!.ticks) / this.hz;
        this.counters.push({ track: "cpu", ts: t0, values: { utilization_pct: pct((100 * used) / ((t0 - h[0]!.ts) / 1e9)) } });
      }
      h.push({ ts: t0, ticks });
    }
    this.tree?.update(t0);
    for (const p of this.tree ? this.tree.pids() : [pid]) {
      const nt = s.is_proc_thread_cpu(p, ptr(this.tids), ptr(this.ticks), ptr(this.sysTicks), MAX_THREADS);
      for (let i = 0; i < nt; i++) {
        const tid = this.tids[i]!;
        let series = this.threads.get(tid);
        if (!series) this.threads.set(tid, (series = { ts: [], ticks: [], sys: [] }));
        series.ts.push(t0);
        series.ticks.push(Number(this.ticks[i]));
        series.sys.push(Number(this.sysTicks[i]));
      }
    }

    let perNode: number[] | null = null;
    if (this.nodes.length && t0 - this.lastNumaMaps >= this.opts.numaMapsIntervalMs * 1e6) {
      this.lastNumaMaps = t0;
      const n = s.is_proc_numa_maps(pid, ptr(this.numaKb), MAX_NODES);
      if (n >= 0) perNode = Array.from(this.numaKb, Number);
    }
    for (const node of this.nodes) {
      const values: Record<string, number> = {};
      if (s.is_numa_node_meminfo(node, ptr(this.nodeMem)) === 0) {
        const [total, free] = [Number(this.nodeMem[0]), Number(this.nodeMem[1])];
        if (free >= 0) values.free_mb = mb(free);
        if (total >= 0) values.total_mb = mb(total);
      }
      if (perNode && node < MAX_NODES) values.process_mb = mb(perNode[node] ?? 0);
      if (Object.keys(values).length) this.counters.push({ track: `numa node ${node}`, ts: t0, values });
    }
    this.samples++;
    const took = this.native.monotonicNs() - t0;
    this.totalSampleNs += took;
    if (took > this.maxSampleNs) this.maxSampleNs = took;
  }
}

/**
 * A sampler that took less than half the samples due (each sample slower than the interval, e.g.
 * numa_maps of a process with a huge RSS, or a starved parent) makes coarser tracks than asked:
 * said in one warning. Null when it kept up (or ran for under ten intervals).
 */
export function samplerWarning(s: SamplerSummary): string | null {
  if (s.due < 10 || s.samples >= s.due / 2) return null;
  const slowest = s.maxSampleUs === null ? "" : `; the slowest took ${(s.maxSampleUs / 1000).toFixed(1)} ms`;
  return `the /proc sampler took ${s.samples} samples where ${s.due} were due (every ${s.intervalMs} ms${slowest}): the memory, CPU and NUMA tracks are coarser than asked; raise --sample-interval-ms or --numa-maps-interval-ms`;
}

/** The NUMA node a PCI device (a GPU's bus id) sits on, when sysfs says; undefined otherwise. */
export function pciNumaNode(native: Native, busId: string): number | undefined {
  const n = native.lib.symbols.is_pci_numa_node(ptr(new TextEncoder().encode(`${busId}\0`)));
  return n >= 0 ? n : undefined;
}
