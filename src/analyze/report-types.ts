// The analysis result: the JSON contract `inferscope.report/v1` (docs/report-json.md) and the
// input of every report template. Times in the contract are milliseconds (floats), bytes are
// integers. A metric that was not measured is `null`, never 0.

/** The contract's name and version, the report's `schema`. */
export const REPORT_SCHEMA = "inferscope.report/v1";

export type Classification = "cpu_bound" | "gpu_bound" | "memory_bound" | "wait_bound" | "balanced" | "unknown";
export type Severity = "high" | "medium" | "low";

export interface Finding {
  /** Rule id, e.g. "gpu_idle", "pageable_copies", "launch_bound". */
  rule: string;
  title: string;
  severity: Severity;
  /** 0..1 */
  confidence: number;
  /** Time at stake, ms: used to rank findings by impact. */
  impact_ms: number;
  /** The numbers the rule used. */
  evidence: Record<string, unknown>;
  /** At least two concrete suggestions; they name the code involved where known. */
  suggestions: string[];
  /** Extension: "user" for a finding of a user rule (.inferscope_rules.yaml); absent for built-in rules. */
  source?: "user";
  /** Extension: what fixing it would save at most (docs/analysis.md, "Estimated savings"); absent in older reports. */
  estimated_saving?: EstimatedSaving;
}

/** A finding's `estimated_saving`. */
export interface EstimatedSaving {
  /** ms saved per instance of the step scope (per = "step") or over the window; null: not estimated. */
  ms: number | null;
  /** Always present in reports from the analysis (null when not estimated); a user rule's raw figure lacks it until priced. */
  pct_of_window?: number | null;
  per?: "step" | "window";
  /** The assumption in one sentence; "not estimated: …" with the reason when ms is null. */
  basis: string;
  /** The step scope and its number of instances (per = "step"). */
  scope?: string;
  steps?: number;
  /** The saving over the whole window (what the sum over findings is bounded by). */
  window_ms?: number;
  /** Present when other findings already count part of this one's time: its value on its own, and those findings' rules. */
  standalone_ms?: number;
  overlaps?: string[];
}

/** One row of `gpu.kernels.by_class` (an extension). */
export interface KernelClassStat {
  /** gemm, conv, attention, elementwise, reduction, normalization, copy, triton, communication, memcpy, memset, other */
  class: string;
  label: string;
  count: number;
  /** Sum of durations (not a union). */
  total_ms: number;
  pct_of_busy: number;
  /** The kernel with the most time in the class. */
  top_kernel: string;
  top_kernel_ms: number;
}

/** One row of `gpu.kernels.gemm.by_precision` (an extension). */
export interface GemmPrecisionRow {
  /** fp32 (CUDA cores), tf32, fp16, bf16, fp8, int8, fp64, unknown */
  precision: string;
  tensor_cores: boolean;
  count: number;
  total_ms: number;
  /** Time of the GEMMs whose shapes are known, and their work. */
  measured_ms: number;
  tflop: number | null;
  achieved_tflops: number | null;
  /** The device's dense peak for that precision; null when the device or precision is not in the table. */
  peak_tflops: number | null;
  pct_of_peak: number | null;
}

export interface CodeRef {
  function: string;
  file?: string;
  line?: number;
  scope?: string;
}

export interface KernelStat extends Partial<CodeRef> {
  name: string;
  count: number;
  total_ms: number;
  mean_us: number;
  max_us: number;
  pct_of_busy: number;
}

export interface CopyStat {
  count: number;
  bytes: number;
  ms: number;
  gbps: number | null;
  pageable_count: number;
  pinned_count: number;
  sync_count: number;
  /** Extensions (analysis engine): bytes and time of the pageable copies, CPU time blocked in synchronous copies. */
  pageable_bytes?: number;
  pageable_ms?: number;
  sync_blocked_ms?: number;
}

