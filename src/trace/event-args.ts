// The names fixed by the trace formats, in one table for the reader (kineto.ts,
// inferscope-reader.ts) and the writer (writer.ts), as HTA keeps its own
// (hta/configs/default_event_args.py): the argument names of Chrome-trace events that InferScope
// traces share with PyTorch-profiler (Kineto) traces, spelled as Kineto spells them (spaces and
// capitals included), then InferScope's own (docs/trace-format.md).

/** The `schema` of an InferScope trace's metadata block. */
export const TRACE_SCHEMA = "inferscope.trace/v1";

export const ARG = Object.freeze({
  // Kineto's
  correlation: "correlation",
  externalId: "External id",
  device: "device",
  stream: "stream",
  bytes: "bytes",
  grid: "grid",
  block: "block",
  registers: "registers per thread",
  sharedMemory: "shared memory",
  graphId: "graph id",
  copyKind: "copy kind",
  srcKind: "src kind",
  dstKind: "dst kind",
  async: "async",
  // a cpu_op's tensor shapes and dtypes (torch.profiler(record_shapes=True))
  inputDims: "Input Dims",
  inputType: "Input type",
  moduleHierarchy: "Module Hierarchy",
  callStack: "Call stack",
  // InferScope's: what a CUDA call does, a sync's type, a Python span's location, and the code
  // that launched a GPU op (as the merger attributed it)
  apiKind: "kind",
  syncType: "type",
  file: "file",
  line: "line",
  launchTid: "launch tid",
  launchApi: "launch api",
  launchFunction: "python function",
  launchFile: "python file",
  launchLine: "python line",
  launchScope: "scope",
  // an nn.Module span's class
  moduleType: "type",
} as const);

/**
 * InferScope traces put a process's GPU work under that process (Perfetto groups lanes by pid):
 * one lane per device and stream, tid GPU_LANE_TID + device × 1,000,000 + stream. Linux never
 * gives a thread an id this high (pid_max ≤ 2^22), so a reader knows such a lane by its tid.
 */
export const GPU_LANE_TID = 0x40000000;
export const gpuLaneTid = (device: number, stream: number) => GPU_LANE_TID + device * 1_000_000 + stream;
