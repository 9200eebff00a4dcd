// Seeded mutations of real traces, for the fuzz test (test/fuzz/fuzz.test.ts, CI size) and its
// long mode (bench/fuzz.ts). The bases are the real Kineto fixtures recorded on an H100 (each cut
// to its first MAX_BASE_EVENTS events, to keep a case fast) and the same traces as InferScope
// writes them; each case applies a few structural mutations (a field removed, retyped, made
// absurd, control characters in names, ids that are not integers…) or, more rarely, byte-level
// damage (truncation, flipped bytes).
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { analysisContext, buildReport } from "../../src/analyze/index.ts";
import { mulberry32 } from "../../src/diff/stats.ts";
import { errorMessage } from "../../src/main.ts";
import { renderReport } from "../../src/report/render.ts";
import { readTrace } from "../../src/trace/read.ts";
import { writeTrace } from "../../src/trace/writer.ts";
import { tempDir } from "../helpers.ts";

export const FIXTURE_DIR = join(import.meta.dir, "../fixtures/kineto");
export const FIXTURE_NAMES = ["cudagraph", "llama_tiny_generate", "pinned_nonblocking", "sync_stall", "vit_fp16"];
export const MAX_BASE_EVENTS = 1500;

/** What no report or message may ever show (JavaScript leaking through). */
export const FORBIDDEN = /undefined|\[object Object\]|NaN|Infinity/;

/** Small, fast, seedable: the diff's bootstrap generator. */
export const rng = mulberry32;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

export interface Base {
  name: string;
  doc: Obj;
}

/** The real fixtures, cut to their first MAX_BASE_EVENTS events, and the same as InferScope traces. */
export async function loadBases(): Promise<Base[]> {
  const bases: Base[] = [];
  const dir = tempDir("inferscope-fuzz-base-");
  try {
    for (const name of FIXTURE_NAMES) {
      const doc = JSON.parse(gunzipSync(readFileSync(join(FIXTURE_DIR, `${name}.kineto.json.gz`))).toString("utf8")) as Obj;
      doc.traceEvents = (doc.traceEvents as Json[]).slice(0, MAX_BASE_EVENTS);
      bases.push({ name: `${name}.kineto`, doc });
      // The same events as InferScope writes them (its reader and metadata block get fuzzed too).
      const cut = join(dir, `${name}.json`);
      await Bun.write(cut, JSON.stringify(doc));
      const trace = await readTrace(cut, { progress: false });
      const out = join(dir, `${name}.inferscope.json`);
      await writeTrace(trace, out, { version: "fuzz" });
      bases.push({ name: `${name}.inferscope`, doc: JSON.parse(readFileSync(out, "utf8")) as Obj });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true }); // the bases live on in memory
  }
  return bases;
}

// Values a broken or hostile producer might write where a number, string or object belongs.
const WEIRD: Json[] = [
  null,
  true,
  false,
  "",
  "x",
  "12",
  0,
  -1,
  490.5,
  0.1,
  1e20,
  -1e20,
  1e300,
  -1e300,
  5e-324,
  2 ** 53 + 2,
  -(2 ** 31),
  {},
  [],
  [1, 2, 3],
  { a: 1 },
  [null],
  "\u0000\u000b\u000c\u001e\u001b[31mred\u001b[0m\r\n",
  "<script>alert(1)</script>",
  "a".repeat(5000),
  "\ud800",
  "名前",
];
const PH = ["X", "B", "E", "i", "I", "C", "M", "s", "f", "b", "e", "n", "?", "", "x"];
const CATS = ["kernel", "gpu_memcpy", "gpu_memset", "cuda_runtime", "cuda_driver", "cpu_op", "user_annotation", "python_function", "python", "scope", "cuda_sync", "ac2g", "Trace", "bogus"];
const ARG_KEYS = ["correlation", "External id", "device", "stream", "bytes", "grid", "block", "registers per thread", "shared memory", "copy kind", "src kind", "dst kind", "kind", "launch tid", "python line", "type", "name", "file", "line"];
const EVENT_KEYS = ["ph", "cat", "name", "ts", "dur", "pid", "tid", "args", "id"];
const CONTROL = "\u0000\u0007\u0008\u000b\u000c\u001b\u001e\u007f\u009b";

export interface Mutation {
  seed: number;
  base: string;
  ops: string[];
  bytes: Uint8Array;
}

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)] as T;
}

function clone<T>(x: T): T {
  return structuredClone(x);
}

