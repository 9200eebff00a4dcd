// One side of a diff: a trace (InferScope or Kineto, .json/.json.gz; analyzed now with full
// kernel and function tables), a run directory (its trace, else its report.json), or a stored
// report.json (`inferscope.report/v1`).
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import type { Report } from "../analyze/report-types.ts";
import { pathArg, showPath } from "../core/raw-path.ts";
import { fail } from "../errors.ts";
import { inDir, RUN_TRACES, traceFile } from "../trace/trace-dir.ts";
import type { SideInfo } from "./compare.ts";

/** Rows kept per table when a trace is analyzed for a diff: every kernel and function, in practice. */
export const DIFF_TOP = 10_000;

export interface Side {
  report: Report;
  info: SideInfo;
}

function isReportFile(path: string | Buffer): boolean {
  if (path === "-") return false;
  // A report written by inferscope starts with its schema (stable key order); only the head is read.
  try {
    const fd = openSync(path, "r");
    try {
      const head = Buffer.alloc(256);
      const n = readSync(fd, head, 0, head.length, 0);
      return /^\s*\{\s*"schema"\s*:\s*"inferscope\.report\/v1"/.test(head.subarray(0, n).toString("utf8"));
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

function readReport(path: string | Buffer, label: string): Report {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    fail(`${label}: not a valid report.json (${(e as Error).message}); pass a trace, a run directory or a report written by inferscope`);
  }
  const r = v as Partial<Report>;
  if (r.schema !== "inferscope.report/v1" || !Array.isArray(r.scopes) || !Array.isArray(r.findings) || !r.bottleneck || !r.cpu) {
    fail(`${label}: not an inferscope.report/v1 report (missing schema, scopes, findings, bottleneck or cpu); pass a trace, a run directory or a report written by inferscope`);
  }
  return r as Report;
}

export async function loadSide(arg: string, role: "BASE" | "NEW"): Promise<Side> {
  // a name that is not valid UTF-8 is used as the bytes the user typed (raw-path.ts)
  const path = arg === "-" ? arg : pathArg(arg);
  const label = `${role} ${showPath(path)}`;
  let file = path;
  if (path !== "-") {
    if (!existsSync(path)) fail(`${label}: no such file or directory; pass a trace, a run directory or a report.json`);
    if (statSync(path).isDirectory()) {
      // a run directory's trace, else its report; else a torch.profiler log directory's one trace
      const found = [...RUN_TRACES, "report.json"].map((f) => inDir(path, f)).find((f) => existsSync(f));
      file = found ?? traceFile(path, label, false);
    }
  }
  if (isReportFile(file)) {
    const report = readReport(file, label);
    return { report, info: { path: showPath(file), format: report.source?.format ?? "inferscope", events: report.source?.events ?? 0, from: "report" } };
  }
  const [{ readTrace }, { analyze }] = await Promise.all([import("../trace/read.ts"), import("../analyze/index.ts")]);
  let trace;
  try {
    trace = await readTrace(file);
  } catch (e) {
    if ((e as Error).name === "UserError") fail(`${role}: ${(e as Error).message}`);
    throw e;
  }
  const report = analyze(trace, { path: file === "-" ? "<stdin>" : showPath(file), top: DIFF_TOP });
  return { report, info: { path: report.source.path, format: report.source.format, events: report.source.events, from: "trace" } };
}
