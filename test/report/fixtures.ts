// Real fixture traces (Kineto, recorded on an H100) and their analyses, for the golden and browser tests.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Report } from "../../src/analyze/report-types.ts";
import { readTrace } from "../../src/trace/read.ts";
import type { Trace } from "../../src/trace/model.ts";
import { analysisContext, buildReport } from "../../src/analyze/index.ts";
import type { AnalysisContext } from "../../src/analyze/rules/index.ts";

export const FIXTURES = [
  "cudagraph.kineto.json.gz",
  "llama_tiny_generate.kineto.json.gz",
  "pinned_nonblocking.kineto.json.gz",
  "sync_stall.kineto.json.gz",
  "vit_fp16.kineto.json.gz",
];
export const LARGEST_FIXTURE = "llama_tiny_generate.kineto.json.gz";

export function fixturePath(name: string): string {
  const path = join(import.meta.dir, "..", "fixtures", "kineto", name);
  if (!existsSync(path)) throw new Error(`fixture ${path} is missing`);
  return path;
}

export async function fixtureAnalysis(
  name: string,
  mutate?: (t: Trace) => unknown,
): Promise<{ trace: Trace; report: Report; analysis: AnalysisContext }> {
  const trace = await readTrace(fixturePath(name));
  mutate?.(trace);
  const analysis = analysisContext(trace);
  // The path in the report is the fixture's name, not where this checkout lives: goldens stay stable.
  const report = buildReport(analysis, `test/fixtures/kineto/${name}`);
  return { trace, report, analysis };
}
