// Where the rules file is: --rules FILE > INFERSCOPE_RULES > ./.inferscope_rules.yaml > the git
// root's. Kept apart from the reader (file.ts) so that finding no file loads neither YAML nor CEL.
import { resolve } from "node:path";
import { findUp } from "../config/resolve.ts";
import { pathArg } from "../core/raw-path.ts";

export const RULES_FILE = ".inferscope_rules.yaml";
export const RULES_ENV = "INFERSCOPE_RULES";

/** The rules file to use, or null: --rules > INFERSCOPE_RULES > ./.inferscope_rules.yaml > git root's. */
export function findRulesFile(opts: { flag?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): { path: string | Buffer; origin: "flag" | "env" | "file" } | null {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  if (opts.flag !== undefined && opts.flag !== "") {
    // a name that is not valid UTF-8: the bytes typed (raw-path.ts), made absolute
    const raw = pathArg(opts.flag);
    if (typeof raw !== "string") return { path: raw[0] === 0x2f ? raw : Buffer.concat([Buffer.from(`${cwd}/`), raw]), origin: "flag" };
    return { path: resolve(cwd, raw), origin: "flag" };
  }
  const fromEnv = env[RULES_ENV];
  if (fromEnv !== undefined && fromEnv !== "") return { path: resolve(cwd, fromEnv), origin: "env" };
  const found = findUp(cwd, RULES_FILE);
  return found ? { path: found, origin: "file" } : null;
}
