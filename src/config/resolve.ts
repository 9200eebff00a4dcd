// Effective configuration: CLI flag > INFERSCOPE_* env > .inferscope.yaml (cwd, then the git
// root) > defaults. Every bad value ends in one UserError naming the key, where it came from and
// the expected form.
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import * as v from "valibot";
import { closest } from "../closest.ts";
import { fail } from "../errors.ts";
import { CONFIG_KEYS, envName, KEYS, type Config, type ConfigKey, type KeyDef } from "./keys.ts";
import { parseFlatYaml, YamlError } from "./yaml.ts";

export type Source = "flag" | "env" | "file" | "default";
export interface Origin {
  source: Source;
  /** --trace-size-mb, INFERSCOPE_TRACE_SIZE_MB, /path/.inferscope.yaml:3 */
  where?: string;
}
export interface Resolved {
  config: Config;
  origins: Record<ConfigKey, Origin>;
  /** The config file that was read, if any. */
  file?: string;
}
export type Flags = Partial<Record<ConfigKey, unknown>>;

export const CONFIG_FILE = ".inferscope.yaml";

export function flagName(key: string): string {
  return `--${key.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase()}`;
}

function show(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
}

function check(key: ConfigKey, value: unknown, where: string): unknown {
  const def: KeyDef = KEYS[key];
  const r = v.safeParse(def.schema, value);
  if (!r.success) fail(`invalid ${key} ${where}: got ${show(value)}; expected ${def.expected}`);
  return r.output;
}

export function suggestKey(name: string): string | undefined {
  return closest(name, CONFIG_KEYS);
}

function gitRoot(from: string): string | null {
  for (let d = resolve(from); ; d = dirname(d)) {
    if (existsSync(join(d, ".git"))) return d;
    if (dirname(d) === d) return null;
  }
}

/** `name` in `cwd`, else at the git root above it (how .inferscope.yaml and .inferscope_rules.yaml are found). */
export function findUp(cwd: string, name: string): string | null {
  const here = join(cwd, name);
  if (existsSync(here)) return here;
  const root = gitRoot(cwd);
  const there = root ? join(root, name) : null;
  return there && existsSync(there) ? there : null;
}

export function findConfigFile(cwd: string): string | null {
  return findUp(cwd, CONFIG_FILE);
}

function readFileValues(path: string): Map<ConfigKey, { value: unknown; line: number }> {
  let text: string;
  try {
    if (statSync(path).isDirectory()) fail(`${path} is a directory; ${CONFIG_FILE} must be a YAML file`);
    text = readFileSync(path, "utf8");
  } catch (e) {
    if (e instanceof Error && e.name === "UserError") throw e;
    fail(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}; check its permissions`);
  }
  let entries;
  try {
    entries = parseFlatYaml(text);
  } catch (e) {
    if (e instanceof YamlError) fail(`YAML syntax error in ${path}:${e.line}: ${e.message}; fix that line`);
    throw e;
  }
  const out = new Map<ConfigKey, { value: unknown; line: number }>();
  for (const e of entries) {
    if (!(e.key in KEYS)) {
      const hint = suggestKey(e.key);
      fail(`unknown key "${e.key}" in ${path}:${e.line}; ${hint ? `did you mean "${hint}"? ` : ""}known keys: ${CONFIG_KEYS.join(", ")}`);
    }
    out.set(e.key as ConfigKey, { value: e.value, line: e.line });
  }
  return out;
}

export function resolveConfig(opts: { flags?: Flags; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Resolved {
  const env = opts.env ?? process.env;
  const flags = opts.flags ?? {};
  const file = findConfigFile(opts.cwd ?? process.cwd());
  const fromFile = file ? readFileValues(file) : new Map();
  const config: Record<string, unknown> = {};
  const origins = {} as Record<ConfigKey, Origin>;
  for (const key of CONFIG_KEYS) {
    const def: KeyDef = KEYS[key];
    const flag = flags[key];
    const envRaw = env[envName(key)];
    const f = fromFile.get(key);
    if (flag !== undefined) {
      const where = flagName(key);
      config[key] = check(key, typeof flag === "string" ? def.fromString(flag) : flag, `from ${where}`);
      origins[key] = { source: "flag", where };
    } else if (envRaw !== undefined && envRaw !== "") {
      const where = envName(key);
      config[key] = check(key, def.fromString(envRaw), `from ${where}`);
      origins[key] = { source: "env", where };
    } else if (f) {
      const where = `${file}:${f.line}`;
      config[key] = check(key, f.value, `in ${where}`);
      origins[key] = { source: "file", where };
    } else {
      config[key] = def.default;
      origins[key] = { source: "default" };
    }
  }
  return { config: config as unknown as Config, origins, ...(file ? { file } : {}) };
}
