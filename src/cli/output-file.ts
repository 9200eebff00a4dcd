// A report file named on the command line (`analyze -o`, `run --report`): checked before any
// work starts (so a script never runs only to fail at the end), and written whole or not at all
// (a temp file beside it, then a rename), so a full disk or a signal never leaves half a report
// and never replaces a file the user had with a broken one. One set of rules for every command.
import { accessSync, constants, renameSync, rmSync, statSync, writeFileSync, type Stats } from "node:fs";
import { basename, dirname, extname, join, resolve } from "node:path";
import { pathArg, showPath } from "../core/raw-path.ts";
import { fail, ioProblem } from "../errors.ts";
import { FORMAT_FILES, REPORT_EXTENSIONS, REPORT_FORMATS, orList } from "../report/formats.ts";

export interface OutputFile {
  /** Absolute path. */
  path: string;
  /** From the extension, else the --format given, else the fallback. */
  format: string;
  /** An existing device or FIFO (/dev/null, /dev/stdout): written in place, never replaced. */
  special: boolean;
}

function statOrNull(p: string | Buffer): Stats | null {
  try {
    return statSync(p);
  } catch {
    return null;
  }
}

function sameFile(a: Stats | null, b: Stats | null): boolean {
  return a !== null && b !== null && a.dev === b.dev && a.ino === b.ino;
}

/**
 * `flag`: how the user named it (--output, --report). `format`: the --format the user gave, if
 * any; the extension decides otherwise (`extensions`: the command's, default the report formats').
 * `requireExtension`: an unknown extension is an error (else the format is `format` or
 * `fallback`). `inputs`: files this command reads, never written.
 */
export function checkOutputFile(
  flag: string,
  raw: string,
  opts: {
    force: boolean;
    format?: string;
    fallback?: string;
    extensions?: Readonly<Record<string, string>>;
    requireExtension?: boolean;
    inputs?: readonly (string | Buffer)[];
  },
): OutputFile {
  if (raw.trim() === "") fail(`${flag} is empty; pass a file name such as report.md`);
  const bytes = pathArg(raw);
  if (typeof bytes !== "string") fail(`${flag} ${showPath(bytes)}: a name that is not valid UTF-8 cannot be written; choose another name`);
  const path = resolve(raw);
  const exts = opts.extensions ?? REPORT_EXTENSIONS;
  // The longest known suffix wins: x.speedscope.json is speedscope, not json.
  const lower = path.toLowerCase();
  let ext = extname(lower);
  for (const k of Object.keys(exts)) if (lower.endsWith(k) && k.length > ext.length) ext = k;
  const byExt = exts[ext];
  if (!byExt && opts.requireExtension) {
    fail(`${flag} ${raw}: unknown report format "${extname(path) || "(no extension)"}"; use a ${orList(REPORT_FORMATS.map((f) => FORMAT_FILES[f].slice(FORMAT_FILES[f].indexOf("."))))} path`);
  }
  if (byExt && opts.format && byExt !== opts.format) {
    fail(`${flag} ${raw} names a ${ext} file but --format is ${opts.format}; drop --format (the extension decides) or make them agree`);
  }
  const format = byExt ?? opts.format ?? opts.fallback ?? "md";
  const st = statOrNull(path);
  for (const input of opts.inputs ?? []) {
    if (input === "-") continue;
    if (sameFile(st, statOrNull(input)) || (typeof input === "string" && path === resolve(input))) fail(`${flag} ${raw} is the input trace; writing the report there would destroy it — choose another path`);
  }
  if (st?.isDirectory()) fail(`${flag} ${raw} is a directory; pass a file path such as ${join(raw, `report.${format}`)}`);
  const special = st !== null && !st.isFile();
  if (st && !special && !opts.force) fail(`${raw} already exists; pass --force to overwrite it, or choose another path`);
  if (!special) {
    const dir = dirname(path);
    const d = statOrNull(dir);
    if (!d?.isDirectory()) fail(`${flag} ${raw}: the directory ${dir} does not exist; create it or choose another path`);
    try {
      accessSync(dir, constants.W_OK);
    } catch (e) {
      fail(`${flag} ${raw}: cannot write in ${dir} (${ioProblem(e)}); choose another path`);
    }
  }
  return { path, format, special };
}

/** The temp file a report is written to before its rename (removed on any failure). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
}

/**
 * Writes `data` to `path` whole or not at all. On failure nothing is left behind and the error
 * is one line naming the file and the cause (a full disk, a removed directory …).
 */
export function writeWhole(path: string, data: string | Uint8Array, opts: { special?: boolean; what?: string } = {}): void {
  const what = opts.what ?? "report";
  if (opts.special) {
    try {
      writeFileSync(path, data);
    } catch (e) {
      fail(`cannot write the ${what} to ${path}: ${ioProblem(e)}`);
    }
    return;
  }
  const tmp = tempPathFor(path);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    fail(`cannot write the ${what} to ${path}: ${ioProblem(e)}${hint(e)}`);
  }
}

function hint(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOSPC" || code === "EDQUOT") return "; free some space or choose another directory";
  if (code === "ENOENT") return " (its directory was removed meanwhile)";
  return "";
}
