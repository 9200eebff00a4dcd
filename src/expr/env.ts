// The expression language of custom rules and `diff --fail-if`: CEL (cel.dev), through
// @marcbachmann/cel-js (parser, type checker, evaluator; zero dependencies), with `matches()` on
// @bufbuild/re2 (RE2 semantics as the CEL spec requires; linear time, so no pattern can
// backtrack for ever). Every expression is parsed, type-checked against a metric catalogue and
// cost-bounded (cost.ts) before any trace is read; evaluation then cannot fail except on a
// figure the trace does not have, which is reported as such.
import { Environment } from "@marcbachmann/cel-js";
import { closest } from "../closest.ts";
import { RE2JS } from "@bufbuild/re2";
import { type Catalogue, type FieldType, typeName } from "./catalogue.ts";
import { COST_LIMIT, estimateCost, nameBounds } from "./cost.ts";
import { bindValues, typeClasses, type TypeClasses } from "./values.ts";

/** Structural limits (checked while parsing). */
export const MAX_EXPR_CHARS = 4000;
const LIMITS = { maxAstNodes: 400, maxDepth: 40, maxListElements: 200, maxMapEntries: 200, maxCallArguments: 8 };

export type Expect = "bool" | "number" | "any";

export interface ExprError {
  /** One clause: what is wrong and how to fix it. */
  message: string;
  /** Character offset in the expression where the problem is. */
  offset: number;
}

export interface Compiled {
  source: string;
  /** The CEL type of the result ("bool", "double", "int"…). */
  type: string;
  run(values: Record<string, unknown>): unknown;
}

/** Stands in for `matches` (same length, so error offsets stay right). */
const RE2_MATCHES = "__re2__";

/** `x.matches(p)` / `matches(x, p)` → RE2_MATCHES, located through the AST (never inside a string literal). */
function useRe2(src: string, ast: unknown): string {
  const at: number[] = [];
  const visit = (n: unknown): void => {
    if (Array.isArray(n)) return n.forEach(visit);
    if (typeof n !== "object" || n === null || !("op" in n)) return;
    const node = n as { op: string; args: unknown; range: { start: number; end: number } };
    const a = node.args as unknown[];
    if (node.op === "rcall" && a[0] === "matches") {
      const recv = a[1] as { range: { end: number } };
      const i = src.indexOf("matches", recv.range.end);
      if (i >= 0 && i < node.range.end) at.push(i);
    } else if (node.op === "call" && a[0] === "matches" && src.startsWith("matches", node.range.start)) {
      at.push(node.range.start);
    }
    if (Array.isArray(a)) a.forEach(visit);
    else visit(node.args);
  };
  visit(ast);
  let out = src;
  for (const i of at) out = out.slice(0, i) + RE2_MATCHES + out.slice(i + RE2_MATCHES.length);
  return out;
}

interface Built {
  env: Environment;
  classes: TypeClasses;
  names: string[];
  bounds: ReturnType<typeof nameBounds>;
}

const built = new WeakMap<Catalogue, Built>();

function celType(t: FieldType): string {
  return typeName(t);
}

function build(cat: Catalogue): Built {
  let b = built.get(cat);
  if (b) return b;
  const classes = typeClasses(cat);
  const env = new Environment({ limits: LIMITS, homogeneousAggregateLiterals: false });
  for (const t of cat.types) {
    const fields: Record<string, string> = {};
    for (const fd of t.fields) fields[fd.name] = celType(fd.type);
    env.registerType(t.name, { ctor: classes.get(t.name)!, fields });
  }
  for (const v of cat.variables) env.registerVariable(v.name, celType(v.type));
  // matches() on RE2 instead of cel-js's built-in (JavaScript's backtracking RegExp): the
  // expression is rewritten to call RE2_MATCHES, a name of the same length (offsets unchanged).
  const cache = new Map<string, RE2JS>();
  const re2 = (s: string, pattern: string): boolean => {
    let re = cache.get(pattern);
    if (!re) {
      try {
        re = RE2JS.compile(pattern);
      } catch (e) {
        throw new Error(`invalid regular expression ${JSON.stringify(pattern)}: ${(e as Error).message}`);
      }
      if (cache.size > 256) cache.clear();
      cache.set(pattern, re);
    }
    return re.test(s);
  };
  env.registerFunction(`string.${RE2_MATCHES}(string): bool`, re2);
  env.registerFunction(`${RE2_MATCHES}(string, string): bool`, re2);
  const names = new Set<string>();
  for (const v of cat.variables) names.add(v.name);
  for (const t of cat.types) for (const fd of t.fields) names.add(fd.name);
  b = { env, classes, names: [...names], bounds: nameBounds(cat) };
  built.set(cat, b);
  return b;
}

/** The dotted path that ends at `end` (`gpu.idle.host_wat_ms`), for messages. */
function pathBefore(src: string, end: number): string {
  let i = end;
  while (i > 0 && /[\w.]/.test(src[i - 1]!)) i--;
  return src.slice(i, end);
}

