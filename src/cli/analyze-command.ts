// `inferscope analyze TRACE`: read a saved InferScope or PyTorch-profiler (Kineto) trace, analyze
// it and print the report (Markdown by default) on stdout or into --output.
import { writeFile } from "node:fs/promises";
import { defineCommand } from "citty";
import { fail } from "../errors.ts";
import { log } from "../log.ts";
import type { Report } from "../analyze/report-types.ts";
import { resolveConfig } from "../config/resolve.ts";
import { REPORT_FORMATS, orList, type ReportFormat } from "../report/formats.ts";

export function parseTop(v: unknown): number {
  const s = String(v ?? "10");
  if (!/^\d+$/.test(s) || Number(s) < 1 || Number(s) > 10000) fail(`--top must be a whole number from 1 to 10000 (got "${s}")`);
  return Number(s);
}

export function parseFormat(v: unknown): ReportFormat {
  const s = String(v ?? "md").toLowerCase();
  if (!(REPORT_FORMATS as readonly string[]).includes(s)) fail(`--format must be ${orList(REPORT_FORMATS)} (got "${String(v)}")`);
  return s as ReportFormat;
}

/** Read, analyze, render: the command's body, callable from tests. Returns the rendered text. */
export async function runAnalyze(opts: { trace: string; format?: string; top?: string | number }): Promise<{ text: string; report: Report }> {
  const format = parseFormat(opts.format);
  const top = parseTop(opts.top);
  const [{ readTrace }, { analysisContext, buildReport }] = await Promise.all([import("../trace/read.ts"), import("../analyze/index.ts")]);
  const started = performance.now();
  const trace = await readTrace(opts.trace);
  const analysis = analysisContext(trace, top);
  const report = buildReport(analysis, opts.trace === "-" ? "<stdin>" : opts.trace);
  log.debug(`analyzed ${report.source.events} events in ${((performance.now() - started) / 1000).toFixed(2)} s`);
  const { renderReport } = await import("../report/render.ts");
  return { text: renderReport(report, format, analysis), report };
}

export const analyzeCommand = defineCommand({
  meta: { name: "analyze", description: "Diagnose a saved InferScope or PyTorch-profiler (Kineto) trace" },
  args: {
    trace: { type: "positional", required: true, description: "trace file (.json or .json.gz), or - for stdin" },
    format: { type: "string", alias: "f", default: "md", description: `report format: ${orList(REPORT_FORMATS)}` },
    output: { type: "string", alias: "o", description: "write the report to this file instead of stdout" },
    force: { type: "boolean", description: "overwrite an existing --output file" },
    top: { type: "string", description: "length of the top-N lists (kernels, idle attribution, sync callers); default: config `top`" },
  },
  async run({ args }) {
    const top = args.top ?? resolveConfig().config.top;
    const { text } = await runAnalyze({ trace: String(args.trace), format: args.format, top });
    if (args.output) {
      const out = String(args.output);
      try {
        // Unlike Bun.write, does not create missing directories; "wx" never replaces a file the user had.
        await writeFile(out, text, { flag: args.force ? "w" : "wx" });
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code === "EEXIST") fail(`${out} already exists; pass --force to overwrite it, or choose another path`);
        const why = code === "ENOENT" ? "its directory does not exist" : code === "EACCES" || code === "EPERM" ? "permission denied" : code === "EISDIR" ? "it is a directory" : (e as Error).message;
        fail(`cannot write the report to ${out}: ${why}`);
      }
      log.info(`report written to ${out}`);
    } else {
      await new Promise<void>((resolve, reject) => process.stdout.write(text, (err) => (err ? reject(err) : resolve())));
    }
  },
});
