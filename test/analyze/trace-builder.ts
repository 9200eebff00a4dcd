// Small traces built in code for the rule and saving tests (hand-made for unit tests: not
// recordings, not labelled cases). Times are ns; US and MS help write them.
import { emptyTrace, type ApiCall, type CpuSpan, type GpuOp, type Trace } from "../../src/trace/model.ts";

export const US = 1000;
export const MS = 1_000_000;
export const PID = 100;
export const MAIN = 101;

export class Builder {
  readonly t: Trace = emptyTrace("inferscope");
  private corr = 1;
  constructor() {
    this.t.meta.clock = "CLOCK_MONOTONIC";
    this.t.threadNames.set(MAIN, "MainThread");
  }
  span(cat: CpuSpan["cat"], name: string, start: number, end: number, extra: Partial<CpuSpan> = {}, tid = MAIN): this {
    this.t.spans.push({ cat, name, start, end, pid: PID, tid, ...extra });
    return this;
  }
  /** A launch call at `at` (3 µs) and its GPU op at [gs, ge]. */
  op(kind: GpuOp["kind"], name: string, at: number, gs: number, ge: number, extra: Partial<GpuOp> = {}, call: Partial<ApiCall> = {}, tid = MAIN): this {
    const correlation = this.corr++;
    const apiName = call.name ?? (kind === "kernel" ? "cudaLaunchKernel" : kind === "memcpy" ? "cudaMemcpyAsync" : "cudaMemsetAsync");
    this.t.api.push({ api: "runtime", kind: kind === "kernel" ? "launch" : kind, name: apiName, start: at, end: at + 3 * US, pid: PID, tid, correlation, ...call });
    this.t.gpu.push({ kind, name, start: gs, end: ge, device: 0, stream: 7, correlation, ...extra });
    return this;
  }
  counter(track: string, ts: number, values: Record<string, number>): this {
    this.t.counters.push({ track, ts, values });
    return this;
  }
}

/**
 * 10 steps of 1 ms: `serve` [0, 900] µs on the main thread and `decode_jpeg` [50, 950] µs on a
 * second thread ("decoder"), both in Python; a kernel launched at 850 runs [860, 960]; with
 * `cpuPct`, one process-CPU sample per step (100 = one core).
 */
export function twoThreads(cpuPct: number | null = 101): Trace {
  const b = new Builder();
  b.t.threadNames.set(202, "decoder");
  for (let k = 0; k < 10; k++) {
    const t0 = k * MS;
    b.span("python", "serve", t0, t0 + 900 * US, { file: "srv.py", line: 3 });
    b.span("python", "decode_jpeg", t0 + 50 * US, t0 + 950 * US, { file: "img.py", line: 5 }, 202);
    b.op("kernel", "k", t0 + 850 * US, t0 + 860 * US, t0 + 960 * US);
    if (cpuPct !== null) b.counter("cpu", t0, { utilization_pct: cpuPct });
  }
  return b.t;
}
