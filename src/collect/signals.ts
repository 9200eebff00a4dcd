// Ctrl-C, `kill` and hang-up during `inferscope run`, from the first instruction to the last.
//
// Why a relay that lives for the whole run, not handlers around the child's lifetime only:
// - Bun installs a signal's OS handler only when a listener is added. A SIGINT that arrived
//   while `Bun.spawn` was still starting the child killed InferScope on the spot and left the
//   script running, orphaned, until its own end (seen: 60 s hangs under load). Listening before
//   the spawn closes that window: a signal that comes before the child starts stops the run
//   there; one that comes during the spawn is forwarded as soon as the child exists.
// - A signal forwarded to a launcher that defers it and then execs Python (pyenv's bash shim
//   waits for its helper commands, then `exec`s the interpreter: bash holds a SIGINT until the
//   command it waits for ends, and exec loses it) never reached Python. The relay watches the
//   child's executable for a few seconds after forwarding and sends the signal again once if it
//   changed while the process lived on.
// - After the child ended, a signal stops the report writing: the callback removes what is
//   half-written, and the process exits 128+N at once.
import { constants } from "node:os";
import { readFileSync, readlinkSync } from "node:fs";

export const RELAYED = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
export type RelayedSignal = (typeof RELAYED)[number];

/** How long after forwarding a signal an exec of the child still gets it sent again. */
const EXEC_WATCH_MS = 5000;
const EXEC_POLL_MS = 5;

export function signalExitCode(signal: string): number {
  const n = (constants.signals as Record<string, number>)[signal];
  return 128 + (n ?? 0);
}

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

function exeOf(pid: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return null;
  }
}

interface Target {
  pid: number;
  kill(signal: RelayedSignal): void;
}

export class SignalRelay {
  /** Every signal received, in order (forwarded or not). */
  readonly received: RelayedSignal[] = [];
  private readonly listeners = new Map<RelayedSignal, () => void>();
  private child: Target | null = null;
  private exited = false;
  private forwarded = 0;
  private onAbort: ((signal: RelayedSignal) => void) | null = null;
  private watchers = new Set<ReturnType<typeof setInterval>>();

  constructor(private readonly terminalDelivers: () => boolean = terminalDeliversToChild) {
    for (const sig of RELAYED) {
      const h = () => this.receive(sig);
      this.listeners.set(sig, h);
      process.on(sig, h);
    }
  }

  /** The first signal received so far, if any (before the spawn: do not start the child). */
  get first(): RelayedSignal | undefined {
    return this.received[0];
  }

  /** The child now exists: forward what arrived while it was being started, and all later signals. */
  attach(child: Target): void {
    this.child = child;
    this.flush();
  }

  /**
   * The child has ended: from now on a signal calls `onAbort` (remove half-written output), then
   * ends this process with 128+N.
   */
  childExited(onAbort: (signal: RelayedSignal) => void): void {
    this.exited = true;
    this.onAbort = onAbort;
    for (const w of this.watchers) clearInterval(w);
    this.watchers.clear();
  }

  dispose(): void {
    for (const [sig, h] of this.listeners) process.off(sig, h);
    this.listeners.clear();
    for (const w of this.watchers) clearInterval(w);
    this.watchers.clear();
  }

  private receive(sig: RelayedSignal): void {
    this.received.push(sig);
    if (this.exited) {
      try {
        this.onAbort?.(sig);
      } finally {
        process.exit(signalExitCode(sig));
      }
    }
    this.flush();
  }

  private flush(): void {
    const child = this.child;
    if (!child || this.exited) return;
    while (this.forwarded < this.received.length) {
      const sig = this.received[this.forwarded++]!;
      // A terminal's Ctrl-C / hang-up already reached the child (same process group).
      if ((sig === "SIGINT" || sig === "SIGHUP") && this.terminalDelivers()) continue;
      this.send(child, sig);
      this.watchExec(child, sig);
    }
  }

  private send(child: Target, sig: RelayedSignal): void {
    try {
      child.kill(sig);
    } catch {
      // already gone
    }
  }

  /** Sends `sig` once more if the child execs another program within EXEC_WATCH_MS. */
  private watchExec(child: Target, sig: RelayedSignal): void {
    const before = exeOf(child.pid);
    if (before === null) return;
    const deadline = Date.now() + EXEC_WATCH_MS;
    const w = setInterval(() => {
      const now = exeOf(child.pid);
      const done = now === null || this.exited || Date.now() > deadline;
      if (!done && now !== before) this.send(child, sig);
      if (done || now !== before) {
        clearInterval(w);
        this.watchers.delete(w);
      }
    }, EXEC_POLL_MS);
    this.watchers.add(w);
  }
}
