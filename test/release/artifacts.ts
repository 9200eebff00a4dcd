// The release artifacts as a user gets them (dist/release/*.tar.gz + SHA256SUMS), unpacked with
// tar; what is needed to run the arm64 one here (qemu-user-static, Debian's arm64 libc); the
// Debian roots test/release/fetch-roots.sh unpacks.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { readElfFile } from "../../tools/elf.ts";
import { rebindable } from "../../tools/glibc-floor.ts";
import { releaseName, sourceDate } from "../../tools/release.ts";
import { targetByName, type Target } from "../../tools/targets.ts";
import { ROOT, tempDir } from "../helpers.ts";

export const RELEASE_DIR = join(ROOT, "dist/release");
export const X64 = targetByName("linux-x64");
export const ARM64 = targetByName("linux-arm64");
/** Debian 12's arm64 Python, unpacked by test/release/fetch-roots.sh (CI runs it). */
export const ARM64_PYTHON_ROOT = join(ROOT, "build/roots/arm64-python");
/** Debian 11's amd64 glibc 2.31 (before 2.34 moved dlopen into libc.so.6), by the same script. */
export const GLIBC_231_ROOT = join(ROOT, "build/roots/glibc-2.31");

const onPath = (cmd: string) => Bun.spawnSync(["sh", "-c", `command -v ${cmd}`], { stdout: "ignore" }).exitCode === 0;
const isHost = (t: Target) => t.name === `linux-${process.arch}`;
const qemuFor = (t: Target) => `qemu-${t.triple.split("-")[0]}-static`;
/** Debian's libc for a foreign target (libc6-arm64-cross, pulled in by gcc-aarch64-linux-gnu): qemu's -L root. */
const sysroot = (t: Target) => `/usr/${t.triple}`;


/** Why the release cannot be built here (null: it can). */
export function releaseMissing(): string | null {
  if (existsSync(join(RELEASE_DIR, "SHA256SUMS"))) return null;
  for (const t of [X64, ARM64]) {
    if (!isHost(t) && !onPath(`${t.triple}-gcc`)) return `${t.triple}-gcc is not installed (apt-get install gcc-${t.triple}; .ci/run installs it)`;
  }
  return null;
}

/** Why a binary for `t` cannot run here (null: it can, natively or under qemu-user). */
export function cannotRun(t: Target): string | null {
  if (isHost(t)) return null;
  if (!onPath(qemuFor(t))) return `${qemuFor(t)} is not installed (apt-get install qemu-user-static; .ci/run installs it)`;
  if (!existsSync(join(sysroot(t), "lib"))) return `no ${t.name} libc in ${sysroot(t)} (apt-get install gcc-${t.triple})`;
  return null;
}

/** The command that runs a binary for `t` here: itself, or under qemu-user with Debian's cross libc. */
export function runner(t: Target, bin: string): string[] {
  return isHost(t) ? [bin] : [qemuFor(t), "-L", sysroot(t), bin];
}

/** The source date the release in dist/release was built with (its archives' mtime), or null. */
export function builtSourceDate(): number | null {
  const stamp = join(ROOT, "build/release-source.json");
  if (!existsSync(join(RELEASE_DIR, "SHA256SUMS")) || !existsSync(stamp)) return null;
  return JSON.parse(readFileSync(stamp, "utf8")).sourceDate;
}

/** Builds the release if a test needs it and it is missing or from another commit (`npx bun run release`). */
export function ensureRelease(): void {
  if (builtSourceDate() === sourceDate(ROOT)) return;
  const r = Bun.spawnSync([process.execPath, "build.ts", "--release"], { cwd: ROOT, stdout: "inherit", stderr: "inherit" });
  if (r.exitCode !== 0) throw new Error("npx bun run release failed (see above)");
}

export function archivePath(t: Target): string {
  return join(RELEASE_DIR, `${releaseName(pkg.version, t)}.tar.gz`);
}

const unpacked = new Map<string, string>();

/** Unpacks a release archive with tar (once per test file); returns the path of its `inferscope`. */
export function unpack(t: Target): string {
  const done = unpacked.get(t.name);
  if (done) return done;
  const dir = tempDir("inferscope-release-");
  const r = Bun.spawnSync(["tar", "-xzf", archivePath(t), "-C", dir], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`tar -xzf ${archivePath(t)}: ${r.stderr.toString()}`);
  const bin = join(dir, releaseName(pkg.version, t), "inferscope");
  unpacked.set(t.name, bin);
  return bin;
}

/** The functions glibc moved into libc.so.6 (2.34) or re-versioned, from the libc this process runs on. */
export async function movedByGlibc234(): Promise<Set<string>> {
  const maps = readFileSync("/proc/self/maps", "utf8");
  const libc = maps
    .split("\n")
    .map((l) => l.trim().split(/\s+/)[5])
    .find((p) => p && /\/libc\.so\.6$/.test(p));
  if (!libc) throw new Error("no libc.so.6 in /proc/self/maps");
  return new Set(rebindable(await readElfFile(libc)).keys());
}

export function findRuntimeShim(cache: string): string {
  const root = join(cache, "inferscope");
  const dirs = readdirSync(root).filter((d) => existsSync(join(root, d, ".complete")));
  if (dirs.length !== 1) throw new Error(`expected one runtime dir in ${root}, found ${dirs.join(", ") || "none"}`);
  return join(root, dirs[0]!, "libinferscope.so");
}
