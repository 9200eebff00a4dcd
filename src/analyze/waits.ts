// Where threads waited instead of running (docs/analysis.md, "Running and waiting"): every wait
// span (a blocking builtin that took at least the tracer's threshold: time.sleep, lock.acquire,
// select/poll/epoll, a pipe or socket read, a write or fsync, os.waitpid …) with the Python
// function that called it, the innermost user-code frame above it, and what it waited for, told
// from the builtin and the frames around it (DataLoader workers, an event loop, a queue, futures …).
import type { CpuSpan } from "../trace/model.ts";
import type { Union } from "../core/intervals.ts";

export interface WaitEntry {
  pid: number;
  tid: number;
  /** The blocking builtin: "select.epoll.poll", "lock.acquire", "time.sleep" … */
  call: string;
  /** What the thread waited for, in words: "an event loop waiting for input", "DataLoader workers" … */
  on: string;
  /** Innermost Python function around the wait (Condition.wait, EpollSelector.select …). */
  function?: string;
  file?: string;
  line?: number;
  /** Innermost frame of the user's own code above it (where in the script it waited). */
  caller?: string;
  callerFile?: string;
  callerLine?: number;
  count: number;
  ns: number;
  /** Waits for a child process: the part of `ns` during which other traced processes ran (their work, not lost time); absent for other kinds. */
  childWorkNs?: number;
}

export interface WaitMetrics {
  /** Grouped by (thread, call, what it waited for, function, caller), longest first. */
  entries: WaitEntry[];
  /** Time waiting per thread (union of its waits). */
  byThread: Map<number, number>;
  totalNs: number;
  /** Whether the trace records waits at all (an InferScope trace from the C hot path). */
  recorded: boolean;
}

const LIB = /(site-packages|dist-packages)\/|\/lib\/python\d+\.\d+\/|^<frozen |^<string>/;

export function isUserFile(file: string | undefined): boolean {
  return !!file && !LIB.test(file);
}

/** What a wait is for, from the builtin and the Python frames around it (innermost last). */
export function waitKind(call: string, frames: CpuSpan[]): string {
  const has = (re: RegExp) => frames.some((f) => re.test(f.name));
  if (has(/_MultiProcessingDataLoaderIter\.|_BaseDataLoaderIter\.__next__/)) return "DataLoader workers (the next batch)";
  if (has(/BaseEventLoop\._run_once|BaseSelectorEventLoop\._run_once/) && /select|poll/.test(call)) return "an event loop waiting for input (select/epoll)";
  if (has(/^Future\.result$|_base\.Future|^wait$|as_completed/) && /lock/.test(call)) return "futures (work running on other threads)";
  if (has(/^Thread\.join$/)) return "a thread to finish (Thread.join)";
  // Thread.start waits (Event.wait → lock.acquire) until the new thread runs: start-up, not contention
  if (has(/^Thread\.start$/)) return "a thread to start (Thread.start)";
  if (has(/^Queue\.get$|SimpleQueue|JoinableQueue/) || /queue/.test(call)) return "a queue (the producer side)";
  if (has(/Connection\.(recv|poll)|Pool\.|ApplyResult|_multiprocessing/) || /SemLock/.test(call)) return "other processes (multiprocessing)";
  if (has(/^Popen\.(wait|communicate)$|subprocess\.run$/) || /os\.wait/.test(call)) return CHILD_WAIT;
  if (/sleep/.test(call)) return "sleep";
  if (/accept|recv|socket/.test(call)) return "the network (socket)";
  if (/read/.test(call)) return "a read (pipe, terminal or disk)";
  if (/fsync|fdatasync|^os\.sync$/.test(call)) return "the disk (fsync)";
  if (/write|flush/.test(call)) return "a write (disk or pipe)";
  if (/select|poll/.test(call)) return "I/O readiness (select/poll)";
  if (/lock|RLock|Condition/.test(call) || has(/^Condition\.wait$|^Event\.wait$/)) return "a lock or condition (another thread)";
  return call;
}

/** The kind of wait that other processes' work can explain (waitKind's words). */
export const CHILD_WAIT = "a child process";

/**
 * `byThread`: spans per thread sorted parents first (the merger's); `others`: when other traced
 * processes ran (otherProcessesRunning), asked for only at the first wait for a child process.
 */
export function waitMetrics(byThread: Map<number, CpuSpan[]>, others: () => Union | null = () => null): WaitMetrics {
  let otherRunning: Union | null = null;
  let asked = false;
  const groups = new Map<string, WaitEntry>();
  const perThread = new Map<number, number>();
  let total = 0;
  let recorded = false;
  for (const [tid, spans] of byThread) {
    const stack: CpuSpan[] = [];
    let threadNs = 0;
    let lastEnd = -Infinity;
    for (const s of spans) {
      if (s.cat !== "python" && s.cat !== "wait") continue;
      while (stack.length && stack[stack.length - 1]!.end <= s.start) stack.pop();
      if (s.cat === "python") {
        stack.push(s);
        continue;
      }
      recorded = true;
      const ns = Math.max(0, s.end - s.start);
      // union per thread (waits do not overlap on a thread, but clipped ones may touch)
      const from = Math.max(s.start, lastEnd);
      if (s.end > from) threadNs += s.end - from;
      if (s.end > lastEnd) lastEnd = s.end;
      const fn = stack[stack.length - 1];
      let caller: CpuSpan | undefined;
      for (let k = stack.length - 1; k >= 0; k--) {
        if (isUserFile(stack[k]!.file)) {
          caller = stack[k];
          break;
        }
      }
      // what it waited for is part of the key: Condition.wait under <module> may wait for a thread
      // to start, then for a pool's results (the frames above it tell them apart)
      const on = waitKind(s.name, stack);
      const key = `${tid}\u0000${s.name}\u0000${on}\u0000${fn?.name ?? ""}\u0000${fn?.file ?? ""}\u0000${caller?.name ?? ""}\u0000${caller?.file ?? ""}\u0000${caller?.line ?? ""}`;
      let e = groups.get(key);
      if (!e) {
        e = { pid: s.pid, tid, call: s.name, on, count: 0, ns: 0 };
        if (fn) {
          e.function = fn.name;
          if (fn.file !== undefined) e.file = fn.file;
          if (fn.line !== undefined) e.line = fn.line;
        }
        if (caller && caller !== fn) {
          e.caller = caller.name;
          if (caller.file !== undefined) e.callerFile = caller.file;
          if (caller.line !== undefined) e.callerLine = caller.line;
        }
        groups.set(key, e);
      }
      e.count++;
      e.ns += ns;
      if (on === CHILD_WAIT && !asked) [otherRunning, asked] = [others(), true];
      if (on === CHILD_WAIT && otherRunning) e.childWorkNs = (e.childWorkNs ?? 0) + otherRunning.covered(s.start, s.end);
    }
    if (threadNs > 0) perThread.set(tid, threadNs);
    total += threadNs;
  }
  const entries = [...groups.values()].sort((a, b) => b.ns - a.ns || a.tid - b.tid || a.call.localeCompare(b.call));
  return { entries, byThread: perThread, totalNs: total, recorded };
}
