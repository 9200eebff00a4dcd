// The metric catalogue: every figure an expression can read, with its CEL type, unit, meaning and
// whether it may be absent. One source for three things: the CEL environment that type-checks
// user expressions (src/expr/env.ts), the values bound at evaluation (src/expr/values.ts) and
// docs/metrics.md (src/expr/docs.ts; a test fails when they diverge).
//
// Two catalogues share the object types' shape: REPORT_METRICS (custom rules read one report) and
// DIFF_METRICS (`diff --fail-if` reads one comparison). Names follow the JSON contracts
// (docs/report-json.md, docs/diff.md) so a figure has one name everywhere.

export type Scalar = "double" | "int" | "bool" | "string";
/** A field's type: a scalar, another object type by name, or a list / string-keyed map of either. */
export type FieldType = Scalar | { object: string } | { list: Scalar | { object: string } } | { map: Scalar | { object: string } };

export interface Field {
  name: string;
  type: FieldType;
  /** ms, %, bytes, µs, MB, GB/s, count… ("" when none). */
  unit: string;
  meaning: string;
  /**
   * When the figure is absent (CEL `has()` is false), or undefined when it is always present. A
   * top-level object with a note is bound empty instead (every figure under it absent).
   */
  absent?: string;
}

export interface ObjectType {
  name: string;
  doc: string;
  fields: Field[];
}

export interface Catalogue {
  /** Heading in docs/metrics.md. */
  title: string;
  /** Where the catalogue is used, for the docs. */
  usedBy: string;
  /** The top-level variables. */
  variables: Field[];
  types: ObjectType[];
}

const obj = (name: string): { object: string } => ({ object: name });
const NO_GPU = "the trace has no GPU activity";

const f = (name: string, type: FieldType, unit: string, meaning: string, absent?: string): Field => (absent === undefined ? { name, type, unit, meaning } : { name, type, unit, meaning, absent });

const COPY_FIELDS: Field[] = [
  f("count", "int", "", "copies"),
  f("bytes", "int", "bytes", "bytes moved"),
  f("ms", "double", "ms", "sum of the copies' durations"),
  f("gbps", "double", "GB/s", "bytes / time over the copies of known size (1 GB = 1e9 bytes)", "no copy of known size"),
  f("pageable_count", "int", "", "copies with a pageable host side"),
  f("pinned_count", "int", "", "copies with a pinned host side"),
  f("sync_count", "int", "", "copies during which the CPU waited"),
  f("pageable_bytes", "int", "bytes", "bytes of the pageable copies", "report from before the field existed"),
  f("pageable_ms", "double", "ms", "time of the pageable copies", "report from before the field existed"),
  f("sync_blocked_ms", "double", "ms", "CPU time blocked in synchronous copies", "report from before the field existed"),
];

