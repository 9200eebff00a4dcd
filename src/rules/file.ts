// `.inferscope_rules.yaml`: threshold overrides for the built-in rules, built-in rules to disable,
// and user rules with CEL conditions. Found like `.inferscope.yaml` (cwd, then the git root), or
// named by --rules FILE / INFERSCOPE_RULES. Everything is read and type-checked before any trace
// is: every mistake ends in one line `FILE:LINE:COL: what; fix`, exit 2.
//
// The file nests (a list of rules, each a map with a list of suggestions), which the flat reader
// of .inferscope.yaml (src/config/yaml.ts) cannot read, so it is parsed with `yaml` (eemeli/yaml),
// which keeps every node's source range.
import { readFileSync, statSync } from "node:fs";
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode, type Pair, type Scalar, type YAMLMap } from "yaml";
import { fail } from "../errors.ts";
import { showPath } from "../core/raw-path.ts";
import { closest } from "../closest.ts";
import { compileExpr, type Compiled } from "../expr/env.ts";
import { REPORT_METRICS } from "../expr/catalogue.ts";
import type { Severity } from "../analyze/report-types.ts";
import { RULES_ENV } from "./find.ts";
import { evaluateUserRules, type UserRulesResult } from "./evaluate.ts";
import type { Report } from "../analyze/report-types.ts";

export { findRulesFile, RULES_ENV, RULES_FILE } from "./find.ts";

/** A threshold of a built-in rule that a rules file may override. */
export interface ParamSpec {
  /** Documented name: `rule_id.param`, e.g. `launch_bound.min_kernels`. */
  name: string;
  rule: string;
  default: number;
  unit: string;
  doc: string;
  min: number;
  max: number;
  integer?: boolean;
}

/** What a rules file is checked against: the built-in rules and their parameters. */
export interface Builtins {
  ruleIds: readonly string[];
  params: readonly ParamSpec[];
}

/** A piece of a title: text, or a CEL expression whose value is interpolated. */
export type TitlePart = { text: string } | { expr: Compiled };

export interface UserRule {
  id: string;
  when: Compiled;
  severity: Severity;
  title: TitlePart[];
  suggestions: string[];
  confidence: number;
  saving?: Compiled;
  /** FILE:LINE of the rule, for messages. */
  where: string;
}

export interface RulesConfig {
  path: string;
  /** Where the path came from: --rules, INFERSCOPE_RULES, or the file found in cwd / the git root. */
  origin: "flag" | "env" | "file";
  thresholds: Map<string, number>;
  disabled: Set<string>;
  rules: UserRule[];
  /** Evaluates the user rules on a finished report (analyze calls it; the CEL engine stays out of analyses without rules). */
  evaluate(report: Report): UserRulesResult;
}

const TOP_KEYS = ["thresholds", "disable", "rules"] as const;
const RULE_KEYS = ["id", "when", "severity", "title", "suggestions", "confidence", "estimated_saving_ms"] as const;
const SEVERITIES = ["high", "medium", "low"] as const;
const ID = /^[a-z][a-z0-9_]*$/;

class Reader {
  private readonly lines = new LineCounter();
  constructor(
    readonly path: string,
    readonly text: string,
  ) {}

