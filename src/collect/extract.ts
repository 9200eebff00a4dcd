// The compiled binary carries the C shim and the Python tracer inside; Python (and dlopen) need
// real files. They are written once per content hash to $XDG_CACHE_HOME/inferscope/<hash>/,
// atomically (a private temp dir, then rename), so any number of concurrent first starts agree.
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import shimEmbedded from "../../build/libinferscope.so" with { type: "file" };
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

let cached: Runtime | null = null;

export async function extractRuntime(root = cacheRoot()): Promise<Runtime> {
  if (cached && existsSync(cached.shimPath)) return cached;
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
