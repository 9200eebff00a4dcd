// SIGUSR1 / SIGUSR2 to `inferscope run` open / close a capture window (src/tracer/inferscope/
// _window.py). They go straight to the Python process(es) whose tracer said it takes them
// (raw/control-<pid>), never to a launcher in between, and never before the tracer is ready:
// a SIGUSR1 that reaches Python before its handler exists would kill it (the default action).
import { readdirSync } from "node:fs";
import { log } from "../log.ts";

export const CAPTURE_SIGNALS = { SIGUSR1: "start", SIGUSR2: "stop" } as const;
type CaptureSignal = keyof typeof CAPTURE_SIGNALS;

/** Pids of the processes that take the capture signals (their tracer wrote control-<pid>). */
export function controlPids(rawDir: string): number[] {
  try {
    return readdirSync(rawDir)
      .map((f) => /^control-(\d+)$/.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]));
  } catch {
    return [];
  }
}

export class CaptureSignals {
  private readonly listeners = new Map<CaptureSignal, () => void>();

  constructor(private readonly rawDir: string) {
    for (const sig of Object.keys(CAPTURE_SIGNALS) as CaptureSignal[]) {
      const h = () => this.forward(sig);
      this.listeners.set(sig, h);
      process.on(sig, h);
    }
  }

  private forward(sig: CaptureSignal): void {
    const pids = controlPids(this.rawDir);
    if (!pids.length) {
      log.warn(`${sig} (capture ${CAPTURE_SIGNALS[sig]}) ignored: the script's tracer is not taking capture signals (not started yet, or the script handles SIGUSR1/SIGUSR2 itself)`);
      return;
    }
    for (const pid of pids) {
      try {
        process.kill(pid, sig);
      } catch {
        // that process has ended
      }
    }
    log.info(`capture ${CAPTURE_SIGNALS[sig]} (${sig}) sent to pid ${pids.join(", ")}`);
  }

  dispose(): void {
    for (const [sig, h] of this.listeners) process.off(sig, h);
    this.listeners.clear();
  }
}
