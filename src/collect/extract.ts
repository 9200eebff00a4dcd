// The compiled binary carries the C shim and the Python tracer inside; Python (and dlopen) need
// real files. They are written once per content hash to $XDG_CACHE_HOME/inferscope/<hash>/,
// atomically (a private temp dir, then rename), so any number of concurrent first starts agree.
import { existsSync, lstatSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import shimEmbedded from "../../build/libinferscope.so" with { type: "file" };
import { fail, ioProblem } from "../errors.ts";
import { log } from "../log.ts";
import { TRACER_FILES } from "../tracer/manifest.ts";

export interface Runtime {
  /** The cache dir holding this build's runtime files. */
  dir: string;
  /** The C shim, ready for dlopen. */
  shimPath: string;
  /** Prepend to the child's PYTHONPATH: holds the `inferscope` package. */
  pythonPath: string;
}

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), ".cache");
  return join(base, "inferscope");
}

/**
 * Where the runtime goes when the cache dir cannot be written (a read-only HOME, XDG_CACHE_HOME
 * pointing nowhere): a directory in the temp dir that only this user owns.
 */
export function fallbackRoot(): string {
  return join(tmpdir(), `inferscope-${process.getuid?.() ?? "user"}`);
}

function privateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  // A shared /tmp: never use a directory someone else made (they could swap the shim).
  if (!st.isDirectory() || (process.getuid && st.uid !== process.getuid()) || (st.mode & 0o022) !== 0) {
    throw Object.assign(new Error(`${dir} is not a private directory of this user`), { code: "EPERM" });
  }
}

let cached: Runtime | null = null;

/** The runtime files on disk: in the cache dir, else in a private temp dir, else one clear line. */
export async function extractRuntime(root = cacheRoot()): Promise<Runtime> {
  if (cached && existsSync(cached.shimPath)) return cached;
  try {
    return await extractInto(root);
  } catch (e) {
    const fallback = fallbackRoot();
    try {
      privateDir(fallback);
      const rt = await extractInto(fallback);
      log.debug(`cannot write to the cache dir ${root} (${ioProblem(e)}): runtime files in ${fallback}`);
      return rt;
    } catch (e2) {
      fail(`cannot write InferScope's runtime files to ${root} (${ioProblem(e)}) nor to ${fallback} (${ioProblem(e2)}); set XDG_CACHE_HOME to a writable directory`);
    }
  }
}

async function extractInto(root: string): Promise<Runtime> {
  const shim = await Bun.file(shimEmbedded).bytes();
  const hasher = new Bun.CryptoHasher("sha256");
  hasher.update(shim);
  for (const [rel, text] of Object.entries(TRACER_FILES).sort(([a], [b]) => a.localeCompare(b))) {
    hasher.update(rel);
    hasher.update("\0");
    hasher.update(text);
  }
  const dir = join(root, hasher.digest("hex").slice(0, 16));
  const rt: Runtime = { dir, shimPath: join(dir, "libinferscope.so"), pythonPath: join(dir, "python") };
  // The marker is written last inside the temp dir, so a dir that exists under its final name is complete.
  if (!existsSync(join(dir, ".complete"))) {
    mkdirSync(root, { recursive: true });
    const tmp = `${dir}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    try {
      mkdirSync(tmp, { recursive: true });
      writeFileSync(join(tmp, "libinferscope.so"), shim, { mode: 0o755 });
      for (const [rel, text] of Object.entries(TRACER_FILES)) {
        const p = join(tmp, "python", rel);
        mkdirSync(dirname(p), { recursive: true });
        writeFileSync(p, text);
      }
      writeFileSync(join(tmp, ".complete"), "");
      try {
        renameSync(tmp, dir);
      } catch (e) {
        // Another process won the race: its copy is identical (same hash).
        if (!existsSync(join(dir, ".complete"))) throw e;
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  cached = rt;
  return rt;
}
