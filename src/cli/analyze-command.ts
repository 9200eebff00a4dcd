// `inferscope analyze TRACE…`: read saved InferScope or PyTorch-profiler (Kineto) traces, analyze
// them and print the report (Markdown by default) on stdout or into --output. Several traces need
// --format ndjson: one report per line, for DuckDB, Spark or BigQuery (docs/diff.md).
import { defineCommand } from "citty";
import { fail } from "../errors.ts";
import { log } from "../log.ts";
import type { Report } from "../analyze/report-types.ts";
import { resolveConfig } from "../config/resolve.ts";
import type { RulesConfig } from "../rules/file.ts";
import { REPORT_EXTENSIONS, REPORT_FORMATS } from "../report/formats.ts";
import { pathArg, showPath } from "../core/raw-path.ts";
import { traceFile } from "../trace/trace-dir.ts";
import { configArgs, flagsFromArgs } from "./config-flags.ts";
import { checkOutputFile, parseChoice, parseTop, writeOutput, writeStdout } from "./output.ts";

export { parseTop } from "./output.ts";

const FORMATS = [...REPORT_FORMATS, "ndjson"] as const;
type Format = (typeof FORMATS)[number];
/** --output's extension → the format (.ndjson / .jsonl: one report per line). */
const EXTENSIONS: Readonly<Record<string, Format>> = { ...REPORT_EXTENSIONS, ".ndjson": "ndjson", ".jsonl": "ndjson" };

export function parseFormat(v: unknown): Format {
  return parseChoice("--format", v, FORMATS, "md");
}

/** The rules file to use (--rules, INFERSCOPE_RULES, or found), checked; null when there is none. */
export async function loadRulesOption(flag: unknown): Promise<RulesConfig | null> {
  const { findRulesFile } = await import("../rules/find.ts");
  const found = findRulesFile({ flag: typeof flag === "string" ? flag : undefined });
  if (!found) return null;
  // Only now the YAML reader and the CEL engine.
  const [{ loadRules }, { builtins }] = await Promise.all([import("../rules/file.ts"), import("../rules/builtins.ts")]);
  const rules = loadRules(found.path, builtins(), found.origin);
  log.debug(`rules file ${found.path} (${found.origin}): ${rules.thresholds.size} thresholds, ${rules.disabled.size} disabled, ${rules.rules.length} user rules`);
  return rules;
}

/** The file to read for a trace argument: a name that is not UTF-8 by its bytes (core/raw-path.ts), a directory's trace (trace/trace-dir.ts). */
function inputFile(path: string): string | Buffer {
  return path === "-" ? "-" : traceFile(pathArg(path));
}

/** Read and analyze one trace. */
export async function analyzeFile(path: string, top: number, rules: RulesConfig | null, maxEvents?: number, window = "auto") {
  const [{ readTrace }, { analysisContext, buildReport }] = await Promise.all([import("../trace/read.ts"), import("../analyze/index.ts")]);
  const started = performance.now();
  const file = inputFile(path);
  const trace = await readTrace(file, { maxEvents });
  const events = trace.spans.length + trace.api.length + trace.gpu.length;
  if (events >= 1_000_000) log.info(`analyzing ${events.toLocaleString("en-US")} events…`);
  const analysis = analysisContext(trace, top, undefined, window);
  const report = buildReport(analysis, file === "-" ? "<stdin>" : showPath(file), rules);
  log.debug(`analyzed ${report.source.events} events in ${((performance.now() - started) / 1000).toFixed(2)} s`);
  return { analysis, report };
}

