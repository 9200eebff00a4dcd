// Every ELF InferScope ships (the C shim and the Bun binary, for x64 and arm64) loads on glibc
// 2.17: no symbol version above the floor, and functions glibc 2.34 moved into libc.so.6
// (dlopen, pthread_create, …) required from the library that defined them before (libdl.so.2,
// libpthread.so.0), which is listed in DT_NEEDED.
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readElfFile, EM_AARCH64, EM_X86_64 } from "../../tools/elf.ts";
import { floorProblems, GLIBC_FLOOR } from "../../tools/glibc-floor.ts";
import { cleanEnv, ensureBinary, ROOT, tempDir } from "../helpers.ts";
import { ARM64, cannotRun, ensureRelease, findRuntimeShim, GLIBC_231_ROOT, movedByGlibc234, releaseMissing, runner, unpack, X64 } from "./artifacts.ts";

// Per file: bun applies the preload's default timeout to the first test file only.
setDefaultTimeout(120_000);

const moved = await movedByGlibc234();
// On glibc < 2.34 (nothing moved yet) a plain link already gives dlopen@GLIBC_2.2.5 from libdl.so.2.
const newGlibc = moved.has("dlopen");

async function problems(path: string): Promise<string[]> {
  return floorProblems(await readElfFile(path), moved);
}

