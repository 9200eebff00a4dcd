// What the GPU records lack and why, in one line each for the report: a run cut short, a full
// disk, records CUPTI dropped or could not finish, CUDA work in processes InferScope did not
// record. Every loss is stated, with its size where it is known.
import type { GpuRecords } from "./gpu-records.ts";

const s = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;
const sec = (ns: number) => `${(ns / 1e9).toFixed(ns < 1e10 ? 2 : 1)} s`;

/** A process that initialised CUDA with InferScope's shim but was not the one it started. */
export interface OtherProcess {
  pid: number;
  ppid: number;
  exe: string;
}

/** `<gpu.bin>.others`: one `pid=P ppid=Q exe=PATH` line per such process. */
export function parseOthers(text: string): OtherProcess[] {
  const out: OtherProcess[] = [];
  for (const line of text.split("\n")) {
    const m = /^pid=(\d+) ppid=(\d+) exe=(.*)$/.exec(line.trim());
    if (m) out.push({ pid: Number(m[1]), ppid: Number(m[2]), exe: m[3]! });
  }
  return out;
}

function listProcesses(others: OtherProcess[]): string {
  const shown = others.slice(0, 3).map((o) => `pid ${o.pid} (${o.exe}, parent ${o.ppid})`);
  return shown.join(", ") + (others.length > 3 ? `, and ${others.length - 3} more` : "");
}

/** No status file: the script's own process never initialised CUDA. Others may have. */
export function usedElsewhereWarning(others: OtherProcess[]): string {
  return (
    `GPU collection: the profiled process did not use CUDA, but ${others.length === 1 ? "another process" : `${others.length} other processes`} did: ` +
    `${listProcesses(others)}. InferScope records the process it starts, so a launcher between it and Python (uv run, conda run, a shell script) ` +
    `or a CUDA-using subprocess hides that GPU work: start the interpreter directly, e.g. inferscope run --python "$(uv run which python)" script.py`
  );
}

/** The loss statements for records that were read. `status` is the shim's status file, `endNs` when the script ended (CLOCK_MONOTONIC). */
export function lossWarnings(records: GpuRecords, status: string, others: OtherProcess[], endNs?: number): string[] {
  const w: string[] = [];
  const writeError = /^write-error: (.*)$/m.exec(status);
  if (writeError) records.writeError = writeError[1];
  if (writeError) w.push(`GPU records: ${writeError[1]}`);
  else if (!records.info.includes("flushed")) w.push(cutShort(records, endNs));
  if (records.incomplete > 0)
    w.push(`${s(records.incomplete, "GPU record")} arrived unfinished at the final flush (GPU work still running when the script exited) and ${records.incomplete === 1 ? "is" : "are"} left out`);
  if (records.dropped > 0) w.push(`CUPTI dropped ${s(records.dropped, "record")} (no buffer space): GPU activity counts are short by up to that many`);
  if (others.length > 0)
    w.push(`${others.length === 1 ? "another process" : `${others.length} other processes`} used CUDA and ${others.length === 1 ? "is" : "are"} not recorded (InferScope records the process it starts): ${listProcesses(others)}; their GPU work is not in this report`);
  if (records.info.some((i) => i.startsWith("clock: CUPTI default")))
    w.push("CUPTI's timestamp callback was refused: GPU times are on CUPTI's own clock, so CPU↔GPU alignment is not guaranteed");
  return w;
}

function cutShort(r: GpuRecords, endNs?: number): string {
  // os._exit runs the final flush first (the tracer's guard): what skips it is a kill or a crash
  const why = "the script ended without InferScope's final CUPTI flush (it was killed, or crashed)";
  if (r.empty) return `${why} before CUPTI delivered any GPU record: the report has no GPU data`;
  const covered = r.startNs !== undefined && r.lastNs !== undefined ? r.lastNs - r.startNs : undefined;
  const missing = endNs !== undefined && r.lastNs !== undefined && endNs > r.lastNs ? endNs - r.lastNs : undefined;
  if (covered === undefined || missing === undefined) return `${why}: GPU activity after the last delivered buffer is missing`;
  return `${why}: GPU records cover the first ${sec(covered)} after CUDA started; the last ${sec(missing)} before the script ended are missing`;
}
