// Real fixture traces (Kineto, recorded on an H100) and their analyses, for the golden and browser tests.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Report } from "../../src/analyze/report-types.ts";
import { readTrace } from "../../src/trace/read.ts";
import type { Trace } from "../../src/trace/model.ts";
import handmade from "./handmade_cpu_bound.json";

export const LARGEST_FIXTURE = "llama_tiny_generate.kineto.json.gz";

export function fixturePath(name: string): string {
  const own = join(import.meta.dir, "..", "fixtures", "kineto", name);
  if (existsSync(own)) return own;
  return join(import.meta.dir, "..", "..", "..", "shared", "fixtures", "kineto", name);
}

export async function fixtureAnalysis(
  name: string,
  mutate?: (t: Trace) => unknown,
): Promise<{ trace: Trace; report: Report }> {
  const trace = await readTrace(fixturePath(name));
  mutate?.(trace);
  // TODO: analyze(trace) once src/analyze/index.ts lands
  return { trace, report: structuredClone(handmade) as unknown as Report };
}
