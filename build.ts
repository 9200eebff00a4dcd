// `bun run build`: compiles the C shim (ffi/*.c → build/libinferscope.so), then the single binary
// dist/inferscope with the shim, the Python tracer and the templates embedded.
// `bun build.ts --shim-only` stops after the shim (the test preload uses it).
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";

const root = import.meta.dir;
const shimOnly = process.argv.includes("--shim-only");

function run(cmd: string[]): void {
  const r = Bun.spawnSync(cmd, { cwd: root, stdout: "inherit", stderr: "inherit" });
  if (r.exitCode !== 0) {
    console.error(`build: failed (exit ${r.exitCode}): ${cmd.join(" ")}`);
    process.exit(1);
  }
}

function cudaInclude(): string | null {
  for (const base of [process.env.CUDA_HOME, process.env.CUDA_PATH, "/usr/local/cuda"]) {
    if (!base) continue;
    for (const inc of [join(base, "include"), join(base, "extras/CUPTI/include")]) {
      if (existsSync(join(inc, "cupti.h"))) return inc;
    }
  }
  return null;
}

export function buildShim(): string {
  mkdirSync(join(root, "build"), { recursive: true });
  const out = join(root, "build/libinferscope.so");
  const glob = new Bun.Glob("ffi/*.c");
  let sources = [...glob.scanSync({ cwd: root })].sort();
  const flags = ["-O2", "-g", "-Wall", "-Wextra", "-fPIC", "-shared", "-fvisibility=default"];
  const inc = cudaInclude();
  if (inc) {
    flags.push(`-I${inc}`, "-DIS_HAVE_CUPTI=1");
  } else {
    sources = sources.filter((s) => !s.includes("cupti"));
    console.warn("build: warning: CUDA headers (cupti.h) not found in $CUDA_HOME or /usr/local/cuda: the shim is built without CUPTI, so GPU collection is off");
  }
  const cc = process.env.CC ?? "cc";
  run([cc, ...flags, "-o", out, ...sources, "-ldl", "-lpthread"]);
  return out;
}

buildShim();
if (!shimOnly) {
  mkdirSync(join(root, "dist"), { recursive: true });
  run([
    process.execPath, "build", "src/main.ts",
    "--compile", "--bytecode", "--format=esm", "--minify",
    "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig",
    "--outfile", "dist/inferscope",
  ]);
  console.error("build: dist/inferscope ready");
}
