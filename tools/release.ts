// `npx bun run release`: for every target, the shim (cross-compiled where needed) and the single
// binary, packed as dist/release/inferscope-<version>-<target>.tar.gz, plus dist/release/SHA256SUMS
// (`sha256sum -c` format). Reproducible: two builds of one commit give the same bytes (the
// archive's mtime is the commit's time, or $SOURCE_DATE_EPOCH).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compileBinary } from "./compile.ts";
import { buildShim } from "./shim.ts";
import { gzip, tar } from "./tar.ts";
import { TARGETS, type Target } from "./targets.ts";

export function releaseName(version: string, target: Target): string {
  return `inferscope-${version}-${target.name}`;
}

/** $SOURCE_DATE_EPOCH, else HEAD's commit time, else 0 (a source tree without git). */
export function sourceDate(root: string): number {
  const env = process.env.SOURCE_DATE_EPOCH;
  if (env && /^\d+$/.test(env)) return Number(env);
  try {
    const r = Bun.spawnSync(["git", "log", "-1", "--format=%ct"], { cwd: root, stdout: "pipe", stderr: "ignore" });
    const t = r.stdout.toString().trim();
    if (r.exitCode === 0 && /^\d+$/.test(t)) return Number(t);
  } catch {
    // no git on PATH
  }
  return 0;
}

export function sha256(data: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(data).digest("hex");
}

export async function release(root: string, targets: readonly Target[] = TARGETS): Promise<string[]> {
  const version = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version as string;
  const mtime = sourceDate(root);
  const readme = readFileSync(join(root, "README.md"));
  const archives = new Map<string, Uint8Array>();
  for (const t of targets) {
    const shim = await buildShim(root, t, join(root, "build", t.name, "libinferscope.so"), true);
    const bin = readFileSync(await compileBinary(root, t, shim, join(root, "build", t.name, "inferscope")));
    const name = releaseName(version, t);
    const entries = [
      { path: `${name}/`, mode: 0o755 },
      { path: `${name}/inferscope`, mode: 0o755, data: bin },
      { path: `${name}/README.md`, mode: 0o644, data: readme },
    ];
    archives.set(`${name}.tar.gz`, gzip(tar(entries, mtime)));
  }
  // Only now, with every target built, does the previous release make way.
  const outDir = join(root, "dist/release");
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const sums: string[] = [];
  for (const [file, data] of archives) {
    writeFileSync(join(outDir, file), data);
    sums.push(`${sha256(data)}  ${file}\n`);
    console.error(`release: ${join(outDir, file)} (${(data.length / 1e6).toFixed(1)} MB)`);
  }
  writeFileSync(join(outDir, "SHA256SUMS"), sums.join(""));
  // What these archives were built from, for the tests (never shipped: dist/release holds only the downloads).
  writeFileSync(join(root, "build/release-source.json"), JSON.stringify({ sourceDate: mtime, version }) + "\n");
  console.error(`release: ${join(outDir, "SHA256SUMS")}`);
  return [...archives.keys()].map((f) => join(outDir, f));
}
