// `bun run build`: compiles the C shim (ffi/*.c → build/libinferscope.so, tools/shim.ts), then the
// single binary dist/inferscope with the shim, the Python tracer and the templates embedded.
// `bun build.ts --shim-only` stops after the shim (the test preload uses it).
// `bun run release` (`bun build.ts --release`): both targets, linux-x64 and linux-arm64, as
// dist/release/*.tar.gz + SHA256SUMS (tools/release.ts).
import { join } from "node:path";
import { compileBinary } from "./tools/compile.ts";
import { release } from "./tools/release.ts";
import { buildShim } from "./tools/shim.ts";
import { hostTarget } from "./tools/targets.ts";

const root = import.meta.dir;

try {
  if (process.argv.includes("--release")) {
    await release(root);
  } else {
    const shim = await buildShim(root, hostTarget(), join(root, "build/libinferscope.so"));
    if (!process.argv.includes("--shim-only")) {
      await compileBinary(root, hostTarget(), shim, join(root, "dist/inferscope"));
      console.error("build: dist/inferscope ready");
    }
  }
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
}
