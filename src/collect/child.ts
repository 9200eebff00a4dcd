// Starts the profiled Python and supervises it: stdio inherited (live), SIGINT/SIGTERM/SIGHUP
// forwarded through the run's SignalRelay, the exit status turned into a shell exit code
// (128+N when killed by signal N).
import { constants } from "node:os";
import { fail } from "../errors.ts";
import { signalExitCode, type SignalRelay } from "./signals.ts";

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

/**
 * Runs the child to completion. `relay` has listened since the run began: signals that arrived
 * during the spawn are forwarded as soon as the child exists. `onStart` is called with its pid
 * right after the spawn (the sampler starts there).
 */
export async function runChild(spec: ChildSpec, relay: SignalRelay, onStart?: (pid: number) => void): Promise<ChildResult> {
  let proc: ReturnType<typeof Bun.spawn>;
  try {
    proc = Bun.spawn({ cmd: spec.argv, env: spec.env, cwd: spec.cwd, stdin: "inherit", stdout: "inherit", stderr: "inherit" });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") fail(`Python interpreter "${spec.argv[0]}" not found; pass --python PATH (or set INFERSCOPE_PYTHON, or python: in .inferscope.yaml)`);
    if (code === "EACCES") fail(`Python interpreter "${spec.argv[0]}" is not executable; pass --python PATH`);
    throw e;
  }
  relay.attach({ pid: proc.pid, kill: (sig) => proc.kill(sig) });
  onStart?.(proc.pid);
  await proc.exited;
  const sc = proc.signalCode as string | number | null;
  const signal = typeof sc === "number" ? Object.entries(constants.signals).find(([, n]) => n === sc)?.[0] : (sc ?? undefined);
  const exitCode = signal ? signalExitCode(signal) : (proc.exitCode ?? 1);
  return { pid: proc.pid, exitCode, ...(signal ? { signal } : {}), signalsReceived: [...relay.received] };
}