/** Read, analyze, render: the command's body, callable from tests. Returns the rendered text. */
export async function runAnalyze(opts: {
  trace: string;
  format?: string;
  top?: string | number;
  rules?: RulesConfig | null;
  maxEvents?: number;
  window?: string;
}): Promise<{ text: string; report: Report }> {
  const format = parseFormat(opts.format);
  const top = parseTop(opts.top);
  const { analysis, report } = await analyzeFile(opts.trace, top, opts.rules ?? null, opts.maxEvents, opts.window ?? "auto");
  const { renderReport, reportLine } = await Promise.all([import("../report/render.ts"), import("../report/json.ts")]).then(([r, j]) => ({ renderReport: r.renderReport, reportLine: j.reportLine }));
  const text = format === "ndjson" ? reportLine(report) : renderReport(report, format, analysis);
  if ((format === "folded" || format === "speedscope") && analysis.callTree().size <= 1) {
    log.warn(`${opts.trace}: no stacks to export (no Python calls, torch ops, scopes, modules or GPU ops)`);
  }
  return { text, report };
}

export const analyzeCommand = defineCommand({
  meta: { name: "analyze", description: "Diagnose saved InferScope or PyTorch-profiler (Kineto) traces" },
  args: {
    trace: { type: "positional", required: true, description: "trace file (.json or .json.gz), or - for stdin; several with --format ndjson" },
    format: { type: "string", alias: "f", description: "report format: md, html, json, ndjson (one report per line), or the stacks for flame-graph tools: folded, speedscope; default: from the --output extension, else md" },
    output: { type: "string", alias: "o", description: "write the report to this file instead of stdout (format from its extension: .md, .html, .json, .ndjson, .folded, .speedscope.json)" },
    force: { type: "boolean", description: "overwrite an existing --output file" },
    top: { type: "string", description: "length of the top-N lists (kernels, idle attribution, sync callers); default: config `top`" },
    rules: { type: "string", description: "rules file (default: $INFERSCOPE_RULES, else .inferscope_rules.yaml in cwd or the git root)" },
    ...configArgs(["maxEvents", "window"]),
  },
  async run({ args }) {
    const paths = ((args as { _?: string[] })._ ?? [String(args.trace)]).map(String);
    const given = args.format === undefined ? undefined : parseFormat(args.format);
    // Checked before any trace is read: a bad path fails at once, not after minutes of analysis.
    const out = args.output === undefined ? null : checkOutputFile("--output", String(args.output), { force: args.force === true, format: given, extensions: EXTENSIONS, inputs: paths.map(inputFile) });
    const format = (out?.format ?? given ?? "md") as Format;
    const { config } = resolveConfig({ flags: flagsFromArgs(args, ["maxEvents", "window"]) });
    const top = parseTop(args.top ?? config.top);
    const window = config.window;
    if (paths.length > 1 && format !== "ndjson") fail(`${paths.length} traces given: several traces need --format ndjson (one report per line); or analyze one at a time`);
    if (paths.filter((p) => p === "-").length > 1) fail("stdin (-) can be read only once");
    // Checked before any trace is read: a bad rules file costs nothing.
    const rules = await loadRulesOption(args.rules);
    if (format !== "ndjson") {
      const { text } = await runAnalyze({ trace: paths[0]!, format, top, rules, maxEvents: config.maxEvents, window });
      await writeOutput(out, text);
      return;
    }
    // One line per trace, written as soon as it is analyzed; a bad trace is skipped with its one
    // line on stderr, and the exit code says so at the end.
    const { reportLine } = await import("../report/json.ts");
    const lines: string[] = [];
    let failed = 0;
    for (const p of paths) {
      try {
        const { report } = await analyzeFile(p, top, rules, config.maxEvents, window);
        const line = reportLine(report);
        if (out) lines.push(line);
        else await writeStdout(line);
      } catch (e) {
        if ((e as Error).name !== "UserError" || paths.length === 1) throw e;
        failed++;
        process.stderr.write(`inferscope: ${(e as Error).message} (skipped)\n`);
      }
    }
    if (out) await writeOutput(out, lines.join(""));
    if (failed > 0) fail(`${failed} of ${paths.length} traces could not be read (see above); the other reports were written`);
  },
});
