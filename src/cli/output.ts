// Where a command's data goes: stdout, or --output FILE, for every command that writes data
// (analyze, diff). The file is checked before any work (output-file.ts: never the input, never a
// file the user had without --force, format from the extension) and written whole or not at all.
// On stdout a reader that stops early (`| head`) ends the command quietly with 141, as SIGPIPE
// would end a C tool; a stdout that cannot take the data (a full disk, a descriptor opened
// read-only) ends in one line instead of a stack trace.
import { fail, ioProblem, QuietExit } from "../errors.ts";
import { type OutputFile, writeWhole } from "./output-file.ts";

export { checkOutputFile, type OutputFile } from "./output-file.ts";

export function parseTop(v: unknown): number {
  const s = String(v ?? "10");
  if (!/^\d+$/.test(s) || Number(s) < 1 || Number(s) > 10000) fail(`--top must be a whole number from 1 to 10000 (got "${s}")`);
  return Number(s);
}

export function parseChoice<T extends string>(flag: string, v: unknown, choices: readonly T[], fallback: T): T {
  const s = String(v ?? fallback).toLowerCase();
  if (!(choices as readonly string[]).includes(s)) fail(`${flag} must be ${choices.slice(0, -1).join(", ")} or ${choices[choices.length - 1]} (got "${String(v)}")`);
  return s as T;
}

/** 128 + SIGPIPE: what a shell shows for a program stopped by a closed pipe. */
export const EXIT_PIPE_CLOSED = 141;

let guarded = false;

/**
 * Errors on stdout are handled where it is written; without a listener a late 'error' event
 * (the pipe closing after the last write) would crash the process with Bun's internals.
 */
export function guardStdout(): void {
  if (guarded) return;
  guarded = true;
  process.stdout.on("error", () => {});
}

export async function writeStdout(data: string | Uint8Array): Promise<void> {
  guardStdout();
  try {
    await new Promise<void>((resolve, reject) => {
      process.stdout.write(data, (err) => (err ? reject(err) : resolve()));
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EPIPE" || code === "ECONNRESET") throw new QuietExit(EXIT_PIPE_CLOSED);
    if (code === "EBADF") fail("cannot write to stdout: it is not open for writing; redirect it to a file, or pass -o FILE where the command has it");
    fail(`cannot write to stdout: ${ioProblem(e)}${code === "ENOSPC" || code === "EDQUOT" ? "; free some space, or write to another disk" : ""}`);
  }
}

/** The data on stdout, or into the --output file checked before the work began. */
export async function writeOutput(target: OutputFile | null, text: string, what = "report"): Promise<void> {
  if (!target) return writeStdout(text);
  writeWhole(target.path, text, { special: target.special, what });
  // loaded here: main.ts uses this module for --version, which must not load the logger
  const { log } = await import("../log.ts");
  log.info(`${what} written to ${target.path}`);
}