export interface IdleAttribution extends CodeRef {
  idle_ms: number;
  pct_of_idle: number;
  /** Extensions: what the entry is, the time it was the innermost code, its share of host-wait time. */
  kind?: "python" | "cpu_op" | "scope" | "untraced";
  self_ms?: number;
  pct_of_host_wait?: number;
}

/** Count, mean and nearest-rank percentiles of durations (a scope's instances, requests' latencies). */
export interface LatencyStat {
  count: number;
  mean_ms: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
}

export interface ScopeStat extends LatencyStat {
  name: string;
  /** Mean per instance: GPU compute / transfer / GPU idle inside the scope's interval, ms. */
  split: { compute_ms: number; transfer_ms: number; idle_ms: number } | null;
  /**
   * Extension: every instance's duration in time order (an evenly spaced sample of 10 000 when
   * there are more), so that `inferscope diff` can test a change from reports alone.
   */
  durations_ms?: number[];
}

/** Where one request's time went: queue + cpu + gpu + idle = latency (null: not marked / no GPU data). */
export interface RequestBreakdown {
  id: string;
  latency_ms: number;
  queue_ms: number | null;
  cpu_ms: number | null;
  gpu_ms: number | null;
  idle_ms: number;
  tokens: number;
  ttft_ms: number | null;
}

/** Requests the program marked (src/analyze/requests.ts, docs/analysis.md "Requests"). */
export interface RequestStats {
  count: number;
  /** request.begin marks without their end (still in flight when the recording ended). */
  unfinished: number;
  tokens: number;
  latency: LatencyStat;
  ttft: LatencyStat | null;
  itl: LatencyStat | null;
  /** The slowest requests, slowest first, with their breakdown. */
  slowest: RequestBreakdown[];
}

export interface ThreadStat {
  tid: number;
  name: string;
  busy_ms: number;
  python_ms: number | null;
  spans: number;
  /** Extension: CPU time blocked waiting for the GPU (syncs, blocking copies). */
  blocked_ms?: number;
  /** Extensions: its process; busy_ms split into running and waiting in blocking builtins; CPU time the kernel counted (null: not sampled), and the part of it in the kernel: system calls, page faults (null: not sampled). */
  pid?: number;
  running_ms?: number;
  waiting_ms?: number;
  cpu_ms?: number | null;
  system_ms?: number | null;
}

/** One row of the waits table (`cpu.waits`, an extension): where a thread waited, on what. */
export interface WaitStat {
  pid: number;
  tid: number;
  thread: string;
  /** The blocking builtin. */
  call: string;
  /** What it waited for, in words. */
  on: string;
  function?: string;
  file?: string;
  line?: number;
  caller?: string;
  caller_file?: string;
  caller_line?: number;
  count: number;
  ms: number;
  /** Share of the window. */
  pct_of_window: number;
}

/** A process of the run (`processes`, an extension). */
export interface ProcessStat {
  pid: number;
  role: string;
  label: string;
  traced: boolean;
  running_ms: number;
  waiting_ms: number;
  cpu_ms: number | null;
  /** Its function with the most running self time. */
  top_function: string | null;
  /** Its GPU work in the analysis window: busy time (union of its kernels, copies and memsets) and kernel count; null when the run has no GPU data. */
  gpu_busy_ms: number | null;
  kernels: number | null;
}

/** One row of the hot-function table (`cpu.top_functions`, an extension). */
export interface HotFunctionStat {
  /** Python function (qualified name) or torch op name. */
  function: string;
  file?: string;
  line?: number;
  kind: "python" | "cpu_op";
  /** Every call, recursive ones included. */
  calls: number;
  /** Exclusive: while it was the innermost traced function on its thread. */
  self_ms: number;
  /** Inclusive: while it was on the stack; recursion counted once (outermost call). */
  total_ms: number;
  /** self_ms / Σ running time of all threads × 100 (the CPU busy time). */
  pct_of_busy: number;
  /** Extension: self time waiting in blocking builtins it called (not in self_ms). */
  wait_ms?: number;
  /** Extension: the processes it ran in, when the run has several. */
  pids?: number[];
  /** Extension: a torch op recorded with --op-shapes: its calls and self time per set of input shapes (`input_dims`: one list per input, [] for a non-tensor), the 5 with the most self time; `shape_count`: how many sets there were. */
  shapes?: { input_dims: unknown; calls: number; self_ms: number }[];
  shape_count?: number;
}

