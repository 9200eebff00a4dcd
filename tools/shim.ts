// Compiles the C shim (ffi/*.c) into one shared library for a target, linked so that it loads on
// glibc ≥ GLIBC_FLOOR (see glibc-floor.ts), and fails the build when it would not.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { readElfFile } from "./elf.ts";
import { floorProblems, GLIBC_FLOOR, rebindable, writeLinkStubs } from "./glibc-floor.ts";
import { compilerFor, type Target } from "./targets.ts";
import { cudaCallsHeader } from "../src/trace/cuda-calls.ts";

function run(cmd: string[], cwd: string): void {
  const r = Bun.spawnSync(cmd, { cwd, stdout: "inherit", stderr: "inherit" });
  if (r.exitCode !== 0) throw new Error(`build: failed (exit ${r.exitCode}): ${cmd.join(" ")}`);
}

/** The directory holding cupti.h (CUDA toolkit headers), or null. */
export function cudaInclude(): string | null {
  for (const base of [process.env.CUDA_HOME, process.env.CUDA_PATH, "/usr/local/cuda"]) {
    if (!base) continue;
    for (const inc of [join(base, "include"), join(base, "extras/CUPTI/include")]) {
      if (existsSync(join(inc, "cupti.h"))) return inc;
    }
  }
  return null;
}

/** The target's libc.so.6 as its compiler links against it. */
function targetLibc(cc: string): string {
  let r;
  try {
    r = Bun.spawnSync([cc, "-print-file-name=libc.so.6"], { stdout: "pipe", stderr: "pipe" });
  } catch {
    throw new Error(`build: C compiler "${cc}" not found (Debian: apt-get install gcc, or gcc-aarch64-linux-gnu for arm64)`);
  }
  const path = r.stdout.toString().trim();
  if (r.exitCode !== 0 || !path.startsWith("/") || !existsSync(path)) throw new Error(`build: "${cc} -print-file-name=libc.so.6" found no libc.so.6: is ${cc} a glibc toolchain?`);
  return path;
}

/** Builds `out` from ffi/*.c for `target`; returns `out`. `requireCupti`: no CUDA headers is an error (a release). */
export async function buildShim(root: string, target: Target, out: string, requireCupti = false): Promise<string> {
  const cc = compilerFor(target);
  const libc = await readElfFile(targetLibc(cc));
  const stubs = writeLinkStubs(cc, join(root, "build/glibc-stubs", target.name), libc);
  mkdirSync(dirname(out), { recursive: true });
  let sources = [...new Bun.Glob("ffi/*.c").scanSync({ cwd: root })].sort();
  // -ffile-prefix-map: the debug info holds no path of this clone or of CUDA (reproducible builds).
  const flags = ["-O2", "-g", "-Wall", "-Wextra", "-fPIC", "-shared", "-fvisibility=default", `-ffile-prefix-map=${root}=.`];
  const inc = cudaInclude();
  if (inc) {
    // The calls CUPTI records, from the one table the TypeScript readers use too.
    const header = join(root, "build/cuda_calls.h");
    const text = cudaCallsHeader();
    mkdirSync(dirname(header), { recursive: true });
    if (!existsSync(header) || readFileSync(header, "utf8") !== text) writeFileSync(header, text);
    flags.push(`-I${inc}`, `-I${dirname(header)}`, `-ffile-prefix-map=${inc}=cuda`, "-DIS_HAVE_CUPTI=1");
  } else {
    if (requireCupti) throw new Error("release: CUDA headers (cupti.h) not found in $CUDA_HOME or /usr/local/cuda: a release built without CUPTI would not see the GPU");
    sources = sources.filter((s) => !s.includes("cupti"));
    console.warn("build: warning: CUDA headers (cupti.h) not found in $CUDA_HOME or /usr/local/cuda: the shim is built without CUPTI, so GPU collection is off");
  }
  // The stubs come before libc so dlopen & co. bind to libdl.so.2 etc. at their old versions;
  // -ldl -lpthread are for a build machine with glibc < 2.34 (no stubs there: nothing moved yet).
  run([cc, ...flags, "-o", out, ...sources, "-Wl,--as-needed", ...stubs, "-ldl", "-lpthread"], root);
  const elf = await readElfFile(out);
  if (elf.machine !== target.machine) throw new Error(`build: ${out} is for ELF machine ${elf.machine}, not ${target.name}: is ${cc} the right compiler?`);
  const problems = floorProblems(elf, new Set(rebindable(libc).keys()));
  if (problems.length) {
    throw new Error(
      `build: ${out} would not load on glibc ${GLIBC_FLOOR} (InferScope's floor, Bun's own):\n  ${problems.join("\n  ")}\n` +
        "Use an older function, or bind it to an old version with .symver if its ABI is unchanged.",
    );
  }
  return out;
}
