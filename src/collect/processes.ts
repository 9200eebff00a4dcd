// The processes of a run: the script and every child whose tracer wrote python-<pid>.isc
// (forked children, multiprocessing and DataLoader workers, Python subprocesses), each read with
// its torch ops (ops-<pid>.isc), named for its lane in the trace and the reports.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { ProcessInfo } from "../trace/model.ts";
import { type PythonRecording, readPythonFile } from "./python-events.ts";

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
  /** Keep at most about this many events per process: the earliest (src/trace/window.ts). */
  maxEvents?: number;
  /** Progress over all the files (bytes read, bytes in all, events seen): for long reads. */
  onProgress?: (done: number, total: number, events: number) => void;
}

/** The bytes of every recording file in rawDir (for progress). */
export function recordingBytes(rawDir: string): number {
  let n = 0;
  for (const f of existsSync(rawDir) ? readdirSync(rawDir) : []) if (/^(python|ops)-\d+\.isc$/.test(f)) n += statSync(join(rawDir, f)).size;
  return n;
}

/** Every traced process, the script first, then children by pid. */
export function readProcesses(rawDir: string, opts: ReadProcessesOptions): TracedProcess[] {
  const files = existsSync(rawDir) ? readdirSync(rawDir) : [];
  const out: TracedProcess[] = [];
  const total = opts.onProgress ? recordingBytes(rawDir) : 0;
  let before = 0; // bytes and events of the files read already
  let eventsBefore = 0;
  for (const f of files) {
    const m = /^python-(\d+)\.isc$/.exec(f);
    if (!m) continue;
    const pid = Number(m[1]);
    const opsPath = join(rawDir, `ops-${pid}.isc`);
    const progress = opts.onProgress;
    const recording = readPythonFile(join(rawDir, f), {
      pid,
      minDurationNs: opts.minDurationNs,
      summarizeOps: opts.summarizeOps,
      opsPath: existsSync(opsPath) ? opsPath : null,
      maxEvents: opts.maxEvents,
      onProgress: progress
        ? (done, _size, events) => progress(before + done, total, eventsBefore + events)
        : undefined,
    });
    if (progress) before += statSync(join(rawDir, f)).size + (existsSync(opsPath) ? statSync(opsPath).size : 0);
    eventsBefore += recording.events + recording.ops;
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
