// The in-memory event model every reader produces and every consumer (merge, analyze, report,
// Chrome-trace writer) reads. Times are integer nanoseconds; for InferScope traces they are
// CLOCK_MONOTONIC, for Kineto traces they are Kineto's clock. Only the writer converts to µs.

export type TraceFormat = "inferscope" | "kineto";

/**
 * One CPU-side interval on a thread: a Python call, a user scope, a torch cpu_op, an nn.Module
 * call, a wait in a blocking builtin (time.sleep, lock.acquire, select/epoll, a pipe read …), …
 */
export interface CpuSpan {
  cat: "python" | "scope" | "cpu_op" | "user_annotation" | "module" | "wait" | "other";
  name: string;
  start: number;
  end: number;
  pid: number;
  tid: number;
  /** Source location where known (Python calls). */
  file?: string;
  line?: number;
  /** User attributes of a scope, or extra args. */
  args?: Record<string, unknown>;
  /** Kineto "External id" linking cpu_op ↔ runtime call. */
  externalId?: number;
  /**
   * An nn.Module call (cat "module"): its class (`LlamaAttention`); `name` is then the module's
   * path in the model (`model.layers.3.self_attn`; an outermost module is named by its class).
   */
  moduleType?: string;
  /**
   * Time in calls inside this one that are not kept as spans (short calls summed in
   * Trace.summaries instead): part of its total time, not of its self time.
   */
  hiddenNs?: number;
  /** A torch op recorded with --op-shapes: its input shapes as JSON text (also in args "Input Dims"); ops with other shapes are other functions. */
  inputDims?: string;
}

/**
 * Short calls kept as sums instead of spans (the tracer's --min-duration-us): per process,
 * thread, function and time bucket (SUMMARY_BUCKET_NS from `start`), their calls, self and
 * total time. The enclosing span's hiddenNs holds the same time, so hot functions stay exact.
 */
export interface CallSummary {
  pid: number;
  tid: number;
  kind: "python" | "cpu_op";
  name: string;
  file?: string;
  line?: number;
  start: number;
  calls: number;
  selfNs: number;
  totalNs: number;
  /** As CpuSpan.inputDims. */
  inputDims?: string;
}

export const SUMMARY_BUCKET_NS = 100_000_000;

/** A process of the run: the script and the children that were traced or seen. */
export interface ProcessInfo {
  pid: number;
  ppid?: number;
  /** main: the script; fork: os.fork; multiprocessing / dataloader worker; subprocess: a new interpreter. */
  role: "main" | "fork" | "multiprocessing" | "dataloader worker" | "subprocess" | "untraced";
  /** For the reports: "main", "DataLoader worker 0", "Process-1", "python tool.py" … */
  label: string;
  /** Whether InferScope recorded its Python calls. */
  traced: boolean;
  /** Command line as /proc or the tracer saw it. */
  argv?: string[];
  /** CPU time of the process (kernel), ms, when sampled. */
  cpuMs?: number;
  /** CPUs it may run on and torch's intra-op threads (from the tracer). */
  cpus?: number;
  torchThreads?: number;
}

export type ApiKind = "launch" | "memcpy" | "memset" | "sync" | "alloc" | "free" | "graph_launch" | "other";

/** A CUDA runtime or driver API call made by a CPU thread. */
export interface ApiCall {
  api: "runtime" | "driver";
  kind: ApiKind;
  name: string;
  start: number;
  end: number;
  pid: number;
  tid: number;
  correlation: number;
  externalId?: number;
}

export type MemKind = "pageable" | "pinned" | "device" | "managed" | "array" | "unknown";
export type CopyKind = "HtoD" | "DtoH" | "DtoD" | "HtoH" | "PtoP" | "unknown";

/** Work that ran on the GPU: a kernel, a copy or a memset. */
export interface GpuOp {
  kind: "kernel" | "memcpy" | "memset";
  name: string;
  start: number;
  end: number;
  device: number;
  stream: number;
  /** Correlation id of the API call that issued it (runtime or driver). */
  correlation?: number;
  externalId?: number;
  bytes?: number;
  copyKind?: CopyKind;
  srcMem?: MemKind;
  dstMem?: MemKind;
  grid?: [number, number, number];
  block?: [number, number, number];
  registers?: number;
  sharedMemory?: number;
  graphId?: number;
  /** Copies: whether the API call was asynchronous (InferScope's `async` arg); absent = unknown. */
  async?: boolean;
  /** Filled by the merger: who launched it. */
  launcher?: Launcher;
  /** The process whose CUDA context ran it (InferScope traces; absent in Kineto's, which hold one process). */
  pid?: number;
}