/** What a custom rule (`.inferscope_rules.yaml`, `when:`) reads: one report. */
export const REPORT_METRICS: Catalogue = {
  title: "Report metrics (custom rules)",
  usedBy: "`when`, `title` placeholders and `estimated_saving_ms` in `.inferscope_rules.yaml`",
  variables: [
    f("gpu", obj("Gpu"), "", "GPU time over all GPU ops (docs/analysis.md, GPU time); without GPU activity `gpu` is empty and every figure under it absent: guard with `has(gpu.utilization_pct)`", NO_GPU),
    f("cpu", obj("Cpu"), "", "CPU threads, hot functions, memory and NUMA"),
    f("scopes", { map: obj("Scope") }, "", "latency per scope, by scope name: `scopes[\"step\"].p95_ms` or `scopes.step.p95_ms`; `\"step\" in scopes` tests for one"),
    f("findings", { list: obj("Finding") }, "", "the built-in rules' findings (after `disable:` and `thresholds:`), so a rule can combine them: `findings.exists(f, f.rule == \"gpu_idle\")`"),
    f("bottleneck", obj("Bottleneck"), "", "the classification"),
    f("source", obj("Source"), "", "the analyzed trace"),
  ],
  types: [
    {
      name: "Gpu",
      doc: "`gpu`",
      fields: [
        f("window_ms", "double", "ms", "last GPU op end − first GPU op start"),
        f("busy_ms", "double", "ms", "union of all GPU op intervals"),
        f("utilization_pct", "double", "%", "busy / window × 100"),
        f("compute_ms", "double", "ms", "time with ≥ 1 kernel or memset running", "report from before the field existed"),
        f("transfer_only_ms", "double", "ms", "time with only copies running", "report from before the field existed"),
        f("idle", obj("GpuIdle"), "", "idle time and its split"),
        f("kernels", obj("Kernels"), "", "kernel statistics"),
        f("memcpy", obj("Memcpy"), "", "copies by direction"),
        f("memset", obj("Memset"), "", "memsets"),
        f("syncs", obj("Syncs"), "", "CPU–GPU synchronizations"),
      ],
    },
    {
      name: "GpuIdle",
      doc: "`gpu.idle`",
      fields: [
        f("total_ms", "double", "ms", "window − busy"),
        f("host_wait_ms", "double", "ms", "idle because the next op's launch call came late (the CPU was late)"),
        f("kernel_wait_ms", "double", "ms", "short gaps between already-queued ops (< 10 µs)"),
        f("sync_other_ms", "double", "ms", "the rest of the idle time"),
        f("gaps", "int", "", "idle gaps", "report from before the field existed"),
        f("launches_known", "bool", "", "whether launch calls were known (else host-wait cannot be told apart)", "report from before the field existed"),
        f("after_sync_ms", "double", "ms", "host-wait time that followed a CPU–GPU sync (queue drained)", "report from before the field existed"),
      ],
    },
    {
      name: "Kernels",
      doc: "`gpu.kernels`",
      fields: [
        f("count", "int", "", "kernels"),
        f("total_ms", "double", "ms", "sum of kernel durations"),
        f("short_count", "int", "", "kernels shorter than 10 µs"),
        f("short_pct", "double", "%", "short_count / count × 100"),
        f("launch_api_ms", "double", "ms", "time in launch calls", "the trace has no CUDA API calls"),
        f("launch_calls", "int", "", "launch and graph-launch calls", "report from before the field existed"),
        f("graph_launched_count", "int", "", "kernels launched from CUDA graphs", "report from before the field existed"),
        f("mean_us", "double", "µs", "mean kernel duration", "report from before the field existed"),
        f("top", { list: obj("Kernel") }, "", "kernels by total time, the report's top N"),
        f("by_class", { list: obj("KernelClass") }, "", "time per kernel class (GEMM, attention, elementwise, …), by time: `gpu.kernels.by_class.exists(c, c.class == \"gemm\" && c.pct_of_busy > 80.0)`", "report from before the field existed"),
      ],
    },
    {
      name: "KernelClass",
      doc: "an element of `gpu.kernels.by_class`",
      fields: [
        f("class", "string", "", "gemm, conv, attention, elementwise, reduction, normalization, copy, triton, communication, memcpy, memset or other"),
        f("count", "int", "", "GPU ops of the class"),
        f("total_ms", "double", "ms", "sum of their durations"),
        f("pct_of_busy", "double", "%", "total / GPU busy × 100"),
        f("top_kernel", "string", "", "the kernel with the most time in the class"),
      ],
    },
    {
      name: "Kernel",
      doc: "an element of `gpu.kernels.top`",
      fields: [
        f("name", "string", "", "kernel name"),
        f("count", "int", "", "launches"),
        f("total_ms", "double", "ms", "sum of durations"),
        f("mean_us", "double", "µs", "mean duration"),
        f("max_us", "double", "µs", "longest"),
        f("pct_of_busy", "double", "%", "total / GPU busy × 100"),
        f("function", "string", "", "the launching code", "launcher unknown"),
        f("scope", "string", "", "the scope it was launched in", "launched outside any scope"),
      ],
    },
    {
      name: "Memcpy",
      doc: "`gpu.memcpy`",
      fields: [
        f("h2d", obj("Copy"), "", "host → device"),
        f("d2h", obj("Copy"), "", "device → host"),
        f("d2d", obj("Copy"), "", "device → device and peer"),
        f("other", obj("Copy"), "", "host → host and unknown"),
      ],
    },
    { name: "Copy", doc: "`gpu.memcpy.h2d` (and d2h, d2d, other)", fields: COPY_FIELDS },
    {
      name: "Memset",
      doc: "`gpu.memset`",
      fields: [f("count", "int", "", "memsets"), f("bytes", "int", "bytes", "bytes set"), f("ms", "double", "ms", "sum of durations")],
    },
    {
      name: "Syncs",
      doc: "`gpu.syncs`",
      fields: [f("count", "int", "", "synchronization occasions"), f("blocked_ms", "double", "ms", "CPU time blocked in them (union per thread)")],
    },
    {
      name: "Cpu",
      doc: "`cpu`",
      fields: [
        f("threads", { list: obj("Thread") }, "", "every thread with spans, API calls or syncs"),
        f("top_functions", { list: obj("HotFunction") }, "", "functions by self time, the report's top N", "the trace has no Python calls or torch ops"),
        f("memory", obj("Memory"), "", "memory samples"),
        f("numa", obj("Numa"), "", "NUMA placement"),
      ],
    },
    {
      name: "Thread",
      doc: "an element of `cpu.threads`",
      fields: [
        f("tid", "int", "", "thread id"),
        f("name", "string", "", "thread name"),
        f("busy_ms", "double", "ms", "union of its spans, API calls and sync waits"),
        f("python_ms", "double", "ms", "union of its Python spans", "the trace has no Python spans"),
        f("spans", "int", "", "spans on the thread"),
        f("blocked_ms", "double", "ms", "CPU time blocked waiting for the GPU", "report from before the field existed"),
      ],
    },
    {
      name: "HotFunction",
      doc: "an element of `cpu.top_functions`",
      fields: [
        f("function", "string", "", "Python function or torch op"),
        f("kind", "string", "", "\"python\" or \"cpu_op\""),
        f("calls", "int", "", "calls, recursive ones included"),
        f("self_ms", "double", "ms", "while it was the innermost traced function"),
        f("total_ms", "double", "ms", "while it was on the stack"),
        f("pct_of_busy", "double", "%", "self_ms / Σ threads' busy_ms × 100"),
      ],
    },
    {
      name: "Memory",
      doc: "`cpu.memory`",
      fields: [
        f("peak_rss_mb", "double", "MB", "largest resident set", "no memory samples"),
        f("min_available_mb", "double", "MB", "least available system memory", "no memory samples"),
        f("swap_used_mb", "double", "MB", "largest swap use", "no memory samples"),
      ],
    },
    {
      name: "Numa",
      doc: "`cpu.numa`",
      fields: [
        f("gpu_node", "int", "", "the GPU's NUMA node", "unknown"),
        f("remote_pct", "double", "%", "process memory on other nodes than the GPU's", "no NUMA samples"),
      ],
    },
    {
      name: "Scope",
      doc: "a value of `scopes`",
      fields: [
        f("name", "string", "", "scope name"),
        f("count", "int", "", "instances"),
        f("mean_ms", "double", "ms", "mean duration"),
        f("p50_ms", "double", "ms", "median (nearest rank)"),
        f("p95_ms", "double", "ms", "95th percentile (nearest rank)"),
        f("p99_ms", "double", "ms", "99th percentile (nearest rank)"),
        f("max_ms", "double", "ms", "longest instance"),
        f("split", obj("ScopeSplit"), "", "what the GPU did during an instance, mean", NO_GPU),
      ],
    },
    {
      name: "ScopeSplit",
      doc: "`scopes[name].split`",
      fields: [
        f("compute_ms", "double", "ms", "GPU computing"),
        f("transfer_ms", "double", "ms", "GPU only copying"),
        f("idle_ms", "double", "ms", "GPU idle"),
      ],
    },
    {
      name: "Finding",
      doc: "an element of `findings`",
      fields: [
        f("rule", "string", "", "rule id, e.g. \"gpu_idle\""),
        f("title", "string", "", "one-line title"),
        f("severity", "string", "", "\"high\", \"medium\" or \"low\""),
        f("confidence", "double", "", "0 … 1"),
        f("impact_ms", "double", "ms", "time at stake"),
        f("estimated_saving_ms", "double", "ms", "the finding's estimated saving (findings are ranked by it): per step of the step scope, or over the window", "the finding has no estimate, or it is not estimated"),
      ],
    },
    {
      name: "Bottleneck",
      doc: "`bottleneck`",
      fields: [
        f("classification", "string", "", "cpu_bound, gpu_bound, memory_bound, balanced or unknown"),
        f("confidence", "double", "", "0 … 1"),
      ],
    },
    {
      name: "Source",
      doc: "`source`",
      fields: [f("path", "string", "", "the trace's path"), f("format", "string", "", "\"inferscope\" or \"kineto\""), f("events", "int", "", "events read")],
    },
  ],
};

