// `inferscope analyze TRACE…`: read saved InferScope or PyTorch-profiler (Kineto) traces, analyze
// them and print the report (Markdown by default) on stdout or into --output. Several traces need
// --format ndjson: one report per line, for DuckDB, Spark or BigQuery (docs/diff.md).
import { defineCommand } from "citty";
import { fail } from "../errors.ts";
import { log } from "../log.ts";
import type { Report } from "../analyze/report-types.ts";
import { resolveConfig } from "../config/resolve.ts";
import type { RulesConfig } from "../rules/file.ts";
import { REPORT_FORMATS } from "../report/formats.ts";
import { parseChoice, parseTop, writeOutput, writeStdout } from "./output.ts";

export { parseTop } from "./output.ts";

const FORMATS = [...REPORT_FORMATS, "ndjson"] as const;
type Format = (typeof FORMATS)[number];

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

/** Read and analyze one trace. */
export async function analyzeFile(path: string, top: number, rules: RulesConfig | null, window = "auto") {
  const [{ readTrace }, { analysisContext, buildReport }] = await Promise.all([import("../trace/read.ts"), import("../analyze/index.ts")]);
  const started = performance.now();
  const trace = await readTrace(path);
  const analysis = analysisContext(trace, top, undefined, window);
  const report = buildReport(analysis, path === "-" ? "<stdin>" : path, rules);
  log.debug(`analyzed ${report.source.events} events in ${((performance.now() - started) / 1000).toFixed(2)} s`);
  return { analysis, report };
}

/** Read, analyze, render: the command's body, callable from tests. Returns the rendered text. */
export async function runAnalyze(opts: { trace: string; format?: string; top?: string | number; rules?: RulesConfig | null; window?: string }): Promise<{ text: string; report: Report }> {
  const format = parseFormat(opts.format);
  const top = parseTop(opts.top);
  const { analysis, report } = await analyzeFile(opts.trace, top, opts.rules ?? null, opts.window ?? "auto");
  const { renderReport, reportLine } = await Promise.all([import("../report/render.ts"), import("../report/json.ts")]).then(([r, j]) => ({ renderReport: r.renderReport, reportLine: j.reportLine }));
  return { text: format === "ndjson" ? reportLine(report) : renderReport(report, format, analysis), report };
}

export const analyzeCommand = defineCommand({
  meta: { name: "analyze", description: "Diagnose saved InferScope or PyTorch-profiler (Kineto) traces" },
  args: {
    trace: { type: "positional", required: true, description: "trace file (.json or .json.gz), or - for stdin; several with --format ndjson" },
    format: { type: "string", alias: "f", default: "md", description: "report format: md, html, json, or ndjson (one report per line)" },
    output: { type: "string", alias: "o", description: "write the report to this file instead of stdout" },
    force: { type: "boolean", description: "overwrite an existing --output file" },
    top: { type: "string", description: "length of the top-N lists (kernels, idle attribution, sync callers); default: config `top`" },
    rules: { type: "string", description: "rules file (default: $INFERSCOPE_RULES, else .inferscope_rules.yaml in cwd or the git root)" },
    window: { type: "string", description: "span the diagnosis covers: auto (the steady state), all, mark:NAME, scope:NAME[,skip=N]; default: config `window`" },
  },
  async run({ args }) {
    const paths = ((args as { _?: string[] })._ ?? [String(args.trace)]).map(String);
    const format = parseFormat(args.format);
    const { config } = resolveConfig(args.window !== undefined ? { flags: { window: args.window } } : {});
    const top = parseTop(args.top ?? config.top);
    const window = config.window;
    if (paths.length > 1 && format !== "ndjson") fail(`${paths.length} traces given: several traces need --format ndjson (one report per line); or analyze one at a time`);
    if (paths.filter((p) => p === "-").length > 1) fail("stdin (-) can be read only once");
    // Checked before any trace is read: a bad rules file costs nothing.
    const rules = await loadRulesOption(args.rules);
    if (format !== "ndjson") {
      const { text } = await runAnalyze({ trace: paths[0]!, format, top, rules, window });
      await writeOutput(args.output, text, args.force === true);
      return;
    }
    // One line per trace, written as soon as it is analyzed; a bad trace is skipped with its one
    // line on stderr, and the exit code says so at the end.
    const { reportLine } = await import("../report/json.ts");
    const lines: string[] = [];
    let failed = 0;
    for (const p of paths) {
      try {
        const { report } = await analyzeFile(p, top, rules, window);
        const line = reportLine(report);
        if (args.output) lines.push(line);
        else await writeStdout(line);
      } catch (e) {
        if ((e as Error).name !== "UserError" || paths.length === 1) throw e;
        failed++;
        process.stderr.write(`inferscope: ${(e as Error).message} (skipped)\n`);
      }
    }
    if (args.output) await writeOutput(args.output, lines.join(""), args.force === true);
    if (failed > 0) fail(`${failed} of ${paths.length} traces could not be read (see above); the other reports were written`);
  },
});