function mutateEvent(r: () => number, e: Obj, ops: string[]): void {
  const op = Math.floor(r() * 9);
  switch (op) {
    case 0: {
      const k = pick(r, EVENT_KEYS);
      delete e[k];
      ops.push(`delete ${k}`);
      break;
    }
    case 1:
    case 2: {
      const k = pick(r, EVENT_KEYS);
      const v = pick(r, WEIRD);
      e[k] = clone(v);
      ops.push(`${k} = ${JSON.stringify(v)?.slice(0, 40)}`);
      break;
    }
    case 3: {
      const args = (e.args !== null && typeof e.args === "object" && !Array.isArray(e.args) ? e.args : (e.args = {})) as Obj;
      const k = pick(r, ARG_KEYS);
      const v = pick(r, WEIRD);
      args[k] = clone(v);
      ops.push(`args.${k} = ${JSON.stringify(v)?.slice(0, 40)}`);
      break;
    }
    case 4:
      e.ph = pick(r, PH);
      ops.push(`ph = ${e.ph}`);
      break;
    case 5:
      e.cat = pick(r, CATS);
      ops.push(`cat = ${e.cat}`);
      break;
    case 6: {
      const name = typeof e.name === "string" ? e.name : "n";
      const at = Math.floor(r() * (name.length + 1));
      e.name = name.slice(0, at) + pick(r, [...CONTROL]) + "\u001b[2J" + name.slice(at);
      ops.push("control characters in name");
      break;
    }
    case 7: {
      // absurd times: far future, negative, enormous durations
      const k = pick(r, ["ts", "dur"]);
      e[k] = pick(r, [1e20, -1e20, 1e15, -5, 1.5e308, 9007199254740993]);
      ops.push(`${k} absurd`);
      break;
    }
    default: {
      const args = (e.args !== null && typeof e.args === "object" && !Array.isArray(e.args) ? e.args : (e.args = {})) as Obj;
      const k = pick(r, ["correlation", "External id", "device", "stream", "bytes"]);
      args[k] = pick(r, [490.5, -3, 1e20, 2 ** 53 + 2, 0.001, "17"]);
      ops.push(`args.${k} not an integer id`);
    }
  }
}

function mutateTop(r: () => number, doc: Obj, ops: string[]): void {
  const block = doc.inferscope;
  const op = Math.floor(r() * 5);
  if (op === 0) {
    const k = pick(r, ["traceEvents", "baseTimeNanoseconds", "deviceProperties", "displayTimeUnit", "schemaVersion"]);
    doc[k] = clone(pick(r, WEIRD));
    ops.push(`top ${k} retyped`);
  } else if (op === 1 && block && typeof block === "object" && !Array.isArray(block)) {
    const k = pick(r, ["schema", "devices", "dropped", "warnings", "exitCode", "command", "clockErrorBoundNs", "buffer", "pythonTracer", "sampleIntervalMs"]);
    (block as Obj)[k] = clone(pick(r, WEIRD));
    ops.push(`inferscope.${k} retyped`);
  } else if (op === 2 && Array.isArray(doc.deviceProperties)) {
    const d = doc.deviceProperties[0];
    if (d && typeof d === "object" && !Array.isArray(d)) {
      const k = pick(r, ["id", "name", "totalGlobalMem", "numSms"]);
      (d as Obj)[k] = clone(pick(r, WEIRD));
      ops.push(`deviceProperties[0].${k} retyped`);
    }
  } else if (op === 3 && Array.isArray(doc.traceEvents) && doc.traceEvents.length) {
    const i = Math.floor(r() * doc.traceEvents.length);
    doc.traceEvents.splice(i, 0, clone(doc.traceEvents[i] as Json));
    ops.push("duplicate event");
  } else if (Array.isArray(doc.traceEvents)) {
    doc.traceEvents.push(clone(pick(r, WEIRD)));
    ops.push("non-object event");
  }
}

function damageBytes(r: () => number, bytes: Uint8Array, ops: string[]): Uint8Array {
  const op = Math.floor(r() * 3);
  if (op === 0) {
    const at = Math.floor(r() * bytes.length);
    ops.push(`truncated at ${at}`);
    return bytes.slice(0, at);
  }
  const out = bytes.slice();
  const n = 1 + Math.floor(r() * 8);
  for (let i = 0; i < n; i++) out[Math.floor(r() * out.length)] = op === 1 ? Math.floor(r() * 256) : pick(r, [0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x00]);
  ops.push(`${n} bytes ${op === 1 ? "randomised" : "replaced by JSON punctuation"}`);
  return out;
}

