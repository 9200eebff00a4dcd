// Starts the profiled Python and supervises it: stdio inherited (live), SIGINT/SIGTERM/SIGHUP
// forwarded, the exit status turned into a shell exit code (128+N when killed by signal N).
import { constants } from "node:os";
import { readFileSync } from "node:fs";
import { fail } from "../errors.ts";

export interface ChildSpec {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
}

export interface ChildResult {
  pid: number;
  /** The shell's view: the exit code, or 128+N when killed by signal N. */
  exitCode: number;
  /** Set when the child was killed by a signal. */
  signal?: string;
  /** Signals the parent received while the child ran (forwarded or not). */
  signalsReceived: string[];
}

const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * True when this process is in the foreground process group of its controlling terminal: a
 * Ctrl-C (SIGINT) or hang-up from that terminal then reached the child too (same group), and
 * forwarding it would deliver it twice.
 */
export function terminalDeliversToChild(): boolean {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const pgrp = Number(fields[2]);
    const tpgid = Number(fields[5]);
    return tpgid > 0 && tpgid === pgrp;
  } catch {
    return false;
  }
}

export function signalExitCode(signal: string): number {
  const n = (constants.signals as Record<string, number>)[signal];
  return 128 + (n ?? 0);
}

/**
 * Runs the child to completion. `onStart` is called with its pid right after the spawn (the
 * sampler starts there).
 */
export async function runChild(spec: ChildSpec, onStart?: (pid: number) => void): Promise<ChildResult> {
  let proc: ReturnType<typeof Bun.spawn>;
  try {
    proc = Bun.spawn({ cmd: spec.argv, env: spec.env, cwd: spec.cwd, stdin: "inherit", stdout: "inherit", stderr: "inherit" });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") fail(`Python interpreter "${spec.argv[0]}" not found; pass --python PATH (or set INFERSCOPE_PYTHON, or python: in .inferscope.yaml)`);
    if (code === "EACCES") fail(`Python interpreter "${spec.argv[0]}" is not executable; pass --python PATH`);
    throw e;
  }
  const received: string[] = [];
  const handlers = new Map<string, () => void>();
  for (const sig of FORWARDED) {
    const h = () => {
      received.push(sig);
      if ((sig === "SIGINT" || sig === "SIGHUP") && terminalDeliversToChild()) return;
      try {
        proc.kill(sig);
      } catch {
        // already gone
      }
    };
    handlers.set(sig, h);
    process.on(sig, h);
  }
  try {
    onStart?.(proc.pid);
    await proc.exited;
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
  }
  const sc = proc.signalCode as string | number | null;
  const signal = typeof sc === "number" ? Object.entries(constants.signals).find(([, n]) => n === sc)?.[0] : (sc ?? undefined);
  const exitCode = signal ? signalExitCode(signal) : (proc.exitCode ?? 1);
  return { pid: proc.pid, exitCode, ...(signal ? { signal } : {}), signalsReceived: received };
}
