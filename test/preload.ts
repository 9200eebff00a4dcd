// Builds the C shim once when a fresh clone runs `bun test` before `bun run build`.
//
// Timeouts are not set here: Bun (1.4) applies a preload's setDefaultTimeout only to the first
// test file it runs, and bunfig's [test] timeout is not applied either. Every test file calls
// setDefaultTimeout itself (test/suite.test.ts checks that none forgets).
import { existsSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
if (!existsSync(join(root, "build/libinferscope.so"))) {
  const r = Bun.spawnSync([process.execPath, "build.ts", "--shim-only"], { cwd: root, stdout: "inherit", stderr: "inherit" });
  if (r.exitCode !== 0) throw new Error("test preload: building the C shim failed (see above)");
}
