// A Python command that is a launcher script (pyenv and asdf shims, wrapper scripts): a shell
// script that finds the real interpreter and execs it. Its own work can cost more than Python's
// start-up (pyenv's shim: ~0.4 s on the development box, against ~0.1 s for the interpreter
// itself), in every run and in every subprocess started through it. Found before the run, with
// what starting the interpreter directly costs, so that a start-up finding can name both.
import { closeSync, openSync, readSync } from "node:fs";

/** The file `python` names: itself when it has a slash, else the first match on PATH. */
export function resolveCommand(python: string, env: Record<string, string | undefined>): string | null {
  if (python.includes("/")) return python;
  return Bun.which(python, { PATH: env.PATH ?? "" });
}

/** Whether the file starts with "#!" (a script the kernel hands to its interpreter). */
export function isScript(path: string): boolean {
  let fd: number | null = null;
  try {
    fd = openSync(path, "r");
    const head = new Uint8Array(2);
    return readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x23 && head[1] === 0x21;
  } catch {
    return false;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/** Milliseconds, rounded to 0.1. */
export const roundMs = (ms: number) => Math.round(ms * 10) / 10;