const CHANGE_ABSENT = "absent on either side";

/** What `inferscope diff --fail-if` reads: one comparison (the diff's JSON, docs/diff.md). */
export const DIFF_METRICS: Catalogue = {
  title: "Diff metrics (`diff --fail-if`)",
  usedBy: "`inferscope diff BASE NEW --fail-if EXPR`",
  variables: [
    f("comparable", "bool", "", "false when the two traces share no kernel and no function (different programs; a shared scope name alone does not count unless neither has kernels or functions)"),
    f("per", "string", "", "\"step\" when both traces have the same step scope (figures per instance), else \"window\""),
    f("scopes", { map: obj("ScopeDiff") }, "", "scopes present in both, by name: `scopes.step.p50_change_pct`"),
    f("gpu", obj("GpuDiff"), "", "GPU figures, base and new (empty, every figure under it absent, when neither trace has GPU activity)", "neither trace has GPU activity"),
    f("kernels", { list: obj("KernelDiff") }, "", "kernels by |Δ time| (new and vanished ones included)"),
    f("functions", { list: obj("FunctionDiff") }, "", "hot functions by |Δ self time|"),
    f("findings", obj("FindingsDiff"), "", "findings resolved, new and persisting"),
    f("classification", obj("ClassificationDiff"), "", "bottleneck classification, base and new"),
  ],
  types: [
    {
      name: "Change",
      doc: "a compared figure",
      fields: [
        f("base", "double", "", "value in BASE", "not measured in BASE"),
        f("new", "double", "", "value in NEW", "not measured in NEW"),
        f("change", "double", "", "new − base", CHANGE_ABSENT),
        f("change_pct", "double", "%", "(new − base) / base × 100", `${CHANGE_ABSENT}, or base is 0`),
      ],
    },
    {
      name: "ScopeDiff",
      doc: "a value of `scopes`",
      fields: [
        f("name", "string", "", "scope name"),
        f("count", obj("Change"), "", "instances"),
        f("mean_ms", obj("Change"), "ms", "mean duration"),
        f("p50_ms", obj("Change"), "ms", "median"),
        f("p95_ms", obj("Change"), "ms", "95th percentile"),
        f("p99_ms", obj("Change"), "ms", "99th percentile"),
        f("p50_change_pct", "double", "%", "change of the median, %"),
        f("ci_low_pct", "double", "%", "95 % bootstrap CI of the median's change, low end", "too few instances, or a report without instance durations"),
        f("ci_high_pct", "double", "%", "… high end", "as ci_low_pct"),
        f("significant", "bool", "", "the CI excludes 0", "as ci_low_pct"),
      ],
    },
    {
      name: "GpuDiff",
      doc: "`gpu` (per step instance when `per == \"step\"`, else per window; percentages as they are)",
      fields: [
        f("window_ms", obj("Change"), "ms", "GPU window"),
        f("busy_ms", obj("Change"), "ms", "GPU busy"),
        f("utilization_pct", obj("Change"), "%", "busy / window × 100"),
        f("idle_ms", obj("Change"), "ms", "idle"),
        f("host_wait_ms", obj("Change"), "ms", "host-wait idle"),
        f("kernel_wait_ms", obj("Change"), "ms", "kernel-wait idle (short gaps between queued ops)"),
        f("sync_other_ms", obj("Change"), "ms", "sync/other idle"),
        f("kernel_count", obj("Change"), "", "kernels"),
        f("kernel_ms", obj("Change"), "ms", "kernel time"),
        f("launch_calls", obj("Change"), "", "launch calls"),
        f("syncs", obj("Change"), "", "sync occasions"),
        f("sync_blocked_ms", obj("Change"), "ms", "CPU blocked in syncs"),
        f("h2d_bytes", obj("Change"), "bytes", "host → device bytes"),
        f("d2h_bytes", obj("Change"), "bytes", "device → host bytes"),
        f("d2d_bytes", obj("Change"), "bytes", "device → device bytes"),
        f("copies", obj("Change"), "", "copies, all directions"),
        f("copy_ms", obj("Change"), "ms", "copy time, all directions"),
        f("pageable_pct", obj("Change"), "%", "share of copies with a pageable host side"),
      ],
    },
    {
      name: "KernelDiff",
      doc: "an element of `kernels`",
      fields: [
        f("name", "string", "", "kernel name"),
        f("status", "string", "", "\"changed\", \"new\" or \"vanished\""),
        f("count", obj("Change"), "", "launches"),
        f("total_ms", obj("Change"), "ms", "time"),
        f("mean_us", obj("Change"), "µs", "mean duration"),
      ],
    },
    {
      name: "FunctionDiff",
      doc: "an element of `functions`",
      fields: [
        f("function", "string", "", "Python function or torch op"),
        f("status", "string", "", "\"changed\", \"new\" or \"vanished\""),
        f("self_ms", obj("Change"), "ms", "self time"),
        f("calls", obj("Change"), "", "calls"),
      ],
    },
    {
      name: "FindingsDiff",
      doc: "`findings`",
      fields: [
        f("resolved", { list: "string" }, "", "rule ids in BASE only"),
        f("new", { list: "string" }, "", "rule ids in NEW only"),
        f("persisting", { list: "string" }, "", "rule ids in both"),
      ],
    },
    {
      name: "ClassificationDiff",
      doc: "`classification`",
      fields: [f("base", "string", "", "BASE's classification"), f("new", "string", "", "NEW's classification"), f("changed", "bool", "", "they differ")],
    },
  ],
};

export function typeName(t: FieldType): string {
  if (typeof t === "string") return t;
  if ("object" in t) return t.object;
  if ("list" in t) return `list<${typeName(t.list)}>`;
  return `map<string, ${typeName(t.map)}>`;
}

export function objectType(cat: Catalogue, name: string): ObjectType {
  const t = cat.types.find((x) => x.name === name);
  if (!t) throw new Error(`metric catalogue: unknown type ${name}`);
  return t;
}