export interface Launcher {
  tid: number;
  /** The API call's name (cudaLaunchKernel, cuLaunchKernel, cudaMemcpyAsync, …). */
  api?: string;
  /** Innermost Python frame (InferScope) or enclosing cpu_op (Kineto) when the call was made. */
  function?: string;
  file?: string;
  line?: number;
  /** Innermost enclosing user scope (InferScope scope() or Kineto user_annotation). */
  scope?: string;
}

/** A CPU thread blocked waiting for the GPU (CUPTI SYNCHRONIZATION or Kineto cuda_sync). */
export interface SyncWait {
  type: "device" | "stream" | "event" | "stream_wait_event" | "context" | "unknown";
  start: number;
  end: number;
  pid: number;
  tid: number;
  stream?: number;
  correlation?: number;
}

export interface Instant {
  name: string;
  ts: number;
  pid: number;
  tid: number;
  args?: Record<string, unknown>;
}

/** A sampled value: RSS, CPU time per thread, NUMA node memory, GPU utilization… */
export interface CounterSample {
  /** Track name, e.g. "memory", "numa node 0", "cpu", "gpu 0". */
  track: string;
  ts: number;
  values: Record<string, number>;
}

export interface DeviceInfo {
  index: number;
  name: string;
  memoryBytes?: number;
  smCount?: number;
  /** Compute capability (9.0 for an H100): Kineto's deviceProperties, InferScope's device records. */
  computeMajor?: number;
  computeMinor?: number;
  numaNode?: number;
  pciBusId?: string;
  /** nvidia-smi's GPU-… UUID: which physical GPU, whatever the device order. */
  uuid?: string;
  pcieLinkWidth?: number;
  pcieLinkGen?: number;
}

export interface TraceMeta {
  /** Version of the tool that wrote the trace (InferScope version, or Kineto's schema). */
  producer?: string;
  clock?: string;
  /** Trace time origin in ns: file timestamps are relative to it. */
  baseTimeNs?: number;
  devices: DeviceInfo[];
  /** Events lost, by source: python, cupti, … A missing key means "not measured". */
  dropped: Record<string, number>;
  command?: string[];
  exitCode?: number;
  pythonVersion?: string;
  torchVersion?: string;
  cudaVersion?: string;
  /** Largest causality violation seen by the merger, ns. */
  clockErrorBoundNs?: number;
  /** `inferscope run`'s Python command was a launcher script (src/collect/python-launcher.ts). */
  pythonLauncher?: PythonLauncher;
  /** The bytecode shape of the recorded Python functions (src/analyze/native-time.ts); absent when not recorded. */
  codeShapes?: CodeShape[];
  [k: string]: unknown;
}

/** A Python function's bytecode: its instructions and whether it has a loop (src/tracer/inferscope/_shapes.py). */
export interface CodeShape {
  name: string;
  file: string;
  line: number;
  instructions: number;
  loop: boolean;
}

/** A launcher script in front of the interpreter; the trace's `inferscope.pythonLauncher` (docs/trace-format.md). */
export interface PythonLauncher {
  /** The launcher script, as found on PATH. */
  command: string;
  /** The interpreter it started (its sys.executable). */
  executable: string;
  /** Start to exit of the version probe through the launcher, ms (measured once, before the run). */
  start_ms: number;
  /** The same probe run by the interpreter directly, ms; null when that did not work. */
  direct_start_ms: number | null;
}

export interface Trace {
  format: TraceFormat;
  meta: TraceMeta;
  spans: CpuSpan[];
  api: ApiCall[];
  gpu: GpuOp[];
  syncs: SyncWait[];
  instants: Instant[];
  counters: CounterSample[];
  /** tid → thread name, pid → process name, as the trace named them. */
  threadNames: Map<number, string>;
  processNames: Map<number, string>;
  /** Problems found while reading (unknown records, unmatched correlations …). */
  warnings: string[];
  /** Short calls summed instead of kept as spans (empty when every call is a span). */
  summaries: CallSummary[];
}

export function emptyTrace(format: TraceFormat): Trace {
  return {
    format,
    meta: { devices: [], dropped: {} },
    spans: [],
    api: [],
    gpu: [],
    syncs: [],
    instants: [],
    counters: [],
    threadNames: new Map(),
    processNames: new Map(),
    warnings: [],
    summaries: [],
  };
}
