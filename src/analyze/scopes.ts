// Per-scope latency statistics and the GPU compute / transfer / idle split of each instance
// (docs/analysis.md, "Scopes"). A scope is an InferScope `scope("name")` or a Kineto
// record_function annotation; annotations named `NAME#N` (torch's `ProfilerStep#3`, a
// `record_function(f"step#{i}")`) are instances of one scope `NAME`.
import type { CpuSpan, Trace } from "../trace/model.ts";
import type { ScopeStat } from "./report-types.ts";
import { latencyStat } from "./latency.ts";
import type { GpuTime } from "./gpu.ts";
import { isScopeSpan, scopeName } from "../merge/stacks.ts";
import { mapF64 } from "../core/typed-arrays.ts";

/** Most instance durations a report keeps per scope (an evenly spaced sample beyond). */
export const MAX_DURATIONS = 10_000;

/** Instance durations in time order, ms rounded to ns: every one, or an evenly spaced sample. */
function durationsMs(list: CpuSpan[]): number[] {
  const n = list.length;
  const step = n > MAX_DURATIONS ? n / MAX_DURATIONS : 1;
  const out: number[] = [];
  for (let i = 0; i < Math.min(n, MAX_DURATIONS); i++) {
    const s = list[Math.floor(i * step)]!;
    out.push((s.end - s.start) / 1e6);
  }
  return out;
}

export interface ScopeMetrics {
  stats: ScopeStat[];
  /** instances per scope name, in time order */
  instances: Map<string, CpuSpan[]>;
}

export function scopeMetrics(trace: Trace, gpu: GpuTime | null): ScopeMetrics {
  const instances = new Map<string, CpuSpan[]>();
  for (const s of trace.spans) {
    if (!isScopeSpan(s)) continue;
    const name = scopeName(s.name);
    let a = instances.get(name);
    if (!a) {
      a = [];
      instances.set(name, a);
    }
    a.push(s);
  }
  const rows: { total: number; stat: ScopeStat }[] = [];
  for (const [name, list] of instances) {
    const durs = mapF64(list, (s) => s.end - s.start).sort();
    let total = 0;
    for (const d of durs) total += d;
    const n = durs.length;
    let split: ScopeStat["split"] = null;
    if (gpu) {
      let comp = 0;
      let transfer = 0;
      let idle = 0;
      for (const s of list) {
        const busy = gpu.all.covered(s.start, s.end);
        const c = gpu.compute.covered(s.start, s.end);
        comp += c;
        transfer += busy - c;
        idle += s.end - s.start - busy;
      }
      split = { compute_ms: comp / n / 1e6, transfer_ms: transfer / n / 1e6, idle_ms: idle / n / 1e6 };
    }
    rows.push({
      total,
      stat: {
        name,
        ...latencyStat(durs),
        split,
        durations_ms: durationsMs(list),
      },
    });
  }
  rows.sort((a, b) => b.total - a.total || a.stat.name.localeCompare(b.stat.name));
  return { stats: rows.map((r) => r.stat), instances };
}
