// A directory where a trace file is expected (`inferscope analyze DIR`): the run directory of
// `inferscope run` (its trace.json.gz or trace.json), or a torch.profiler output directory that
// holds one trace (`tensorboard_trace_handler` writes <worker>.<time>.pt.trace.json, .gz with
// use_gzip). Several traces there: the user picks (one line listing them).
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { showPath } from "../core/raw-path.ts";
import { fail } from "../errors.ts";

/** The trace a run directory holds, in the order looked for. */
export const RUN_TRACES = ["trace.json.gz", "trace.json"] as const;
const TRACE_NAME = /\.json(\.gz)?$/i;

/** dir/name, for a directory or a name given as bytes (not valid UTF-8) too. */
export function inDir(dir: string | Buffer, name: string | Buffer): string | Buffer {
  if (typeof dir === "string" && typeof name === "string") return join(dir, name);
  return Buffer.concat([Buffer.from(dir), Buffer.from("/"), Buffer.from(name)]);
}

/**
 * `path` itself, or the trace in it when it is a directory; one line (exit 2, starting with
 * `label`) when it holds none or several (`ndjson`: say how `analyze` reads them all at once).
 */
export function traceFile(path: string | Buffer, label = showPath(path), ndjson = true): string | Buffer {
  try {
    if (!statSync(path).isDirectory()) return path;
  } catch {
    return path; // missing or unreadable: the reader says which
  }
  let names: (string | Buffer)[];
  try {
    names = typeof path === "string" ? readdirSync(path) : readdirSync(path, { encoding: "buffer" });
  } catch (e) {
    fail(`${label}: a directory that cannot be listed (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); pass a trace file`);
  }
  const text = (n: string | Buffer) => (typeof n === "string" ? n : showPath(n));
  for (const f of RUN_TRACES) if (names.some((n) => text(n) === f)) return inDir(path, f);
  const traces = names.filter((n) => TRACE_NAME.test(text(n)) && text(n) !== "report.json").sort((a, b) => (text(a) < text(b) ? -1 : 1));
  if (traces.length === 1) return inDir(path, traces[0]!);
  if (traces.length === 0) fail(`${label}: a directory without a trace (no trace.json, trace.json.gz or other .json file); pass a trace file, or a run directory written by inferscope run`);
  const shown = traces.slice(0, 3).map(text).join(", ");
  const all = ndjson ? `, or all at once: inferscope analyze --format ndjson ${showPath(path)}/*.json*` : "";
  fail(`${label}: a directory with ${traces.length} traces (${shown}${traces.length > 3 ? ", …" : ""}); pass one of them${all}`);
}
