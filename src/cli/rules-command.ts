// `inferscope rules list [--json]`: the built-in rules, their thresholds and the metrics a user
// rule can read. `inferscope rules check [FILE]`: validate a rules file without a trace.
import { defineCommand } from "citty";
import { fail } from "../errors.ts";
import { log } from "../log.ts";
import { builtins } from "../rules/builtins.ts";
import { findRulesFile, loadRules } from "../rules/file.ts";
import { listing, listingText } from "../rules/listing.ts";
import { writeStdout } from "./output.ts";
import { showPath } from "../core/raw-path.ts";

export const rulesListCommand = defineCommand({
  meta: { name: "list", description: "Print the built-in rules with their thresholds, and the metrics user rules can read" },
  args: { json: { type: "boolean", description: "Print JSON: {rules, metrics, diff_metrics}" } },
  run({ args }) {
    const l = listing();
    return writeStdout(args.json ? `${JSON.stringify(l, null, 2)}\n` : listingText(l));
  },
});

export const rulesCheckCommand = defineCommand({
  meta: { name: "check", description: "Validate a rules file (default: the one InferScope would use) without a trace" },
  args: { file: { type: "positional", required: false, description: "rules file (default: --rules / INFERSCOPE_RULES / .inferscope_rules.yaml)" } },
  run({ args }) {
    const found = findRulesFile({ flag: typeof args.file === "string" ? args.file : undefined });
    if (!found) fail("no rules file: pass one (inferscope rules check FILE), set INFERSCOPE_RULES, or create .inferscope_rules.yaml");
    const r = loadRules(found.path, builtins(), found.origin);
    const shown = showPath(found.path);
    log.info(`${shown}: OK (${r.thresholds.size} threshold override${r.thresholds.size === 1 ? "" : "s"}, ${r.disabled.size} disabled rule${r.disabled.size === 1 ? "" : "s"}, ${r.rules.length} user rule${r.rules.length === 1 ? "" : "s"})`);
    return writeStdout(`${shown}: OK\n`);
  },
});

export const rulesCommand = defineCommand({
  meta: { name: "rules", description: "Built-in rules and custom rules files (rules list [--json], rules check [FILE])" },
  subCommands: { list: rulesListCommand, check: rulesCheckCommand },
});
