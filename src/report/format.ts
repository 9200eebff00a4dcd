// Number and text formatting shared by every report format. Everything here is deterministic
// (no locale, no clock): golden tests compare its output byte for byte.
import { escapeControls } from "../core/printable.ts";

export const NOT_MEASURED = "not measured";

type Num = number | null | undefined;

function finite(x: Num): x is number {
  return typeof x === "number" && Number.isFinite(x);
}

/** 1234567 → "1,234,567" (integers; non-integers are rounded). */
export function int(x: Num): string {
  if (!finite(x)) return NOT_MEASURED;
  const n = Math.round(x);
  const s = Math.abs(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return n < 0 ? `-${s}` : s;
}

/** A fixed number of decimals, without "-0". */
export function fixed(x: number, digits: number): string {
  const s = x.toFixed(digits);
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
}

/** Milliseconds for a column whose header says "ms": 3 significant-ish decimals. */
export function ms(x: Num): string {
  if (!finite(x)) return NOT_MEASURED;
  const a = Math.abs(x);
  if (a >= 10000) return int(x);
  if (a >= 100) return fixed(x, 1);
  if (a >= 10) return fixed(x, 2);
  return fixed(x, 3);
}

/** Microseconds for a column whose header says "µs". */
export function us(x: Num): string {
  if (!finite(x)) return NOT_MEASURED;
  const a = Math.abs(x);
  if (a >= 10000) return int(x);
  if (a >= 100) return fixed(x, 0);
  return fixed(x, 1);
}

/** A duration given in ms, with its unit chosen for prose: "1.23 s", "45.6 ms", "12.0 µs". */
export function dur(x: Num): string {
  if (!finite(x)) return NOT_MEASURED;
  const a = Math.abs(x);
  if (a >= 1000) return `${fixed(x / 1000, a >= 100000 ? 1 : 2)} s`;
  if (a >= 1) return `${ms(x)} ms`;
  if (a === 0) return "0 ms";
  return `${us(x * 1000)} µs`;
}

/** A duration in nanoseconds, for prose and tooltips. */
export function durNs(ns: number): string {
  return dur(ns / 1e6);
}

/** Percent with a space before the sign, as in "71 %". */
export function pct(x: Num): string {
  if (!finite(x)) return NOT_MEASURED;
  const a = Math.abs(x);
  if (a === 0) return "0 %";
  if (a < 0.1) return "< 0.1 %";
  return `${fixed(x, a < 10 ? 1 : 0)} %`;
}

export function confidence(x: Num): string {
  if (!finite(x)) return NOT_MEASURED;
  return fixed(x, 2);
}

const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

export function bytes(x: Num): string {
  if (!finite(x)) return NOT_MEASURED;
  let v = x;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < BYTE_UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  if (u === 0) return `${int(v)} B`;
  return `${fixed(v, Math.abs(v) >= 100 ? 0 : 1)} ${BYTE_UNITS[u]}`;
}

export function mb(x: Num): string {
  if (!finite(x)) return NOT_MEASURED;
  return `${int(x)} MB`;
}

export function gbps(x: Num): string {
  if (!finite(x)) return NOT_MEASURED;
  const a = Math.abs(x);
  return `${fixed(x, a >= 100 ? 0 : a >= 1 ? 1 : a >= 0.01 ? 3 : 5)} GB/s`;
}

/** Any evidence value, compactly: numbers formatted, arrays/objects as compact JSON. */
export function value(v: unknown): string {
  if (v === null || v === undefined) return NOT_MEASURED;
  if (typeof v === "number") {
    if (!Number.isFinite(v)) return NOT_MEASURED;
    if (Number.isInteger(v)) return int(v);
    const a = Math.abs(v);
    if (a >= 100) return fixed(v, 1);
    if (a >= 1) return fixed(v, 2);
    return fixed(v, 3);
  }
  if (typeof v === "string") return v;
  if (typeof v === "boolean") return v ? "yes" : "no";
  try {
    return JSON.stringify(v, (_k, x) => (typeof x === "number" && !Number.isInteger(x) ? Number(fixed(x, 3)) : x));
  } catch {
    return String(v);
  }
}

/** "a/b/c/preprocess.py" + 41 → "c/preprocess.py:41" (the last two path components). */
export function location(file?: string | null, line?: number | null): string {
  if (!file) return "";
  const parts = file.split("/").filter((p) => p.length > 0);
  const short = parts.length > 2 ? parts.slice(-2).join("/") : file;
  return finite(line) ? `${short}:${line}` : short;
}

export function fullLocation(file?: string | null, line?: number | null): string {
  if (!file) return "";
  return finite(line) ? `${file}:${line}` : file;
}

/**
 * A readable kernel name: C++ signatures lose "void ", their parameter list and their template
 * arguments ("at::native::vectorized_elementwise_kernel<…>"). Other names are kept as they are.
 */
export function shortKernel(name: string, max = 80): string {
  let s = name.trim();
  if (s.startsWith("void ") || s.includes("::")) {
    if (s.startsWith("void ")) s = s.slice(5);
    // drop the trailing parameter list "(…)" when it is balanced
    if (s.endsWith(")")) {
      let depth = 0;
      for (let i = s.length - 1; i >= 0; i--) {
        const c = s[i];
        if (c === ")") depth++;
        else if (c === "(") {
          depth--;
          if (depth === 0) {
            if (i > 0) s = s.slice(0, i);
            break;
          }
        }
      }
    }
    // collapse template arguments (outermost level)
    let out = "";
    let depth = 0;
    for (const c of s) {
      if (c === "<") {
        if (depth === 0) out += "<…>";
        depth++;
      } else if (c === ">" && depth > 0) depth--;
      else if (depth === 0) out += c;
    }
    s = out.trim() || name.trim();
  }
  return truncate(s, max);
}

export function truncate(s: string, max: number): string {
  // no more UTF-16 units than `max` means no more code points: nothing to cut (and no array of
  // characters per call: the timeline interns 150 000 names)
  if (s.length <= max) return s;
  const chars = Array.from(s);
  return chars.length > max ? `${chars.slice(0, max - 1).join("")}…` : s;
}

// ---------------------------------------------------------------------------------------------
// Rich text: analyzer strings may contain `code spans`; names from a trace are always code.

export interface Seg {
  t: string;
  code?: boolean;
}

/** Splits "copy `x` to `y`" into text and code segments (an unmatched backtick stays text). */
export function rich(s: string | null | undefined): Seg[] {
  if (!s) return [];
  const out: Seg[] = [];
  let i = 0;
  while (i < s.length) {
    const open = s.indexOf("`", i);
    if (open < 0) break;
    const close = s.indexOf("`", open + 1);
    if (close < 0) break;
    if (open > i) out.push({ t: s.slice(i, open) });
    out.push({ t: s.slice(open + 1, close), code: true });
    i = close + 1;
  }
  if (i < s.length) out.push({ t: s.slice(i) });
  return out;
}

export function plain(segs: Seg[]): string {
  return segs.map((s) => s.t).join("");
}

// ---------------------------------------------------------------------------------------------
// Markdown escaping. The output must read well in a terminal, so only what would change the
// rendering is escaped: HTML-looking "<", table pipes, emphasis/link characters at risky spots,
// and control characters (shown as \xNN: an ESC sequence in a kernel name must not reach the
// terminal).

/** Plain text (outside code) for Markdown: inline HTML, pipes, emphasis, links, newlines. */
export function mdText(s: unknown): string {
  return escapeControls(
    String(s ?? "")
      .replace(/\r?\n/g, " ")
      .replace(/\\/g, "\\\\"),
  )
    .replace(/\|/g, "\\|")
    .replace(/[*`[]/g, (c) => `\\${c}`)
    // "_" only where it could open or close emphasis: not between two word characters
    .replace(/(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])/g, "\\_")
    .replace(/<(?=[A-Za-z/!?])/g, "\\<")
    .replace(/&(?=#?[A-Za-z0-9]+;)/g, "\\&");
}

/** A Markdown code span that holds any text: the fence is longer than any backtick run inside. */
export function mdCode(s: unknown): string {
  const t = escapeControls(String(s ?? "").replace(/\r?\n/g, " ").replace(/\|/g, "\\|"));
  if (t.length === 0) return "";
  let longest = 0;
  for (const m of t.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  const fence = "`".repeat(longest + 1);
  const pad = t.startsWith("`") || t.endsWith("`") || (t.startsWith(" ") && t.endsWith(" ")) ? " " : "";
  return `${fence}${pad}${t}${pad}${fence}`;
}

export function mdRich(segs: Seg[]): string {
  return segs.map((s) => (s.code ? mdCode(s.t) : mdText(s.t))).join("");
}

// ---------------------------------------------------------------------------------------------
// HTML escaping (attribute-safe).

const HTML_ESC: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function html(s: unknown): string {
  return String(s ?? "").replace(/[&<>"']/g, (c) => HTML_ESC[c]!);
}

export function htmlRich(segs: Seg[]): string {
  return segs.map((s) => (s.code ? `<code>${html(s.t)}</code>` : html(s.t))).join("");
}
