// Every configuration key: its valibot schema, default, environment variable and how a string
// (from a flag or the environment) becomes a value. One table, so `config show`, the env reader
// and the YAML reader cannot disagree.
import * as v from "valibot";
import { LOG_LEVELS } from "../log.ts";
import { DEFAULT_FORMATS, REPORT_FORMATS } from "../report/formats.ts";

type Parse = (raw: string) => unknown;

export interface KeyDef {
  /** What the user is told a valid value looks like. */
  expected: string;
  description: string;
  schema: v.GenericSchema;
  default: unknown;
  /** String (env var or flag) → candidate value, checked by `schema` afterwards. */
  fromString: Parse;
}

const bool: Parse = (raw) => {
  const s = raw.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(s)) return true;
  if (["0", "false", "no", "off"].includes(s)) return false;
  return raw;
};
// Only plain decimal integers: Number("0x10") or Number("") would slip through otherwise.
const int: Parse = (raw) => (/^\s*-?\d+\s*$/.test(raw) ? Number(raw) : raw);
// Plain decimal numbers (seconds): 2, 0.5.
const num: Parse = (raw) => (/^\s*-?\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : raw);
const str: Parse = (raw) => raw;
const list: Parse = (raw) =>
  raw
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");

// Every number has an upper bound: 99999999 MB of trace buffer or a 1e400 interval is a typo,
// and is stopped here with the range rather than failing later in the profiled process.
const intIn = (min: number, max: number) => v.pipe(v.number(), v.integer(), v.minValue(min), v.maxValue(max));
const nonNegativeInt = intIn(0, 255);
const nonEmpty = v.pipe(v.string(), v.minLength(1));
const seconds = v.pipe(v.number(), v.minValue(0), v.maxValue(1e6));

