// Shared by the tests: run the CLI as a user would (a real subprocess) and temp dirs.
import { chmodSync, copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "..");
export const BIN = join(ROOT, "dist/inferscope");
const BUN = process.execPath;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Environment without the caller's INFERSCOPE_* variables, so tests start from defaults. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("INFERSCOPE_")) env[k] = v;
  env.NO_COLOR = "1";
  return { ...env, ...extra };
}

/** Runs a command to its end with the given stdin text, capturing stdout and stderr. */
/** `timeoutMs`: kill it (SIGKILL) after that long, for a test of a former hang; its code is then -1. */
export function spawnCapture(cmd: string[], opts: { cwd: string; env?: Record<string, string>; stdin?: string; timeoutMs?: number }): CliResult {
  const r = Bun.spawnSync(cmd, {
    cwd: opts.cwd,
    ...(opts.timeoutMs !== undefined ? { timeout: opts.timeoutMs, killSignal: "SIGKILL" as const } : {}),
    env: opts.env ?? cleanEnv(),
    stdin: opts.stdin !== undefined ? new TextEncoder().encode(opts.stdin) : "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** `bun src/main.ts …` (source) or the compiled binary with `{ binary: true }`. */
export function cli(args: string[], opts: { cwd?: string; env?: Record<string, string>; binary?: boolean; stdin?: string; timeoutMs?: number } = {}): CliResult {
  const cmd = opts.binary ? [BIN, ...args] : [BUN, join(ROOT, "src/main.ts"), ...args];
  return spawnCapture(cmd, { ...opts, cwd: opts.cwd ?? ROOT });
}

export function tempDir(prefix = "inferscope-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Builds dist/inferscope once if a test needs the binary and it is missing. */
export function ensureBinary(): string {
  if (!existsSync(BIN)) {
    const r = Bun.spawnSync([BUN, "build.ts"], { cwd: ROOT, stdout: "inherit", stderr: "inherit" });
    if (r.exitCode !== 0) throw new Error("building dist/inferscope failed");
  }
  return BIN;
}

let nobodyCopy: { bun: string; main: string } | null = null;

/**
 * The CLI run as user `nobody` (tests that need a permission root ignores). It runs from a copy
 * outside the checkout — the source bundled into one file, and Bun itself — because the clone
 * may lie where only its owner can enter (e.g. under a mode-700 `mktemp -d`).
 */
export function cliAsNobody(args: string[], opts: { cwd: string; env?: Record<string, string> }): CliResult {
  if (!nobodyCopy) {
    const dir = tempDir("inferscope-nobody-");
    process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
    chmodSync(dir, 0o755);
    const r = Bun.spawnSync([BUN, "build", join(ROOT, "src/main.ts"), "--target=bun", "--outdir", dir], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`bundling src/main.ts failed: ${r.stderr.toString()}`);
    const bun = join(dir, "bun");
    copyFileSync(BUN, bun);
    chmodSync(bun, 0o755);
    nobodyCopy = { bun, main: join(dir, "main.js") };
  }
  return spawnCapture(["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", nobodyCopy.bun, nobodyCopy.main, ...args], { cwd: opts.cwd, env: opts.env });
}