function explain(cat: Catalogue, b: Built, src: string, e: { name?: string; code?: string; summary?: string; message: string; range?: { start: number; end: number } }): ExprError {
  const offset = e.range?.start ?? 0;
  const summary = (e.summary ?? e.message.split("\n")[0] ?? "").replaceAll(RE2_MATCHES, "matches");
  switch (e.code) {
    case "no_such_key": {
      const field = src.slice(e.range!.start, e.range!.end);
      const path = pathBefore(src, e.range!.end);
      const hint = closest(field, b.names);
      const full = hint && path.endsWith(field) ? path.slice(0, path.length - field.length) + hint : hint;
      return { offset, message: `unknown metric \`${path}\`${full ? `; did you mean \`${full}\`?` : ""} (docs/metrics.md lists every metric)` };
    }
    case "unknown_variable": {
      const name = src.slice(e.range!.start, e.range!.end);
      const hint = closest(name, cat.variables.map((v) => v.name));
      return { offset, message: `unknown metric \`${name}\`${hint ? `; did you mean \`${hint}\`?` : ""}; top-level names: ${cat.variables.map((v) => v.name).join(", ")}` };
    }
    case "no_such_overload":
    case "no_matching_overload": {
      const mixed = /\bint\b/.test(summary) && /\bdouble\b/.test(summary);
      return {
        offset,
        message: `type error: ${summary}${mixed ? " (CEL does not mix int and double in arithmetic: write 2.0 instead of 2, or double(x))" : ""}`,
      };
    }
    case "limit_exceeded":
      return { offset, message: `expression too large: ${summary}; split it into several rules` };
    default:
      return { offset, message: `${e.name === "ParseError" || /parse|token|unterminated/i.test(e.code ?? "") ? "syntax error" : "type error"}: ${summary}` };
  }
}

/**
 * Parse, type-check and cost-bound `src` against the catalogue. `expect` is the result type the
 * caller needs (a condition must be a bool, a saving a number).
 */
export function compileExpr(cat: Catalogue, src: string, expect: Expect): { ok: true; expr: Compiled } | { ok: false; error: ExprError } {
  const b = build(cat);
  if (src.trim() === "") return { ok: false, error: { offset: 0, message: "empty expression" } };
  if (src.length > MAX_EXPR_CHARS) return { ok: false, error: { offset: MAX_EXPR_CHARS, message: `expression longer than ${MAX_EXPR_CHARS} characters; split it into several rules` } };
  let parsed: ReturnType<Environment["parse"]>;
  let rewritten: string;
  try {
    rewritten = useRe2(src, b.env.parse(src).ast);
    parsed = rewritten === src ? b.env.parse(src) : b.env.parse(rewritten);
  } catch (e) {
    return { ok: false, error: explain(cat, b, src, e as Error & { code?: string }) };
  }
  const checked = b.env.check(rewritten);
  if (!checked.valid) return { ok: false, error: explain(cat, b, src, checked.error as Error & { code?: string }) };
  const type = String(checked.type);
  if (expect === "bool" && type !== "bool" && type !== "dyn") return { ok: false, error: { offset: 0, message: `must be a condition (a bool), but it is a ${type}; compare it, e.g. \`${src.trim()} > 0\`` } };
  if (expect === "number" && type !== "double" && type !== "int" && type !== "dyn") return { ok: false, error: { offset: 0, message: `must be a number (ms), but it is a ${type}` } };
  const cost = estimateCost(parsed.ast, b.bounds);
  if (cost.cost > COST_LIMIT) {
    return {
      ok: false,
      error: { offset: cost.worst.start, message: `too costly to evaluate: up to ${cost.cost.toExponential(1)} steps (limit ${COST_LIMIT.toExponential(0)}); avoid nesting comprehensions (all/exists/map/filter) over lists` },
    };
  }
  return { ok: true, expr: { source: src, type, run: (values) => parsed(values) } };
}

export type EvalResult = { ok: true; value: unknown } | { ok: false; absent: boolean; message: string };

/** Evaluate a compiled expression. A figure the trace does not have is `absent`, not an error of the expression. */
export function evaluateExpr(expr: Compiled, values: Record<string, unknown>): EvalResult {
  try {
    const v = expr.run(values);
    return { ok: true, value: typeof v === "bigint" ? Number(v) : v };
  } catch (e) {
    const err = e as Error & { code?: string; summary?: string; range?: { start: number; end: number } };
    if (err.code === "no_such_key" && err.range) {
      const key = expr.source.slice(err.range.start, err.range.end);
      const path = pathBefore(expr.source, err.range.end);
      return { ok: false, absent: true, message: `\`${/^['"]/.test(key) ? expr.source.slice(err.range.start - path.length, err.range.end) : path}\` is absent in this trace (guard it with has())` };
    }
    return { ok: false, absent: false, message: (err.summary ?? err.message.split("\n")[0] ?? String(e)).replaceAll(RE2_MATCHES, "matches") };
  }
}

/** Figures (JSON-shaped, as in the report) → the activation of an expression. */
export function bindCatalogue(cat: Catalogue, plain: Record<string, unknown>): Record<string, unknown> {
  return bindValues(cat, build(cat).classes, plain);
}

/** 1-based line and column of `offset` in `text`. */
export function lineCol(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let last = -1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  }
  return { line, col: offset - last };
}