/** A tiny shared library calling dlopen, built the way the shim was built before the floor. */
function cc(name: string, src: string, extra: string[] = []): string {
  const dir = tempDir("inferscope-elf-");
  writeFileSync(join(dir, `${name}.c`), src);
  const out = join(dir, `${name}.so`);
  const r = Bun.spawnSync(["cc", "-shared", "-fPIC", "-o", out, join(dir, `${name}.c`), ...extra], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(r.stderr.toString());
  return out;
}

const CALLS_DLOPEN = '#include <dlfcn.h>\nint f(void) { return dlopen("libm.so.6", RTLD_NOW) != 0; }\n';

describe("the floor check fails where glibc 2.17 could not load a file", () => {
  test.skipIf(!newGlibc)("dlopen as linked on glibc ≥ 2.34: GLIBC_2.34 is above the floor", async () => {
    const p = await problems(cc("plain", CALLS_DLOPEN, ["-ldl"]));
    expect(p).toContain(`dlopen@GLIBC_2.34 from libc.so.6: newer than glibc ${GLIBC_FLOOR}`);
  });

  test.skipIf(!newGlibc || process.arch !== "x64")("dlopen bound to its old version by .symver alone still names libc.so.6: flagged", async () => {
    const src = '__asm__(".symver dlopen,dlopen@GLIBC_2.2.5");\n' + CALLS_DLOPEN;
    const p = await problems(cc("symver", src));
    expect(p).toEqual(["dlopen@GLIBC_2.2.5 from libc.so.6: glibc before 2.34 defines dlopen in libdl.so.2, not libc.so.6"]);
  });
});

describe(`shipped ELF files need glibc ≤ ${GLIBC_FLOOR}`, () => {
  test("build/libinferscope.so (this machine's shim): dlopen from libdl.so.2 at its old version", async () => {
    const path = join(ROOT, "build/libinferscope.so");
    expect(await problems(path)).toEqual([]);
    const elf = await readElfFile(path);
    expect(elf.machine).toBe(process.arch === "arm64" ? EM_AARCH64 : EM_X86_64);
    const dlopen = elf.imports.find((s) => s.name === "dlopen");
    expect(dlopen).toEqual({ name: "dlopen", version: process.arch === "arm64" ? "GLIBC_2.17" : "GLIBC_2.2.5", file: "libdl.so.2", weak: false });
    expect(elf.needed).toContain("libdl.so.2");
  });

  test("dist/inferscope (Bun's runtime)", async () => {
    expect(await problems(ensureBinary())).toEqual([]);
  });

  const missing = releaseMissing();
  describe.skipIf(missing !== null)(`release binaries and the shims they extract${missing ? ` (skipped: ${missing})` : ""}`, () => {
    beforeAll(() => ensureRelease());
    for (const t of [X64, ARM64]) {
      test(`${t.name}: the binary in the archive`, async () => {
        const bin = unpack(t);
        const elf = await readElfFile(bin);
        expect(elf.machine).toBe(t.machine);
        expect(floorProblems(elf, moved)).toEqual([]);
      });

      const why = cannotRun(t);
      test.skipIf(why !== null)(`${t.name}: the shim the binary writes to its cache at run time${why ? ` (skipped: ${why})` : ""}`, async () => {
        const cache = tempDir("inferscope-cache-");
        const r = Bun.spawnSync([...runner(t, unpack(t)), "doctor", "--json"], { cwd: "/", env: { ...process.env, XDG_CACHE_HOME: cache }, stdout: "pipe", stderr: "pipe" });
        expect(r.exitCode).toBe(0);
        const elf = await readElfFile(findRuntimeShim(cache));
        expect(elf.machine).toBe(t.machine);
        expect(elf.needed).toContain("libdl.so.2");
        expect(floorProblems(elf, moved)).toEqual([]);
      });
    }
  });
});

// Bun and the shim really loaded by an older glibc: Debian 11's 2.31 dynamic linker and libraries
// (dlopen still in libdl.so.2 there), run directly as `ld-2.31.so --library-path … program`.
const ld231 = join(GLIBC_231_ROOT, "lib/x86_64-linux-gnu/ld-2.31.so");
const no231 = process.arch !== "x64" ? "not an x64 machine" : existsSync(ld231) ? null : "no glibc 2.31 root: run bash test/release/fetch-roots.sh (CI does)";
describe.skipIf(no231 !== null)(`on glibc 2.31 (Debian 11)${no231 ? ` (skipped: ${no231})` : ""}`, () => {
  const libs = ["lib", "usr/lib"].map((d) => join(GLIBC_231_ROOT, d, "x86_64-linux-gnu")).join(":");
  const on231 = (cmd: string[], env: Record<string, string> = {}, cwd = "/") => {
    const r = Bun.spawnSync([ld231, "--library-path", libs, ...cmd], { cwd, env: cleanEnv(env), stdout: "pipe", stderr: "pipe" });
    return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  };
  /** bun:ffi loads `lib` and calls `fn` (int fn(void)). */
  const dlopenScript = (lib: string, fn: string) => {
    const script = join(tempDir("inferscope-dlopen-"), "load.ts");
    const sym = JSON.stringify(fn);
    writeFileSync(script, `import { dlopen } from "bun:ffi";\nconst l = dlopen(${JSON.stringify(lib)}, { [${sym}]: { args: [], returns: "i32" } });\nconsole.log("loaded", l.symbols[${sym}]());\n`);
    return [process.execPath, script];
  };

  test("the shim as linked before the floor (dlopen@GLIBC_2.34) does not load", () => {
    const r = on231(dlopenScript(cc("plain", CALLS_DLOPEN, ["-ldl"]), "f"));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("version `GLIBC_2.34' not found");
  });

  test("build/libinferscope.so loads", () => {
    expect(on231(dlopenScript(join(ROOT, "build/libinferscope.so"), "is_shim_version"))).toMatchObject({ code: 0, stdout: "loaded 1\n" });
  });

  test("dist/inferscope doctor --json: Bun starts, extracts the shim and calls into it", () => {
    const r = on231([ensureBinary(), "doctor", "--json"], { XDG_CACHE_HOME: tempDir("inferscope-cache-") });
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.shimVersion).toBe(1);
    expect(info.monotonicNs).toBeGreaterThan(0);
  });

  test("dist/inferscope run of the quickstart with Debian 11's Python 3.9: the shim's C hot path records it", () => {
    const dir = tempDir("inferscope-231-");
    const python = join(dir, "python3");
    writeFileSync(python, `#!/bin/sh\nexec ${ld231} --library-path ${libs} ${join(GLIBC_231_ROOT, "usr/bin/python3.9")} "$@"\n`, { mode: 0o755 });
    const out = join(dir, "runs");
    const args = ["run", "--python", python, "--output-dir", out, "--formats", "json", join(ROOT, "examples/quickstart.py"), "--steps", "3"];
    const r = on231([ensureBinary(), ...args], { XDG_CACHE_HOME: join(dir, "cache") }, dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("processed 3 steps\n");
    const trace = JSON.parse(readFileSync(join(out, readdirSync(out)[0]!, "trace.json"), "utf8"));
    expect(trace.inferscope.python).toBe("3.9.2");
    expect(trace.inferscope.pythonTracer.backend).toBe("setprofile+c");
  });
});

describe("the ELF reader agrees with binutils' readelf", () => {
  const hasReadelf = Bun.spawnSync(["sh", "-c", "command -v readelf"], { stdout: "ignore" }).exitCode === 0;
  test.skipIf(!hasReadelf)("imports with versions and DT_NEEDED of the shim", async () => {
    const path = join(ROOT, "build/libinferscope.so");
    const elf = await readElfFile(path);
    const syms = Bun.spawnSync(["readelf", "--dyn-syms", "-W", path], { stdout: "pipe" }).stdout.toString();
    const und = syms
      .split("\n")
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f[6] === "UND" && f[7])
      .map((f) => f[7]!);
    const mine = elf.imports.map((s) => (s.version ? `${s.name}@${s.version}` : s.name));
    expect(mine.sort()).toEqual(und.sort());
    const dyn = Bun.spawnSync(["readelf", "-d", "-W", path], { stdout: "pipe" }).stdout.toString();
    expect(elf.needed).toEqual([...dyn.matchAll(/\(NEEDED\)\s+Shared library: \[(.+)\]/g)].map((m) => m[1]!));
  });
});
