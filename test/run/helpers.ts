// Shared by the `inferscope run` tests: run the real CLI on real Python scripts and read back
// what it wrote.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { cleanEnv, ROOT, spawnCapture, tempDir } from "../helpers.ts";

export const SCRIPTS = join(import.meta.dir, "scripts");
const BUN = process.execPath;
export const MAIN = join(ROOT, "src/main.ts");

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  runDir: string | null;
  trace: ChromeTrace | null;
}

export interface ChromeEvent {
  ph: string;
  cat?: string;
  name: string;
  pid: number;
  tid?: number;
  ts: number;
  dur?: number;
  args?: Record<string, unknown>;
}

export interface ChromeTrace {
  baseTimeNanoseconds: number;
  inferscope: Record<string, unknown> & { dropped: Record<string, number>; exitCode: number; warnings: string[] };
  traceEvents: ChromeEvent[];
}

/** The first interpreter found for a version, or null (tests for it are then skipped). */
export function findPython(version: string): string | null {
  const r = Bun.spawnSync(["sh", "-c", `command -v python${version}`], { stdout: "pipe" });
  const candidates = [r.stdout.toString().trim()];
  const pyenv = "/root/.pyenv/versions";
  if (existsSync(pyenv)) for (const v of readdirSync(pyenv).sort().reverse()) if (v.startsWith(`${version}.`)) candidates.push(join(pyenv, v, "bin/python3"));
  for (const c of candidates) {
    if (!c || !existsSync(c)) continue;
    const ok = Bun.spawnSync([c, "-c", `import sys; assert sys.version_info[:2] == (${version.replace(".", ",")})`], { stdout: "ignore", stderr: "ignore" });
    if (ok.exitCode === 0) return c;
  }
  return null;
}

export const PYTHON = "python3";

export function readTraceFile(path: string): ChromeTrace {
  const raw = readFileSync(path);
  return JSON.parse((path.endsWith(".gz") ? gunzipSync(raw) : raw).toString("utf8")) as ChromeTrace;
}

/** `inferscope run --output-dir <tmp> <args>`; reads back the trace when one was written. */
/**
 * `inferscope run` through src/main.ts. Every call is kept as a span (--min-duration-us 0) unless
 * the test passes its own --min-duration-us: most tests count calls on the timeline.
 */
export function inferscopeRun(args: string[], opts: { cwd?: string; env?: Record<string, string>; stdin?: string; outDir?: string } = {}): RunResult {
  const out = opts.outDir ?? tempDir("inferscope-run-");
  const keepAll = args.includes("--min-duration-us") ? [] : ["--min-duration-us", "0"];
  const r = Bun.spawnSync([BUN, MAIN, "run", "--output-dir", out, ...keepAll, ...args], {
    cwd: opts.cwd ?? SCRIPTS,
    env: opts.env ?? cleanEnv(),
    stdin: opts.stdin !== undefined ? new TextEncoder().encode(opts.stdin) : "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const stderr = r.stderr.toString();
  return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr, ...loadRun(out) };
}

export function loadRun(outDir: string): { runDir: string | null; trace: ChromeTrace | null } {
  const dirs = existsSync(outDir) ? readdirSync(outDir) : [];
  if (dirs.length !== 1) return { runDir: null, trace: null };
  const runDir = join(outDir, dirs[0]!);
  for (const name of ["trace.json", "trace.json.gz"]) {
    const p = join(runDir, name);
    if (existsSync(p)) return { runDir, trace: readTraceFile(p) };
  }
  return { runDir, trace: null };
}

/** Plain `python <args>` with the same stdin/env, for parity checks. */
export function plainPython(args: string[], opts: { cwd?: string; env?: Record<string, string>; stdin?: string; python?: string } = {}) {
  return spawnCapture([opts.python ?? PYTHON, ...args], { ...opts, cwd: opts.cwd ?? SCRIPTS });
}

export const spans = (t: ChromeTrace, cat?: string) => t.traceEvents.filter((e) => e.ph === "X" && (cat === undefined || e.cat === cat));
export const instants = (t: ChromeTrace) => t.traceEvents.filter((e) => e.ph === "i");
export const counters = (t: ChromeTrace, name: string) => t.traceEvents.filter((e) => e.ph === "C" && e.name === name);

/** Integer ns back from the file's 3-decimal µs. */
export const ns = (us: number) => Math.round(us * 1000);

/**
 * Checks that the spans of one lane nest: any two either are disjoint or one contains the other.
 * Returns the first violation, or null.
 */
export function nestingViolation(events: ChromeEvent[]): string | null {
  const s = [...events].sort((a, b) => ns(a.ts) - ns(b.ts) || ns(b.dur!) - ns(a.dur!));
  const stack: { end: number; name: string }[] = [];
  for (const e of s) {
    const start = ns(e.ts);
    const end = start + ns(e.dur!);
    while (stack.length && stack[stack.length - 1]!.end <= start) stack.pop();
    const top = stack[stack.length - 1];
    if (top && end > top.end) return `${e.name} [${start}, ${end}] overlaps the end of ${top.name} (${top.end})`;
    stack.push({ end, name: e.name });
  }
  return null;
}

const SPLIT_FUNCTIONS = ["busy_loop", "sleeper", "lock_wait", "selector", "blocking_read", "blocking_write", "cached_io", "cached_after_short", "blocking_after_short", "joiner", "queue_get", "half_and_half"];

/**
 * One run of scripts/splits.py (functions whose split between running and waiting is known: the
 * script measures its own blocked time around each blocking call): per function, the true and
 * the reported running and waiting ms (running = total − waiting). Used by test/run/waits.test.ts
 * and bench/wait-accuracy.ts.
 */
export function splitErrors(python: string, ms = 200): { fn: string; trueRun: number; run: number; trueWait: number; wait: number }[] {
  const r = inferscopeRun(["--python", python, "--formats", "json", "--window", "all", "--top", "1000", "splits.py", String(ms)]);
  if (r.code !== 0) throw new Error(r.stderr);
  const truth = JSON.parse(r.stdout) as Record<string, { wall_ms: number; blocked_ms: number }>;
  const rep = JSON.parse(readFileSync(join(r.runDir!, "report.json"), "utf8")) as { cpu: { top_functions: { function: string; file?: string; total_ms: number; wait_ms?: number }[] } };
  return SPLIT_FUNCTIONS.map((fn) => {
    const f = rep.cpu.top_functions.find((x) => x.function === fn && x.file?.endsWith("splits.py"))!;
    const wait = f.wait_ms ?? 0;
    return { fn, trueRun: truth[fn]!.wall_ms - truth[fn]!.blocked_ms, run: f.total_ms - wait, trueWait: truth[fn]!.blocked_ms, wait };
  });
}
