// Builds the C shim once when a fresh clone runs `bun test` before `bun run build`.
import { existsSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
if (!existsSync(join(root, "build/libinferscope.so"))) {
  const r = Bun.spawnSync([process.execPath, "build.ts", "--shim-only"], { cwd: root, stdout: "inherit", stderr: "inherit" });
  if (r.exitCode !== 0) throw new Error("test preload: building the C shim failed (see above)");
}

// Tests that start real processes (python, the binary, Chromium) can take seconds on a 2-core CI box.
import { setDefaultTimeout } from "bun:test";
setDefaultTimeout(60_000);
