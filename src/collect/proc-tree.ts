// The profiled script's process tree, as the sampler sees it: every descendant found through
// /proc/<pid>/task/<tid>/children at each sample (so a child that lives at least one sampling
// interval is seen), with its command line. After the run, the children that wrote no trace
// file are the untraced ones: named in a warning when they were Python (a fork of the script, a
// multiprocessing worker, a Python subprocess), listed otherwise.
import { ptr } from "bun:ffi";
import { readFileSync } from "node:fs";
import type { Native } from "./native.ts";

export interface SeenProcess {
  pid: number;
  ppid: number;
  cmdline: string;
  firstNs: number;
  lastNs: number;
}

const MAX_CHILDREN = 1024;

export class ProcTree {
  readonly seen = new Map<number, SeenProcess>();
  private readonly buf = new Int32Array(MAX_CHILDREN);
  private readonly text = new Uint8Array(4096);
  /** Whether /proc exposes children lists here (CONFIG_PROC_CHILDREN); null until tried. */
  supported: boolean | null = null;

  constructor(
    private readonly native: Native,
    readonly root: number,
  ) {}

  /** Live processes of the tree (the root first): what the sampler reads this tick. */
  pids(): number[] {
    return [this.root, ...[...this.seen.values()].map((p) => p.pid)];
  }

  /** One walk from the root; new descendants are recorded with their command line. */
  update(now: number): void {
    const s = this.native.lib.symbols;
    const queue = [this.root];
    const visited = new Set<number>();
    while (queue.length) {
      const pid = queue.shift()!;
      if (visited.has(pid)) continue;
      visited.add(pid);
      const n = s.is_proc_children(pid, ptr(this.buf), MAX_CHILDREN);
      if (pid === this.root && this.supported === null) this.supported = n >= 0;
      for (let i = 0; i < n; i++) {
        const c = this.buf[i]!;
        if (visited.has(c)) continue;
        let p = this.seen.get(c);
        if (!p) {
          const len = s.is_proc_cmdline(c, ptr(this.text), this.text.length - 1);
          p = { pid: c, ppid: pid, cmdline: len > 0 ? new TextDecoder().decode(this.text.subarray(0, len)) : "", firstNs: now, lastNs: now };
          this.seen.set(c, p);
        } else {
          p.lastNs = now;
          // A fork that then exec'd changes its command line: read it again while it is short-lived news.
          if (now - p.firstNs < 1e9) {
            const len = s.is_proc_cmdline(c, ptr(this.text), this.text.length - 1);
            if (len > 0) p.cmdline = new TextDecoder().decode(this.text.subarray(0, len));
          }
        }
        queue.push(c);
      }
    }
  }
}

/** Whether a command line looks like a Python interpreter (python, python3.11, …/bin/python). */
export function looksPython(cmdline: string, rootCmdline: string): boolean {
  const argv0 = cmdline.split(" ")[0] ?? "";
  return /(^|\/)python[\d.]*$/.test(argv0) || (rootCmdline !== "" && cmdline === rootCmdline);
}

/** Whether `pid` is alive (not gone, not a zombie waiting to be reaped). */
function alive(pid: number): boolean {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = st.charAt(st.lastIndexOf(")") + 2);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/**
 * Waits, up to `ms`, for the descendants that outlive the script (multiprocessing's forkserver
 * ends when it sees the script gone; a worker finishing its last item) so that their trace files
 * are complete when read. Returns the pids still alive then.
 */
export async function awaitDescendants(tree: ProcTree, ms: number): Promise<number[]> {
  const end = Date.now() + ms;
  let left = [...tree.seen.keys()].filter(alive);
  while (left.length > 0 && Date.now() < end) {
    await Bun.sleep(20);
    left = left.filter(alive);
  }
  return left;
}
