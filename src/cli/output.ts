// Where a command's data goes: stdout, or --output FILE (never replacing a file without --force).
// Shared by analyze and diff.
import { writeFile } from "node:fs/promises";
import { fail } from "../errors.ts";
import { log } from "../log.ts";

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

export async function writeStdout(text: string): Promise<void> {
  await new Promise<void>((resolve, reject) => process.stdout.write(text, (err) => (err ? reject(err) : resolve())));
}

export async function writeOutput(out: string | undefined, text: string, force: boolean, what = "report"): Promise<void> {
  if (!out) return writeStdout(text);
  try {
    // Unlike Bun.write, does not create missing directories; "wx" never replaces a file the user had.
    await writeFile(out, text, { flag: force ? "w" : "wx" });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "EEXIST") fail(`${out} already exists; pass --force to overwrite it, or choose another path`);
    const why = code === "ENOENT" ? "its directory does not exist" : code === "EACCES" || code === "EPERM" ? "permission denied" : code === "EISDIR" ? "it is a directory" : (e as Error).message;
    fail(`cannot write the ${what} to ${out}: ${why}`);
  }
  log.info(`${what} written to ${out}`);
}
