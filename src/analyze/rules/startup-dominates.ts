// Start-up dominating a short run: interpreter start, imports and model construction take most
// of the run, so the steady state hardly matters for its wall time. InferScope traces only
// (a torch.profiler trace does not cover start-up).
import { type AnalysisContext, type Rule, type RuleFinding, msRounded, pct, round, shareConfidence } from "./common.ts";
import type { ParamDefs } from "../params.ts";
import type { PythonLauncher } from "../../trace/model.ts";

/** Start-up at least this share of the run (process start → end). */
export const STARTUP_MIN_SHARE = 0.5;
/** A launcher script is worth a suggestion when it adds at least this much to Python's start (ms). */
const LAUNCHER_MIN_EXTRA_MS = 50;

/** The thresholds a rules file may override by name (`rule_id.param`, docs/rules.md). */
const PARAMS = {
  min_share: { default: STARTUP_MIN_SHARE, unit: "share", doc: "start-up (process start → steady state) is at least this share of the run", max: 1 },
} satisfies ParamDefs;

export const startupDominatesRule: Rule<typeof PARAMS> = {
  id: "startup_dominates",
  description: `start-up (interpreter, imports, model construction) is ≥ ${STARTUP_MIN_SHARE * 100} % of the run`,
  params: PARAMS,
  evaluate(ctx: AnalysisContext, p): RuleFinding | null {
    const s = ctx.startup;
    const w = ctx.window;
    if (!s || !w || s.share < p.min_share) return null;
    const top = s.topImporters.slice(0, 3).map((m) => `${m.module} ${round(m.ns / 1e6, 0)} ms`);
    const runNs = s.totalNs / (s.share || 1);
    const l = s.launcher;
    const interpreter = s.interpreterNs === null ? "" : `interpreter start ${round(s.interpreterNs / 1e6, 0)} ms${l ? " (through a launcher script)" : ""}, `;
    const launcherTip = l && (l.direct_start_ms === null || l.start_ms - l.direct_start_ms >= LAUNCHER_MIN_EXTRA_MS) ? [launcherSuggestion(l)] : [];
    return {
      title: `Start-up takes ${pct(s.totalNs, runNs)} % of the run: ${interpreter}imports ${round(s.importsNs / 1e6, 0)} ms${top.length ? ` (${top.join(", ")})` : ""}, other set-up ${round(s.otherNs / 1e6, 0)} ms`,
      severity: s.share >= 0.8 ? "high" : "medium",
      confidence: shareConfidence(s.share, p.min_share),
      impact_ms: msRounded(s.totalNs),
      saving: {
        kind: "none",
        reason: w.mode === "all" ? `how much of start-up's ${round(s.totalNs / 1e6, 0)} ms can go depends on the fix (a warm process pays it once, lazy imports save a part)` : `start-up lies before the steady state the savings are shares of; it is ${round(s.totalNs / 1e6, 0)} ms of the run`,
      },
      evidence: {
        startup_ms: msRounded(s.totalNs),
        interpreter_ms: s.interpreterNs === null ? null : msRounded(s.interpreterNs),
        imports_ms: msRounded(s.importsNs),
        other_ms: msRounded(s.otherNs),
        pct_of_run: round(s.share * 100, 1),
        top_importers: s.topImporters.map((m) => ({ module: m.module, ms: msRounded(m.ns) })),
        ...(l ? { launcher: l.command, executable: l.executable, launcher_start_ms: l.start_ms, direct_start_ms: l.direct_start_ms } : {}),
      },
      suggestions: [
        ...launcherTip,
        "Keep the process warm: serve many inputs per process (a long-lived worker or server) instead of starting Python, importing and building the model for each run.",
        `Import less at start: import heavy modules lazily inside the functions that need them${top.length ? ` (here ${s.topImporters.slice(0, 2).map((m) => m.module).join(", ")})` : ""}; \`python -X importtime script.py\` lists every import's cost.`,
        "Build the model once and load it fast: save it whole (torch.save / torch.export) or its weights with mmap (torch.load(..., mmap=True)) instead of constructing and initialising layers that the weights then overwrite.",
      ],
    };
  },
};

/** Start the interpreter itself, not the script in front of it. */
function launcherSuggestion(l: PythonLauncher): string {
  const measured =
    l.direct_start_ms === null
      ? `Python took ${round(l.start_ms, 0)} ms to start through it (the interpreter did not start without it, so there is no direct figure)`
      : `Python took ${round(l.start_ms, 0)} ms to start through it and ${round(l.direct_start_ms, 0)} ms directly (measured once each, before the run)`;
  return `The Python command is a launcher script (\`${l.command}\`, e.g. a pyenv or asdf shim) in front of \`${l.executable}\`: ${measured}. Run the interpreter directly: \`inferscope run --python ${l.executable} …\` (or put its directory first on PATH, e.g. by activating the environment once), here and wherever the script starts Python subprocesses.`;
}
