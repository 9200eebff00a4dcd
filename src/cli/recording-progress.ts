// Progress of reading the script's Python recording after it ended: a 10 M-call script leaves
// hundreds of MB of records, read for tens of seconds without a word otherwise. Like analyze's
// progress (trace/read.ts): from 50 MB on, a line at most every 5 s, on stderr.
import { log } from "../log.ts";

const MB = 1048576;

export interface ProgressStyle {
  line?: (text: string) => void;
  everyMs?: number;
  minBytes?: number;
}

/** The onProgress callback for readPythonFile, or undefined for a small recording. */
export function recordingProgress(size: number, style: ProgressStyle = {}): ((done: number, total: number, events: number) => void) | undefined {
  const line = style.line ?? ((t: string) => log.info(t));
  if (size < (style.minBytes ?? 50 * MB)) return undefined;
  const every = style.everyMs ?? 5000;
  const started = performance.now();
  let next = started + every;
  line(`reading the Python recording (${(size / MB).toFixed(0)} MB)`);
  return (done, total, events) => {
    const now = performance.now();
    if (now < next) return;
    next = now + every;
    line(
      `reading the Python recording: ${(done / MB).toFixed(0)} of ${(total / MB).toFixed(0)} MB (${Math.round((done / total) * 100)} %), ${events.toLocaleString("en-US")} events, ${((now - started) / 1000).toFixed(1)} s`,
    );
  };
}