/** Case `seed`: a base chosen by the seed, a few mutations; deterministic. */
export function mutate(bases: readonly Base[], seed: number): Mutation {
  const r = rng(seed);
  const base = pick(r, bases);
  const doc = clone(base.doc);
  const ops: string[] = [];
  const events = Array.isArray(doc.traceEvents) ? (doc.traceEvents as Json[]) : [];
  const n = 1 + Math.floor(r() * 6);
  for (let i = 0; i < n; i++) {
    if (r() < 0.15) mutateTop(r, doc, ops);
    else if (events.length) {
      const e = events[Math.floor(r() * events.length)];
      if (e && typeof e === "object" && !Array.isArray(e)) mutateEvent(r, e as Obj, ops);
    }
  }
  let bytes: Uint8Array = new TextEncoder().encode(JSON.stringify(doc));
  if (r() < 0.1) bytes = damageBytes(r, bytes, ops);
  return { seed, base: base.name, ops, bytes };
}

/** What is wrong with one output (a report, a message), or null. */
export function outputProblem(text: string, format: "md" | "json" | "html" | "stderr"): string | null {
  // The HTML's own scripts (the timeline and table code) legitimately say `undefined`; the data
  // block and everything around it must not.
  const checked = format === "html" ? text.replace(/<script>[\s\S]*?<\/script>/g, "") : text;
  const m = FORBIDDEN.exec(checked);
  if (m) return `${format} shows "${m[0]}": …${checked.slice(Math.max(0, m.index - 60), m.index + 40).replace(/\n/g, "⏎")}…`;
  if (format === "stderr") {
    const lines = text.split("\n").filter((l) => l !== "");
    if (lines.length > 3) return `stderr has ${lines.length} lines`;
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(text)) return `stderr carries a control character: ${JSON.stringify(text.slice(0, 200))}`;
  }
  if (format === "md") {
    // eslint-disable-next-line no-control-regex
    const c = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.exec(text);
    if (c) return `md carries a control character ${JSON.stringify(c[0])}: …${JSON.stringify(text.slice(Math.max(0, c.index - 40), c.index + 20))}…`;
  }
  return null;
}

export interface CaseResult {
  /** "ok", "user-error" (exit 2) or "crash" (exit 70: not a UserError). */
  outcome: "ok" | "user-error" | "crash";
  problems: string[];
  ms: number;
}

/**
 * One case in process, as `analyze` runs it: read, analyze once, render every format. The
 * renderings and any error message are checked with outputProblem.
 */
export async function runCase(m: Mutation, dir: string): Promise<CaseResult> {
  const path = join(dir, `case-${m.seed}.json`);
  await Bun.write(path, m.bytes);
  const started = performance.now();
  const problems: string[] = [];
  let outcome: CaseResult["outcome"] = "ok";
  try {
    const trace = await readTrace(path, { progress: false });
    const analysis = analysisContext(trace, 10);
    const report = buildReport(analysis, path);
    for (const format of ["md", "json", "html"] as const) {
      const p = outputProblem(renderReport(report, format, analysis), format);
      if (p) problems.push(p);
    }
  } catch (e) {
    // as main.ts prints it
    const { text, code } = errorMessage(e, false);
    if (code === 2) {
      outcome = "user-error";
      const p = outputProblem(text, "stderr");
      if (p) problems.push(p);
    } else {
      outcome = "crash";
      problems.push(`internal error (exit ${code}): ${(e as Error).stack?.split("\n").slice(0, 3).join(" | ") ?? String(e)}`);
    }
  }
  return { outcome, problems, ms: performance.now() - started };
}

/** One case through the real CLI (a subprocess): exit code, stderr lines, no hang. */
export function runCaseCli(m: Mutation, dir: string, cmd: string[], timeoutMs: number): CaseResult {
  const path = join(dir, `cli-case-${m.seed}.json`);
  writeFileSync(path, m.bytes);
  const problems: string[] = [];
  const started = performance.now();
  const r = Bun.spawnSync([...cmd, "analyze", path, "-f", "md"], { stdout: "pipe", stderr: "pipe", timeout: timeoutMs, env: { ...process.env, NO_COLOR: "1" } });
  const ms = performance.now() - started;
  if (r.exitCode === null) return { outcome: "crash", problems: [`no answer within ${timeoutMs} ms (hang)`], ms };
  const stderr = r.stderr.toString();
  const code = r.exitCode;
  if (code !== 0 && code !== 2) problems.push(`exit ${code}: ${stderr.slice(0, 300)}`);
  const pe = outputProblem(stderr, "stderr");
  if (pe) problems.push(pe);
  const po = outputProblem(r.stdout.toString(), "md");
  if (po) problems.push(po);
  return { outcome: code === 0 ? "ok" : code === 2 ? "user-error" : "crash", problems, ms };
}
