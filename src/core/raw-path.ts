// Arguments that are not valid UTF-8 (a file name in Latin-1, bytes from an old archive): Bun
// decodes argv as UTF-8 and replaces what does not decode with U+FFFD, so the path the user gave
// no longer names their file ("no such file" for a file that exists). The kernel still holds the
// bytes in /proc/self/cmdline: such an argument is looked up there and used as a Buffer path,
// which node:fs accepts everywhere a string path is.
import { readFileSync } from "node:fs";

const rawFiles = new Map<string, Buffer[] | null>();

/** A NUL-separated /proc file (cmdline, environ) as its raw entries; null when unreadable. */
function entries(file: "/proc/self/cmdline" | "/proc/self/environ"): Buffer[] | null {
  if (rawFiles.has(file)) return rawFiles.get(file)!;
  let parts: Buffer[] | null = null;
  try {
    const all = readFileSync(file);
    parts = [];
    let start = 0;
    for (let i = 0; i < all.length; i++) {
      if (all[i] === 0) {
        parts.push(all.subarray(start, i));
        start = i + 1;
      }
    }
  } catch {
    parts = null;
  }
  rawFiles.set(file, parts);
  return parts;
}

const cmdline = () => entries("/proc/self/cmdline");

/**
 * Whether `value`, a flag's or an environment variable's text, was decoded from bytes that are
 * not valid UTF-8 (Bun put U+FFFD in their place, so it names another path): no argument and no
 * variable holds its exact UTF-8 bytes.
 */
export function decodedLossily(value: string): boolean {
  if (!value.includes("\uFFFD")) return false;
  const exact = Buffer.from(value, "utf8");
  return ![...(cmdline() ?? []), ...(entries("/proc/self/environ") ?? [])].some((b) => b.includes(exact));
}

/**
 * The path as the user typed it: `arg` itself, or the raw bytes of the command-line argument it
 * was decoded from when that was not valid UTF-8.
 */
export function pathArg(arg: string): string | Buffer {
  if (!arg.includes("\uFFFD")) return arg;
  for (const b of cmdline() ?? []) {
    if (b.toString("utf8") === arg && !b.equals(Buffer.from(arg, "utf8"))) return b;
  }
  return arg;
}

/** A path for messages: bytes that are not UTF-8 shown as \xNN. */
export function showPath(p: string | Buffer): string {
  if (typeof p === "string") return p;
  let out = "";
  for (let i = 0; i < p.length; ) {
    const n = utf8Length(p, i);
    if (n > 0) {
      out += p.toString("utf8", i, i + n);
      i += n;
    } else {
      out += `\\x${(p[i] as number).toString(16).padStart(2, "0")}`;
      i++;
    }
  }
  return out;
}

const strict = new TextDecoder("utf-8", { fatal: true });

/** Length of the valid UTF-8 sequence starting at i, or 0. */
function utf8Length(b: Buffer, i: number): number {
  const c = b[i] as number;
  const n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n === 0 || i + n > b.length) return 0;
  try {
    strict.decode(b.subarray(i, i + n));
    return n;
  } catch {
    return 0;
  }
}