/** One row of the per-layer table (`modules.top`, an extension): an nn.Module path. */
export interface ModuleRow {
  /** Path in the model (`model.layers.3.self_attn`); an outermost module is named by its class. */
  path: string;
  /** The module's class. */
  type?: string;
  calls: number;
  /** CPU time while it was the innermost module open. */
  self_ms: number;
  /** CPU time while it was open (nested in itself: counted once). */
  total_ms: number;
  /** total_ms / modules.step.ms × 100. */
  pct_of_step: number;
  /** Kernels and memsets launched from inside it (by the launch call's stack): GPU time, the part launched while it was the innermost module, share of all kernel time, count. Null: the trace has no GPU ops. */
  kernel_ms: number | null;
  kernel_self_ms: number | null;
  pct_of_kernels: number | null;
  kernels: number | null;
  /** Copies launched from inside it; null without GPU ops. */
  copies: { count: number; bytes: number; ms: number } | null;
  /** CPU waits for the GPU that started inside it (count, summed time); null without GPU ops. */
  syncs: { count: number; blocked_ms: number } | null;
  /** The kernel with the most GPU time launched from inside it. */
  top_kernel: { name: string; ms: number } | null;
}

/** A module class with ≥ 2 instances (`modules.types`, an extension): `DecoderLayer ×12`. */
export interface ModuleTypeRow {
  type: string;
  instances: number;
  calls: number;
  self_ms: number;
  /** While an instance was open (an instance inside another of its class counted once). */
  total_ms: number;
  pct_of_step: number;
  kernel_ms: number | null;
  /** Per instance: its kernel time when the class launched kernels ("gpu"), else its total CPU time ("cpu"). */
  spread: { basis: "cpu" | "gpu"; min_ms: number; median_ms: number; max_ms: number; slowest: string };
  /** The same over the class's most uneven group of repeats (the blocks of a stack, or the same child of each); null when no two instances are repeats. */
  repeats: { instances: number; basis: "cpu" | "gpu"; min_ms: number; median_ms: number; max_ms: number; slowest: string } | null;
}

/** The per-layer breakdown (`modules`, an extension). */
export interface ModulesSection {
  /** Distinct module paths. */
  count: number;
  /** Time with at least one module open, inside the step. */
  in_modules_ms: number;
  /** Time with a module open outside the step's instances (warm-up, loading): not in the rows. */
  outside_step_ms: number;
  /** What pct_of_step is taken of: the scope holding most of the module time (all its instances), else the module time. */
  step: { scope: string | null; count: number; ms: number };
  /** Row order: CPU self time, or kernel self time when the GPU was busy ≥ 50 % of its window. */
  sort: "cpu_self" | "kernel_self";
  top: ModuleRow[];
  types: ModuleTypeRow[];
}

