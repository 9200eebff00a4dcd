// `inferscope config show [--json]`: the effective value of every key and where it came from.
import { defineCommand } from "citty";
import { CONFIG_KEYS } from "../config/keys.ts";
import { resolveConfig, type Resolved } from "../config/resolve.ts";
import { findRulesFile, RULES_ENV } from "../rules/find.ts";
import { configArgs, flagsFromArgs } from "./config-flags.ts";
import { writeStdout } from "./output.ts";
import { showPath } from "../core/raw-path.ts";

/** The rules file `analyze` and `run` would use, and where that came from. */
function rulesOrigin(): { path: string | null; source: string } {
  const found = findRulesFile();
  if (!found) return { path: null, source: "none (no .inferscope_rules.yaml in cwd or the git root)" };
  return { path: showPath(found.path), source: found.origin === "env" ? `env (${RULES_ENV})` : found.origin === "flag" ? "flag (--rules)" : "file (found in cwd or the git root)" };
}

export function formatConfigTable(r: Resolved): string {
  const rows = CONFIG_KEYS.map((key) => {
    const o = r.origins[key];
    const value = JSON.stringify(r.config[key]);
    return [key, value, o.where ? `${o.source} (${o.where})` : o.source];
  });
  const widths = [0, 1].map((c) => Math.max(...rows.map((row) => (row[c] as string).length), c === 0 ? 3 : 5));
  const line = (row: string[]) => `${(row[0] as string).padEnd(widths[0] as number)}  ${(row[1] as string).padEnd(widths[1] as number)}  ${row[2]}`.trimEnd();
  return [line(["key", "value", "source"]), ...rows.map(line)].join("\n") + "\n";
}

export const configShowCommand = defineCommand({
  meta: { name: "show", description: "Print the effective configuration and where each value came from" },
  args: {
    json: { type: "boolean", description: "Print JSON: {key: {value, source, where}}" },
    ...configArgs(),
  },
  run({ args }) {
    const r = resolveConfig({ flags: flagsFromArgs(args) });
    if (args.json) {
      const out: Record<string, unknown> = {};
      for (const key of CONFIG_KEYS) out[key] = { value: r.config[key], ...r.origins[key] };
      const rules = rulesOrigin();
      return writeStdout(JSON.stringify({ file: r.file ?? null, rules_file: rules.path, rules_source: rules.source, keys: out }, null, 2) + "\n");
    } else {
      const rules = rulesOrigin();
      return writeStdout(`${formatConfigTable(r)}\nrules file: ${rules.path ? `${rules.path}  ${rules.source}` : rules.source}\n`);
    }
  },
});

export const configCommand = defineCommand({
  meta: { name: "config", description: "Inspect InferScope's configuration" },
  subCommands: { show: configShowCommand },
});
