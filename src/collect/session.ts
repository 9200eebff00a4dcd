// The run directory: <outputDir>/<script>-<YYYYmmdd-HHMMSS>/ holding the trace and the reports,
// with raw/ for what the collectors write while the script runs (removed once the trace is
// built). A second run within the same second gets a -2, -3 … suffix: nothing is overwritten.
import { existsSync, mkdirSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { fail } from "../errors.ts";

export interface Session {
  dir: string;
  rawDir: string;
  name: string;
}

function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** "infer.py" → "infer"; "-m pkg.tool" → "pkg.tool"; anything odd in the name becomes "_". */
export function sessionBaseName(target: string, module: boolean): string {
  const raw = module ? target : basename(target).replace(/\.py[cw]?$/, "");
  const clean = raw.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "");
  return clean || "script";
}

export function createSession(outputDir: string, target: string, module: boolean, now = new Date()): Session {
  const root = resolve(outputDir);
  try {
    mkdirSync(root, { recursive: true });
  } catch (e) {
    fail(`cannot create the output directory ${root} (${(e as NodeJS.ErrnoException).code ?? String(e)}); pass --output-dir DIR`);
  }
  const base = `${sessionBaseName(target, module)}-${stamp(now)}`;
  for (let i = 1; i < 1000; i++) {
    const name = i === 1 ? base : `${base}-${i}`;
    const dir = join(root, name);
    if (existsSync(dir)) continue;
    try {
      mkdirSync(dir); // not recursive: fails if a concurrent run took the name
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") continue;
      fail(`cannot create the run directory ${dir} (${(e as NodeJS.ErrnoException).code ?? String(e)}); pass --output-dir DIR`);
    }
    const rawDir = join(dir, "raw");
    mkdirSync(rawDir);
    return { dir, rawDir, name };
  }
  fail(`too many runs named ${base} in ${root}; pass --output-dir DIR`);
}
