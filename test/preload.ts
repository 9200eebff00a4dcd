// Runs once before the tests: builds the C shim when a fresh clone runs `bun test` before
// `bun run build`, and gives the run its own temp directory, removed at the end.
//
// Timeouts are not set here: Bun (1.4) applies a preload's setDefaultTimeout only to the first
// test file it runs, and bunfig's [test] timeout is not applied either. Every test file calls
// setDefaultTimeout itself (test/suite.test.ts checks that none forgets).
import { afterAll } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
if (!existsSync(join(root, "build/libinferscope.so"))) {
  const r = Bun.spawnSync([process.execPath, "build.ts", "--shim-only"], { cwd: root, stdout: "inherit", stderr: "inherit" });
  if (r.exitCode !== 0) throw new Error("test preload: building the C shim failed (see above)");
}

// Every temp dir a test makes (tmpdir() reads TMPDIR; cleanEnv() passes it to the processes the
// tests start) goes under one directory per run, removed when the run ends. Runs that left their
// traces in /tmp had filled the development machine's disk (71 GB, 685 MB left), and a CI run on
// such a machine failed the 13 tests that write the biggest traces.
// 0o711: tests that run a command as `nobody` reach their own (0o755) directories inside.
// Removed in a preload-level afterAll, which Bun runs once after the last file: `bun test` never
// emits process "exit" to a preload, and an exit handler here had left 1.3 GB per suite run.
// A run that was killed cannot clean up: the next one removes the directories of dead runs (the
// pid is in the name), never those of a run still going.
const base = tmpdir();
for (const name of readdirSync(base)) {
  const m = /^inferscope-suite-(\d+)-/.exec(name);
  if (m && !alive(Number(m[1]))) rmSync(join(base, name), { recursive: true, force: true });
}
const suiteTmp = mkdtempSync(join(base, `inferscope-suite-${process.pid}-`));
chmodSync(suiteTmp, 0o711);
process.env.TMPDIR = suiteTmp;
afterAll(() => rmSync(suiteTmp, { recursive: true, force: true }));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
