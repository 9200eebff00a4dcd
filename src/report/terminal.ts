// What `inferscope run` prints on stderr when the reports are written: the verdict and the top
// findings, before the paths, so the answer is on screen without opening a file.
import type { Report } from "../analyze/report-types.ts";
import { plain } from "./format.ts";
import { buildView } from "./view-model.ts";

/** Findings listed under the verdict. */
export const TERMINAL_FINDINGS = 3;

export function terminalSummary(r: Report): string {
  const v = buildView(r);
  const lines = [plain(v.verdict.sentence)];
  const w = r.window;
  if (w && w.mode !== "all") lines.push(`  (${w.mode === "auto" ? "steady state" : "window"}: ${(w.duration_ms / 1000).toFixed(2)} s of a ${(w.run_ms / 1000).toFixed(2)} s run; --window all for the whole run)`);
  for (const f of v.findings.slice(0, TERMINAL_FINDINGS)) {
    lines.push(`  ${f.rank}. ${plain(f.title)} [${f.severity}]`);
    const first = f.suggestions[0];
    if (first) lines.push(`     → ${plain(first)}`);
  }
  if (v.findings.length > TERMINAL_FINDINGS) lines.push(`  … ${v.findings.length - TERMINAL_FINDINGS} more in the report`);
  return lines.join("\n");
}
