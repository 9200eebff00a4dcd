// The per-layer metrics (modules.ts) as the report's `modules` section (docs/report-json.md).
import type { ModuleMetrics } from "./modules.ts";
import type { ModulesSection } from "./report-types.ts";

const nsToMs = (ns: number): number => ns / 1e6;
const share = (part: number, whole: number): number => (whole > 0 ? (part / whole) * 100 : 0);

/** `hasGpu`: the trace has GPU ops (else the GPU columns are null: not measured). */
export function modulesReport(m: ModuleMetrics, top: number, hasGpu: boolean): ModulesSection {
  const step = m.step.ns;
  return {
    count: m.modules.length,
    in_modules_ms: nsToMs(m.inModulesNs),
    outside_step_ms: nsToMs(m.outsideStepNs),
    step: { scope: m.step.scope, count: m.step.count, ms: nsToMs(step) },
    sort: m.sortBy,
    top: m.modules.slice(0, top).map((s) => {
      const row: ModulesSection["top"][number] = {
        path: s.path,
        calls: s.calls,
        self_ms: nsToMs(s.selfNs),
        total_ms: nsToMs(s.totalNs),
        pct_of_step: share(s.totalNs, step),
        kernel_ms: hasGpu ? nsToMs(s.kernelNs) : null,
        kernel_self_ms: hasGpu ? nsToMs(s.kernelSelfNs) : null,
        pct_of_kernels: hasGpu ? share(s.kernelNs, m.kernelAllNs) : null,
        kernels: hasGpu ? s.kernels : null,
        copies: hasGpu ? { count: s.copies.count, bytes: s.copies.bytes, ms: nsToMs(s.copies.ns) } : null,
        syncs: hasGpu ? { count: s.syncs.count, blocked_ms: nsToMs(s.syncs.ns) } : null,
        top_kernel: s.topKernel ? { name: s.topKernel.name, ms: nsToMs(s.topKernel.ns) } : null,
      };
      if (s.type !== undefined) row.type = s.type;
      return row;
    }),
    types: m.types.slice(0, top).map((c) => ({
      type: c.type,
      instances: c.instances,
      calls: c.calls,
      self_ms: nsToMs(c.selfNs),
      total_ms: nsToMs(c.totalNs),
      pct_of_step: share(c.totalNs, step),
      kernel_ms: hasGpu ? nsToMs(c.kernelNs) : null,
      spread: { basis: c.spread.basis, min_ms: nsToMs(c.spread.minNs), median_ms: nsToMs(c.spread.medianNs), max_ms: nsToMs(c.spread.maxNs), slowest: c.spread.slowest },
      repeats: c.repeats && { instances: c.repeats.instances, basis: c.repeats.basis, min_ms: nsToMs(c.repeats.minNs), median_ms: nsToMs(c.repeats.medianNs), max_ms: nsToMs(c.repeats.maxNs), slowest: c.repeats.slowest },
    })),
  };
}