  parse(): YamlNode | null {
    const doc = parseDocument(this.text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
    const err = doc.errors[0];
    if (err) this.fail(err.pos[0], `YAML syntax error: ${err.message.split("\n")[0]?.replace(/ at line \d+, column \d+:?$/, "")}`, "fix the YAML at that position");
    return (doc.contents as YamlNode | null) ?? null;
  }

  at(offset: number): string {
    const { line, col } = this.lines.linePos(offset);
    return `${this.path}:${Math.max(1, line)}:${col}`;
  }

  fail(offset: number, what: string, fix: string): never {
    fail(`${this.at(offset)}: ${what}; ${fix}`);
  }

  start(node: YamlNode | Pair | null | undefined): number {
    if (!node) return 0;
    if ("range" in node && node.range) return node.range[0];
    const key = (node as Pair).key as YamlNode | null;
    return key?.range?.[0] ?? 0;
  }

  /** File offset of character `offset` of a scalar's value: its value aligned on its source text. */
  valueOffset(node: Scalar, offset: number): number {
    const [from, to] = node.range ?? [0, 0];
    const value = String(node.value);
    let j = 0;
    // Quotes, escapes, indentation and folded line breaks are in the source but not the value.
    for (let i = from; i < to; i++) {
      if (this.text[i] !== value[j]) continue;
      if (j === offset) return i;
      j++;
    }
    return j >= offset ? to : from;
  }
}

function describe(node: YamlNode | null | undefined): string {
  if (node === null || node === undefined) return "nothing";
  if (isMap(node)) return "a map";
  if (isSeq(node)) return "a list";
  if (isScalar(node)) return node.value === null ? "nothing" : typeof node.value === "string" ? `"${node.value}"` : String(node.value);
  return "an alias";
}

function keyName(r: Reader, pair: Pair): string {
  const k = pair.key as YamlNode | null;
  if (!isScalar(k) || typeof k.value !== "string") r.fail(r.start(pair), `a key must be a plain name, found ${describe(k)}`, "write `name: value`");
  return k.value;
}

function checkKeys(r: Reader, map: YAMLMap, allowed: readonly string[], where: string): void {
  for (const pair of map.items) {
    const name = keyName(r, pair as Pair);
    if (!allowed.includes(name)) {
      const hint = closest(name, allowed);
      r.fail(r.start(pair as Pair), `unknown key "${name}" in ${where}`, `${hint ? `did you mean "${hint}"? ` : ""}allowed: ${allowed.join(", ")}`);
    }
  }
}

function scalarString(r: Reader, node: YamlNode | null | undefined, where: string, at: number, example: string): Scalar & { value: string } {
  if (!isScalar(node) || typeof node.value !== "string" || node.value.trim() === "") r.fail(node ? r.start(node) : at, `${where} must be a non-empty string, found ${describe(node)}`, `e.g. ${where.split(".").pop()}: ${example}`);
  return node as Scalar & { value: string };
}

function expression(r: Reader, node: Scalar & { value: string }, where: string, expect: "bool" | "number"): Compiled {
  const c = compileExpr(REPORT_METRICS, node.value, expect);
  if (!c.ok) r.fail(r.valueOffset(node, c.error.offset), `${where}: ${c.error.message}`, expect === "bool" ? "a condition over the metrics in docs/metrics.md, e.g. `gpu.utilization_pct < 60.0`" : "a number of ms over the metrics in docs/metrics.md");
  return c.expr;
}

/** `"p95 {{ scopes.step.p95_ms }} ms"` → text and compiled expressions. */
function titleParts(r: Reader, node: Scalar & { value: string }, where: string): TitlePart[] {
  const parts: TitlePart[] = [];
  const s = node.value;
  let i = 0;
  while (i < s.length) {
    const open = s.indexOf("{{", i);
    if (open < 0) {
      parts.push({ text: s.slice(i) });
      break;
    }
    if (open > i) parts.push({ text: s.slice(i, open) });
    const close = s.indexOf("}}", open + 2);
    if (close < 0) r.fail(r.valueOffset(node, open), `${where}: "{{" without a closing "}}"`, "close it, e.g. {{ gpu.utilization_pct }}");
    const inner = s.slice(open + 2, close);
    const c = compileExpr(REPORT_METRICS, inner, "any");
    if (!c.ok) r.fail(r.valueOffset(node, open + 2 + c.error.offset), `${where}: ${c.error.message}`, "a placeholder holds an expression over the metrics in docs/metrics.md");
    parts.push({ expr: c.expr });
    i = close + 2;
  }
  return parts;
}

function readThresholds(r: Reader, node: YamlNode, builtins: Builtins): Map<string, number> {
  const out = new Map<string, number>();
  if (!isMap(node)) r.fail(r.start(node), `thresholds must be a map of threshold name to number, found ${describe(node)}`, "e.g. thresholds: { launch_bound.min_kernels: 200 }");
  const names = builtins.params.map((p) => p.name);
  for (const pair of node.items) {
    const name = keyName(r, pair as Pair);
    const spec = builtins.params.find((p) => p.name === name);
    if (!spec) {
      const hint = closest(name, names);
      r.fail(r.start(pair as Pair), `unknown threshold "${name}"`, `${hint ? `did you mean "${hint}"? ` : ""}\`inferscope rules list\` shows every threshold`);
    }
    const v = (pair as Pair).value as YamlNode | null;
    const num = isScalar(v) && typeof v.value === "number" ? v.value : NaN;
    if (!Number.isFinite(num) || num < spec.min || num > spec.max || (spec.integer && !Number.isInteger(num))) {
      r.fail(r.start(v ?? (pair as Pair)), `threshold ${name} must be ${spec.integer ? "a whole number" : "a number"} from ${spec.min} to ${spec.max} (${spec.unit}), found ${describe(v)}`, `its default is ${spec.default}`);
    }
    out.set(name, num);
  }
  return out;
}

function readDisable(r: Reader, node: YamlNode, builtins: Builtins): Set<string> {
  if (!isSeq(node)) r.fail(r.start(node), `disable must be a list of built-in rule ids, found ${describe(node)}`, "e.g. disable: [numa_remote]");
  const out = new Set<string>();
  for (const item of node.items as YamlNode[]) {
    const id = isScalar(item) && typeof item.value === "string" ? item.value : "";
    if (!builtins.ruleIds.includes(id)) {
      const hint = closest(id, builtins.ruleIds);
      r.fail(r.start(item), `disable: ${describe(item)} is not a built-in rule`, `${hint ? `did you mean "${hint}"? ` : ""}built-in rules: ${builtins.ruleIds.join(", ")}`);
    }
    out.add(id);
  }
  return out;
}

function readRule(r: Reader, node: YamlNode, index: number, seen: Map<string, string>, builtins: Builtins): UserRule {
  const where = `rules[${index}]`;
  if (!isMap(node)) r.fail(r.start(node), `${where} must be a map with id, when, severity, title and suggestions, found ${describe(node)}`, "see docs/rules.md for an example");
  checkKeys(r, node, RULE_KEYS, where);
  const get = (k: string) => node.items.find((p) => isScalar(p.key) && p.key.value === k) as Pair<Scalar, YamlNode> | undefined;
  const need = (k: string) => {
    const p = get(k);
    if (!p) r.fail(r.start(node), `${where} has no \`${k}\``, `add \`${k}:\` (required: id, when, severity, title, suggestions)`);
    return p.value as YamlNode | null;
  };
  const idNode = scalarString(r, need("id"), `${where}.id`, r.start(node), "decode_budget");
  const id = idNode.value;
  if (!ID.test(id)) r.fail(r.start(idNode), `${where}.id "${id}" must be lower_snake_case`, "use letters, digits and _, starting with a letter");
  if (builtins.ruleIds.includes(id)) r.fail(r.start(idNode), `${where}.id "${id}" is a built-in rule`, "choose another id (to change the built-in one, use thresholds: or disable:)");
  const first = seen.get(id);
  if (first) r.fail(r.start(idNode), `duplicate rule id "${id}" (first at ${first})`, "give each rule its own id");
  seen.set(id, r.at(r.start(idNode)));
  const when = expression(r, scalarString(r, need("when"), `${where}.when`, r.start(node), "gpu.utilization_pct < 60.0"), `${where}.when`, "bool");
  const sevNode = need("severity");
  const severity = isScalar(sevNode) ? String(sevNode.value) : "";
  if (!(SEVERITIES as readonly string[]).includes(severity)) r.fail(r.start(sevNode ?? node), `${where}.severity must be high, medium or low, found ${describe(sevNode)}`, "e.g. severity: high");
  const title = titleParts(r, scalarString(r, need("title"), `${where}.title`, r.start(node), "\"decode p95 {{ scopes.decode.p95_ms }} ms\""), `${where}.title`);
  const sugNode = need("suggestions");
  const suggestions: string[] = [];
  if (!isSeq(sugNode) || sugNode.items.length === 0) r.fail(r.start(sugNode ?? node), `${where}.suggestions must be a list of at least one suggestion, found ${describe(sugNode)}`, "e.g. suggestions: [\"Batch the decode step\"]");
  for (const item of sugNode.items as YamlNode[]) suggestions.push(scalarString(r, item, `${where}.suggestions`, r.start(sugNode), "\"what to change\"").value);
  let confidence = 1;
  const confPair = get("confidence");
  if (confPair) {
    const v = confPair.value;
    confidence = isScalar(v) && typeof v.value === "number" ? v.value : NaN;
    if (!(confidence >= 0 && confidence <= 1)) r.fail(r.start(v ?? confPair), `${where}.confidence must be a number from 0 to 1, found ${describe(v)}`, "e.g. confidence: 0.8");
  }
  const rule: UserRule = { id, when, severity: severity as Severity, title, suggestions, confidence, where: r.at(r.start(node)) };
  const savePair = get("estimated_saving_ms");
  if (savePair) {
    const v = savePair.value;
    // A plain number is an expression too.
    const src = isScalar(v) && typeof v.value === "number" ? null : scalarString(r, v, `${where}.estimated_saving_ms`, r.start(savePair), "scopes.decode.p95_ms - 30.0");
    rule.saving = src ? expression(r, src, `${where}.estimated_saving_ms`, "number") : compileExprOrThrow(String((v as Scalar).value));
  }
  return rule;
}

function compileExprOrThrow(src: string): Compiled {
  const c = compileExpr(REPORT_METRICS, src, "number");
  if (!c.ok) throw new Error(c.error.message);
  return c.expr;
}

/** Parse and check a rules file's text. */
export function parseRules(path: string, text: string, builtins: Builtins, origin: RulesConfig["origin"] = "file"): RulesConfig {
  const r: Reader = new Reader(path, text);
  const root = r.parse();
  const out: RulesConfig = { path, origin, thresholds: new Map(), disabled: new Set(), rules: [], evaluate: (report) => evaluateUserRules(report, out.rules) };
  if (root === null || (isScalar(root) && root.value === null)) return out;
  if (!isMap(root)) r.fail(r.start(root), `the rules file must be a map with thresholds, disable and rules, found ${describe(root)}`, "see docs/rules.md for an example");
  checkKeys(r, root, TOP_KEYS, "the rules file");
  for (const pair of root.items as Pair<Scalar, YamlNode | null>[]) {
    const v = pair.value;
    if (v === null || (isScalar(v) && v.value === null)) continue;
    switch (pair.key.value) {
      case "thresholds":
        out.thresholds = readThresholds(r, v, builtins);
        break;
      case "disable":
        out.disabled = readDisable(r, v, builtins);
        break;
      case "rules": {
        if (!isSeq(v)) r.fail(r.start(v), `rules must be a list of rules, found ${describe(v)}`, "start each rule with `- id: …`");
        const seen = new Map<string, string>();
        (v.items as YamlNode[]).forEach((item, i) => out.rules.push(readRule(r, item, i, seen, builtins)));
        break;
      }
    }
  }
  return out;
}

/** Read and check the rules file at `path`. */
export function loadRules(file: string | Buffer, builtins: Builtins, origin: RulesConfig["origin"] = "file"): RulesConfig {
  const path = showPath(file);
  let text: string;
  try {
    if (statSync(file).isDirectory()) fail(`${path} is a directory; the rules file must be a YAML file`);
    text = readFileSync(file, "utf8");
  } catch (e) {
    if (e instanceof Error && e.name === "UserError") throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const how = origin === "flag" ? "--rules" : origin === "env" ? RULES_ENV : "the rules file";
    fail(code === "ENOENT" ? `rules file ${path} (from ${how}) does not exist; check the path` : `cannot read the rules file ${path}: ${code ?? String(e)}; check its permissions`);
  }
  return parseRules(path, text, builtins, origin);
}