export const KEYS = {
  enable: {
    expected: "true or false (1/0, yes/no, on/off)",
    description: "Profile at all; false runs the script plainly",
    schema: v.boolean(),
    default: true,
    fromString: bool,
  },
  logLevel: {
    expected: `one of ${LOG_LEVELS.join(", ")}`,
    description: "How much InferScope logs on stderr",
    schema: v.picklist(LOG_LEVELS),
    default: "info",
    fromString: str,
  },
  traceSizeMb: {
    expected: "a whole number of megabytes from 1 to 16384, e.g. 200",
    description: "Trace buffer size in the profiled process (MB)",
    schema: intIn(1, 16384),
    default: 100,
    fromString: int,
  },
  buffer: {
    expected: "spill or wrap",
    description: "When the buffer is full: spill chunks to disk (lossless) or wrap (keep newest)",
    schema: v.picklist(["spill", "wrap"]),
    default: "spill",
    fromString: str,
  },
  outputDir: {
    expected: "a directory path",
    description: "Where run directories are created",
    schema: nonEmpty,
    default: "./inferscope-runs",
    fromString: str,
  },
  formats: {
    expected: `a list of ${REPORT_FORMATS.join(", ")} (comma-separated in env/flags)`,
    description: "Report formats written by `run`",
    schema: v.pipe(v.array(v.picklist(REPORT_FORMATS)), v.minLength(1)),
    default: [...DEFAULT_FORMATS],
    fromString: list,
  },
  python: {
    expected: "a Python interpreter name or path, e.g. python3 or .venv/bin/python",
    description: "Interpreter that runs the script",
    schema: nonEmpty,
    default: "python3",
    fromString: str,
  },
  device: {
    expected: "a GPU index (0 to 255) or auto",
    description: "GPU to profile: sets CUDA_VISIBLE_DEVICES for the script",
    schema: v.union([v.literal("auto"), nonNegativeInt]),
    default: "auto",
    fromString: (raw) => (raw.trim() === "auto" ? "auto" : int(raw)),
  },
  trace: {
    expected: "true or false",
    description: "Write the trace file (Perfetto) into the run directory",
    schema: v.boolean(),
    default: true,
    fromString: bool,
  },
  modules: {
    expected: "true or false",
    description: "Record nn.Module calls with their paths in the model (the per-layer breakdown) when the script uses torch",
    schema: v.boolean(),
    default: true,
    fromString: bool,
  },
  pythonCalls: {
    expected: "all, user or none",
    description: "Python calls to record: all, user code only (not stdlib/site-packages), none",
    schema: v.picklist(["all", "user", "none"]),
    default: "all",
    fromString: str,
  },
  minDurationUs: {
    expected: "a whole number of microseconds from 0 to 3600000000 (an hour)",
    description: "Python calls and torch ops shorter than this with nothing traced inside are summed per function (hot functions stay exact) instead of kept as timeline spans; 0 keeps them all",
    schema: intIn(0, 3_600_000_000),
    default: 50,
    fromString: int,
  },
  followChildren: {
    expected: "true or false",
    description: "Trace the script's child processes too (fork, multiprocessing, DataLoader workers, Python subprocesses)",
    schema: v.boolean(),
    default: true,
    fromString: bool,
  },
  torchOps: {
    expected: "true or false",
    description: "Record torch ops (aten::*) through torch's ITT hooks when the script uses torch",
    schema: v.boolean(),
    default: true,
    fromString: bool,
  },
  opShapes: {
    expected: "true or false",
    description: "Record each torch op's input shapes (through torch's legacy CPU profiler instead of ITT, which carries names only; costs more, see docs/benchmarks.md)",
    schema: v.boolean(),
    default: false,
    fromString: bool,
  },
  window: {
    expected: "auto, all, mark:NAME, or scope:NAME[,skip=N]",
    description: "Time span the diagnosis covers: auto (the steady state after start-up), all (the whole run), from the first mark_event NAME to the end, or the instances of scope NAME (skipping the first N)",
    schema: v.pipe(v.string(), v.regex(/^(auto|all|mark:.+|scope:[^,]+(,skip=\d+)?)$/)),
    default: "auto",
    fromString: str,
  },
  sampleIntervalMs: {
    expected: "a whole number of milliseconds from 1 to 60000",
    description: "Interval of /proc samples (RSS, CPU, NUMA nodes)",
    schema: intIn(1, 60_000),
    default: 20,
    fromString: int,
  },
  numaMapsIntervalMs: {
    expected: "a whole number of milliseconds from 1 to 3600000",
    description: "Interval of /proc/<pid>/numa_maps reads (costly: ~4 µs per MiB of RSS)",
    schema: intIn(1, 3_600_000),
    default: 1000,
    fromString: int,
  },
  delay: {
    expected: "a number of seconds >= 0, e.g. 30 or 0.5",
    description: "Start recording this many seconds after the script starts (like nsys --delay)",
    schema: seconds,
    default: 0,
    fromString: num,
  },
  duration: {
    expected: "a number of seconds >= 0 (0: until stopped or the end)",
    description: "Stop recording this many seconds after each capture window opens",
    schema: seconds,
    default: 0,
    fromString: num,
  },
  capture: {
    expected: "auto or manual",
    description: "auto: record from the start (after --delay); manual: only once inferscope.start() or SIGUSR1 opens a window",
    schema: v.picklist(["auto", "manual"]),
    default: "auto",
    fromString: str,
  },
  cuptiPath: {
    expected: "a path to libcupti.so, or empty for automatic",
    description: "libcupti to load (default: torch's copy, then the system's)",
    schema: v.string(),
    default: "",
    fromString: str,
  },
  maxEvents: {
    expected: "a whole number of events from 1000 to 1000000000",
    description: "Events held in memory for the analysis (about 500 bytes each); a bigger trace is analyzed over its first part",
    schema: intIn(1000, 1_000_000_000),
    default: 4_000_000, // analyze's peak: 1,573 MB with 3.6 M kept, ~1.8 GB at 4 M; 5 M reached 2.0–2.06 GB (docs/benchmarks.md)
    fromString: int,
  },
  top: {
    expected: "a whole number from 1 to 10000",
    description: "Rows in the reports' top-N tables",
    schema: intIn(1, 10_000),
    default: 10,
    fromString: int,
  },
} satisfies Record<string, KeyDef>;

export type ConfigKey = keyof typeof KEYS;
export const CONFIG_KEYS = Object.keys(KEYS) as ConfigKey[];

export interface Config {
  enable: boolean;
  logLevel: (typeof LOG_LEVELS)[number];
  traceSizeMb: number;
  buffer: "spill" | "wrap";
  outputDir: string;
  formats: (typeof REPORT_FORMATS)[number][];
  python: string;
  device: "auto" | number;
  trace: boolean;
  modules: boolean;
  pythonCalls: "all" | "user" | "none";
  minDurationUs: number;
  followChildren: boolean;
  torchOps: boolean;
  opShapes: boolean;
  window: string;
  sampleIntervalMs: number;
  numaMapsIntervalMs: number;
  delay: number;
  duration: number;
  capture: "auto" | "manual";
  cuptiPath: string;
  maxEvents: number;
  top: number;
}

/** traceSizeMb → INFERSCOPE_TRACE_SIZE_MB */
export function envName(key: string): string {
  return `INFERSCOPE_${key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase()}`;
}
