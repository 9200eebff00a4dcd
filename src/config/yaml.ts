// A reader for the flat YAML subset .inferscope.yaml uses (`key: value`, flow `[a, b]` and block
// `- item` lists, comments, quotes), written here because errors must name the exact line
// (Bun.YAML reports none).

export interface YamlEntry {
  key: string;
  value: unknown;
  line: number;
}

export class YamlError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

function stripComment(s: string): string {
  let quote = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) quote = "";
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === "#" && (i === 0 || s[i - 1] === " " || s[i - 1] === "\t")) {
      return s.slice(0, i);
    }
  }
  return s;
}

function scalar(raw: string, line: number): unknown {
  const s = raw.trim();
  if (s === "" || s === "~" || s === "null") return null;
  const q = s[0];
  if (q === '"' || q === "'") {
    if (s.length < 2 || s[s.length - 1] !== q) throw new YamlError(`unterminated ${q === '"' ? "double" : "single"} quote`, line);
    const body = s.slice(1, -1);
    return q === '"' ? body.replace(/\\"/g, '"').replace(/\\\\/g, "\\") : body.replace(/''/g, "'");
  }
  if (s === "true") return true;
  if (s === "false") return false;
  // A number too big for a double (1e400) stays text, so the error quotes what the user wrote.
  if (/^[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?$/.test(s)) return Number.isFinite(Number(s)) ? Number(s) : s;
  if (s.startsWith("{") || s.startsWith("&") || s.startsWith("*") || s.startsWith("|") || s.startsWith(">"))
    throw new YamlError(`unsupported YAML value "${s}" (only plain values and lists are used here)`, line);
  return s;
}

function flowList(s: string, line: number): unknown[] {
  if (!s.endsWith("]")) throw new YamlError("unclosed [ in a list", line);
  const inner = s.slice(1, -1).trim();
  if (inner === "") return [];
  return inner.split(",").map((item) => scalar(item, line));
}

export function parseFlatYaml(text: string): YamlEntry[] {
  const entries: YamlEntry[] = [];
  const seen = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  let openList: YamlEntry | null = null;
  const blocks: YamlEntry[] = [];
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    const raw = lines[i] ?? "";
    if (/^\t/.test(raw)) throw new YamlError("tab used for indentation (YAML needs spaces)", n);
    const body = stripComment(raw).replace(/\s+$/, "");
    if (body.trim() === "" || (n === 1 && body === "---")) continue;
    const indented = /^\s/.test(body);
    const item = /^\s*-(\s+(.*))?$/.exec(body);
    if (item) {
      if (!openList) throw new YamlError("list item without a key above it", n);
      (openList.value as unknown[]).push(scalar(item[2] ?? "", n));
      continue;
    }
    if (indented) throw new YamlError("unexpected indentation (keys are top-level: `key: value`)", n);
    const kv = /^([A-Za-z_][\w.-]*)\s*:(\s+(.*)|)$/.exec(body);
    if (!kv) throw new YamlError(`expected \`key: value\`, found "${body.trim()}"`, n);
    const key = kv[1] as string;
    const rest = (kv[3] ?? "").trim();
    if (seen.has(key)) throw new YamlError(`duplicate key "${key}" (first on line ${seen.get(key)})`, n);
    seen.set(key, n);
    const entry: YamlEntry = { key, value: null, line: n };
    openList = null;
    if (rest === "") {
      entry.value = [];
      openList = entry;
      blocks.push(entry);
    } else if (rest.startsWith("[")) {
      entry.value = flowList(rest, n);
    } else {
      entry.value = scalar(rest, n);
    }
    entries.push(entry);
  }
  // `key:` with nothing under it means null, as in YAML.
  for (const e of blocks) if ((e.value as unknown[]).length === 0) e.value = null;
  return entries;
}
