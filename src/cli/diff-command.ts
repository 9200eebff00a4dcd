// `inferscope diff BASE NEW`: did my change help? Each side a trace, a run directory or a
// report.json. The comparison (Markdown by default) goes to stdout or --output; `--fail-if EXPR`
// (repeatable, CEL over the diff's figures, docs/metrics.md) makes it a CI gate: exit 1 when a
// condition holds, 0 when none does, 2 on bad input or a bad expression.
import { defineCommand } from "citty";
import { fail, UserError } from "../errors.ts";
import { DIFF_METRICS } from "../expr/catalogue.ts";
import { bindCatalogue, compileExpr, evaluateExpr, type Compiled } from "../expr/env.ts";
import type { Diff } from "../diff/compare.ts";
import { FAIL_IF_VALUE } from "./argv.ts";
import { checkOutputFile, parseChoice, parseTop, writeOutput } from "./output.ts";

const FORMATS = ["md", "html", "json"] as const;

/** Every --fail-if value, in order (citty keeps only the last of a repeated flag). */
export function failIfArgs(rawArgs: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i]!;
    if (a === "--") break;
    if (a === "--fail-if") {
      if (i + 1 >= rawArgs.length) fail(`--fail-if needs ${FAIL_IF_VALUE}`);
      out.push(rawArgs[++i]!);
    } else if (a.startsWith("--fail-if=")) out.push(a.slice("--fail-if=".length));
  }
  return out;
}

/** Compile every --fail-if before reading any trace: one bad expression costs nothing. */
export function compileGates(sources: readonly string[]): Compiled[] {
  return sources.map((src, i) => {
    const c = compileExpr(DIFF_METRICS, src, "bool");
    if (!c.ok) fail(`--fail-if ${sources.length > 1 ? `#${i + 1} ` : ""}\`${src}\`, column ${c.error.offset + 1}: ${c.error.message}`);
    return c.expr;
  });
}

/** The figures --fail-if reads: the diff's JSON, as DIFF_METRICS names them. */
export function diffMetrics(d: Diff): Record<string, unknown> {
  return { comparable: d.comparable, per: d.per, scopes: d.scopes, gpu: d.gpu, kernels: d.kernels, functions: d.functions, findings: d.findings, classification: d.classification };
}

/** The conditions that hold (exit 1 when any); throws a UserError (exit 2) when one cannot be evaluated. */
export function evaluateGates(gates: readonly Compiled[], d: Diff): string[] {
  const values = bindCatalogue(DIFF_METRICS, diffMetrics(d));
  const held: string[] = [];
  for (const g of gates) {
    const r = evaluateExpr(g, values);
    if (!r.ok) fail(`--fail-if \`${g.source}\` cannot be decided: ${r.message}`);
    if (r.value === true) held.push(g.source);
  }
  return held;
}

export async function runDiff(opts: { base: string; next: string; top?: number }): Promise<Diff> {
  const [{ loadSide }, { diffReports }] = await Promise.all([import("../diff/load.ts"), import("../diff/compare.ts")]);
  if (opts.base === "-" && opts.next === "-") fail("BASE and NEW cannot both be stdin (-)");
  const base = await loadSide(opts.base, "BASE");
  const next = await loadSide(opts.next, "NEW");
  return diffReports(base.report, next.report, { base: base.info, new: next.info, top: opts.top ?? 10 });
}

export async function renderDiff(d: Diff, format: (typeof FORMATS)[number]): Promise<string> {
  const { renderDiffMarkdown, renderDiffHtml, diffJson } = await import("../diff/render.ts");
  return format === "md" ? renderDiffMarkdown(d) : format === "html" ? renderDiffHtml(d) : diffJson(d);
}

export const diffCommand = defineCommand({
  meta: { name: "diff", description: "Compare two traces, run directories or report.json files: did my change help?" },
  args: {
    base: { type: "positional", required: false, description: "BASE: trace (.json/.json.gz), run directory or report.json" },
    new: { type: "positional", required: false, description: "NEW: the same kinds" },
    format: { type: "string", alias: "f", description: "md, html or json (default: from the --output extension, else md)" },
    output: { type: "string", alias: "o", description: "write the comparison to this file instead of stdout (format from its extension: .md, .html, .json)" },
    force: { type: "boolean", description: "overwrite an existing --output file" },
    top: { type: "string", default: "10", description: "rows in the kernel and function tables" },
    "fail-if": { type: "string", description: "exit 1 when this CEL condition over the diff holds (repeatable; docs/metrics.md)" },
  },
  async run({ args, rawArgs }) {
    const given = args.format === undefined ? undefined : parseChoice("--format", args.format, FORMATS, "md");
    const top = parseTop(args.top);
    const gates = compileGates(failIfArgs(rawArgs));
    const positional = ((args as { _?: string[] })._ ?? []).map(String);
    if (positional.length !== 2) fail(`diff needs two inputs, BASE and NEW (got ${positional.length}): inferscope diff base.json.gz new.json.gz`);
    // Checked before the inputs are read: never one of them, never a file the user had without --force.
    const out = args.output === undefined ? null : checkOutputFile("--output", String(args.output), { force: args.force === true, format: given, inputs: positional });
    const format = (out?.format ?? given ?? "md") as (typeof FORMATS)[number];
    const d = await runDiff({ base: positional[0]!, next: positional[1]!, top });
    await writeOutput(out, await renderDiff(d, format), "diff");
    const held = evaluateGates(gates, d);
    if (held.length > 0) {
      // Exit 1 (not 2): the comparison worked and a gate condition holds.
      throw new UserError(`--fail-if held: ${held.map((h) => `\`${h}\``).join(", ")}`, 1);
    }
    return 0;
  },
});
