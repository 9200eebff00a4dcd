// The processes of a run: the script and every child whose tracer wrote python-<pid>.isc
// (forked children, multiprocessing and DataLoader workers, Python subprocesses), each read with
// its torch ops (ops-<pid>.isc), named for its lane in the trace and the reports.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ProcessInfo } from "../trace/model.ts";
import { type PythonRecording, readPythonEvents } from "./python-events.ts";

export interface TracedProcess {
  pid: number;
  info: ProcessInfo;
  recording: PythonRecording;
}

export interface ReadProcessesOptions {
  /** The pid InferScope started (a launcher that forks may make the interpreter's differ). */
  childPid: number;
  minDurationNs: number;
  summarizeOps: boolean;
}

/** Every traced process, the script first, then children by pid. */
export function readProcesses(rawDir: string, opts: ReadProcessesOptions): TracedProcess[] {
  const files = existsSync(rawDir) ? readdirSync(rawDir) : [];
  const out: TracedProcess[] = [];
  for (const f of files) {
    const m = /^python-(\d+)\.isc$/.exec(f);
    if (!m) continue;
    const pid = Number(m[1]);
    const opsPath = join(rawDir, `ops-${pid}.isc`);
    const recording = readPythonEvents(readFileSync(join(rawDir, f)), {
      pid,
      minDurationNs: opts.minDurationNs,
      summarizeOps: opts.summarizeOps,
      ops: existsSync(opsPath) ? readFileSync(opsPath) : null,
    });
    out.push({ pid, info: processInfo(pid, recording), recording });
  }
  const main = mainProcess(out, opts.childPid);
  if (main) {
    main.info.role = "main";
    main.info.label = "main";
  }
  const rank = (p: TracedProcess) => (p === main ? 0 : 1);
  out.sort((a, b) => rank(a) - rank(b) || a.pid - b.pid);
  for (const p of out) if (p !== main && p.info.role === "main") p.info.role = "subprocess";
  return out;
}

/** The script's own process: the one whose tracer says so, else the pid started, else the
 * process no other traced process is the parent of (the earliest of them). */
function mainProcess(ps: TracedProcess[], childPid: number): TracedProcess | undefined {
  const root = ps.find((p) => p.recording.meta?.process?.root === true);
  if (root) return root;
  const started = ps.find((p) => p.pid === childPid);
  if (started) return started;
  const pids = new Set(ps.map((p) => p.pid));
  const orphans = ps.filter((p) => !pids.has(p.info.ppid ?? -1));
  orphans.sort((a, b) => (a.recording.meta?.tStart ?? Infinity) - (b.recording.meta?.tStart ?? Infinity) || a.pid - b.pid);
  return orphans[0] ?? ps[0];
}

function processInfo(pid: number, r: PythonRecording): ProcessInfo {
  const p = r.meta?.process;
  const info: ProcessInfo = { pid, role: "subprocess", label: `pid ${pid}`, traced: true };
  if (p) {
    info.ppid = p.ppid;
    if (p.argv.length) info.argv = p.argv;
    if (p.cpus !== undefined) info.cpus = p.cpus;
    if (p.root) info.role = "main";
    else if (p.dataloaderWorker !== undefined) info.role = "dataloader worker";
    else if (p.mpName) info.role = "multiprocessing";
    else if (p.forked) info.role = "fork";
  }
  if (r.meta?.torchThreads !== undefined) info.torchThreads = r.meta.torchThreads;
  info.label =
    info.role === "dataloader worker"
      ? `DataLoader worker ${p!.dataloaderWorker}`
      : info.role === "multiprocessing"
        ? `${p!.mpName}`
        : info.role === "fork"
          ? `fork of ${info.ppid ?? "?"}`
          : info.argv
            ? `python ${info.argv.join(" ")}`.slice(0, 80)
            : `pid ${pid}`;
  return info;
}