export interface Report {
  schema: typeof REPORT_SCHEMA;
  source: { path: string; format: "inferscope" | "kineto"; events: number };
  bottleneck: { classification: Classification; confidence: number; reason: string };
  gpu: {
    window_ms: number;
    busy_ms: number;
    utilization_pct: number;
    /** Extensions: time with ≥ 1 kernel/memset running; time with only copies running. */
    compute_ms?: number;
    transfer_only_ms?: number;
    idle: {
      total_ms: number;
      host_wait_ms: number;
      kernel_wait_ms: number;
      sync_other_ms: number;
      /** Extensions: number of gaps; whether launch calls were known; idle following a CPU–GPU sync. */
      gaps?: number;
      launches_known?: boolean;
      after_sync_ms?: number;
      /** Python functions / scopes / cpu_ops on the launching thread during host-wait gaps. */
      top: IdleAttribution[];
    };
    kernels: {
      count: number;
      total_ms: number;
      short_count: number;
      short_pct: number;
      launch_api_ms: number | null;
      /** Extensions: launch calls, kernels from CUDA graphs, mean kernel time, queue depth at launches. */
      launch_calls?: number;
      graph_launched_count?: number;
      mean_us?: number;
      queue_depth?: { mean: number; max: number } | null;
      top: KernelStat[];
      /** Extensions: time per kernel class; GEMMs by precision with achieved TFLOP/s (null without GEMMs). */
      by_class?: KernelClassStat[];
      gemm?: {
        /** The peak table's row for the device, and its source; null when the device is not in the table. */
        device: string | null;
        peak_source: string | null;
        by_precision: GemmPrecisionRow[];
        /** Why achieved TFLOP/s is not measured; null when it is. */
        not_measured: string | null;
      } | null;
    };
    memcpy: { h2d: CopyStat; d2h: CopyStat; d2d: CopyStat; other: CopyStat };
    memset: { count: number; bytes: number; ms: number };
    syncs: { count: number; blocked_ms: number; top: (CodeRef & { count: number; blocked_ms: number })[] };
    devices: { index: number; name: string }[];
  } | null;
  cpu: {
    threads: ThreadStat[];
    /**
     * Extension: the functions with the most self time (Python calls, torch ops), all threads
     * together; null when the trace has no Python calls or torch ops (not measured). Absent in
     * reports from before the extension.
     */
    top_functions?: HotFunctionStat[] | null;
    /** Extension: where threads waited, longest first; null when the trace records no waits. */
    waits?: WaitStat[] | null;
    memory: {
      peak_rss_mb: number | null;
      min_available_mb: number | null;
      swap_used_mb: number | null;
    };
    numa: {
      gpu_node: number | null;
      pages_mb_by_node: Record<string, number> | null;
      remote_pct: number | null;
    };
  };
  scopes: ScopeStat[];
  /** Extension: present when the trace marks requests. */
  requests?: RequestStats;
  /** Extension: per nn.Module path and class; null when the trace has no module calls. Absent in reports from before the extension. */
  modules?: ModulesSection | null;
  findings: Finding[];
  /** Extension: the span the diagnosis covers and the start-up before it (InferScope traces). */
  window?: {
    mode: "auto" | "all" | "mark" | "scope";
    how: string;
    /** Relative to the start of the run (the process's start when known). */
    start_ms: number;
    end_ms: number;
    duration_ms: number;
    run_ms: number;
    /** Imports inside the window (lazy imports), not counted among the hot functions; absent when none. */
    imports_ms?: number;
    imports?: { module: string; ms: number }[];
  } | null;
  startup?: {
    total_ms: number;
    interpreter_ms: number | null;
    imports_ms: number;
    other_ms: number;
    pct_of_run: number;
    top_importers: { module: string; ms: number }[];
    /** Extension: the run's Python command was a launcher script (pyenv/asdf shim, wrapper) in front of the interpreter; absent otherwise. */
    launcher?: { command: string; executable: string; start_ms: number; direct_start_ms: number | null };
  } | null;
  /** Extension: the processes of the run (the script and its traced children). */
  processes?: ProcessStat[];
  /** Extension: mark_event instants in the window (the first `top` × 5). */
  marks?: { name: string; at_ms: number; pid: number; tid: number; thread: string; args?: Record<string, unknown> }[];
  clock: { source: string; error_bound_us: number | null };
  dropped: Record<string, number>;
  collection: Record<string, unknown>;
  warnings: string[];
}
