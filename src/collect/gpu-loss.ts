// What the GPU records lack and why, in one line each for the report: a process cut short, a full
// disk, records CUPTI dropped or could not finish. Every loss is stated, with its size where it is
// known, and for the process it concerns: each process records into its own file, so a process
// killed mid-run loses only its own tail.
import type { GpuRecords } from "./gpu-records.ts";

const s = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;
const sec = (ns: number) => `${(ns / 1e9).toFixed(ns < 1e10 ? 2 : 1)} s`;

/**
 * The losses of one process's file. `status` is its status file; `who` names a process other
 * than the script ("process 123 (Process-1)"), null for the script itself; `endNs` is when the
 * script ended, or when another process was last seen alive (CLOCK_MONOTONIC).
 */
export function processLossWarnings(records: GpuRecords, status: string, who: string | null, endNs?: number): string[] {
  const w: string[] = [];
  const writeError = /^write-error: (.*)$/m.exec(status);
  if (writeError) records.writeError = writeError[1];
  if (writeError) w.push(who ? `GPU records of ${who}: ${writeError[1]}` : `GPU records: ${writeError[1]}`);
  else if (!records.info.includes("flushed")) w.push(who ? childCutShort(records, who, endNs) : cutShort(records, endNs));
  if (records.truncatedBytes > 0 && !records.writeError)
    w.push(
      `the CUPTI records file${who ? ` of ${who}` : ""} ends inside a record (${records.truncatedBytes} bytes cut off: the ${who ? "process" : "script"} was killed while InferScope wrote it); the GPU activity in them is lost`,
    );
  return w;
}

/** The losses of the run's records as a whole (every process's summed). */
export function lossWarnings(records: GpuRecords): string[] {
  const w: string[] = [];
  if (records.incomplete > 0)
    w.push(`${s(records.incomplete, "GPU record")} arrived unfinished at the final flush (GPU work still running when the script exited) and ${records.incomplete === 1 ? "is" : "are"} left out`);
  if (records.dropped > 0) w.push(`CUPTI dropped ${s(records.dropped, "record")} (no buffer space): GPU activity counts are short by up to that many`);
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

/** A process other than the script: its end is known only as the last /proc sample that saw it alive (`seenNs`), so the missing stretch is "at least". */
function childCutShort(r: GpuRecords, who: string, seenNs?: number): string {
  const why = `${who} was killed (or crashed) before InferScope's final CUPTI flush`;
  const whole = "other processes' records are whole";
  if (r.empty) return `${why}: CUPTI had delivered none of its GPU records, so its GPU work is missing; ${whole}`;
  if (r.startNs === undefined || r.lastNs === undefined) return `${why}: its GPU activity after the last delivered buffer is missing; ${whole}`;
  const missing = seenNs !== undefined && seenNs > r.lastNs ? `, at least the last ${sec(seenNs - r.lastNs)} before it ended,` : "";
  return `${why}: its GPU records cover the first ${sec(r.lastNs - r.startNs)} after it started CUDA; its GPU work after that${missing} is missing; ${whole}`;
}
