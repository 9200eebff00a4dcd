// Every command's argv is checked against its citty definition before it runs: citty itself
// ignores unknown flags and extra positionals, so `run --ouptut-dir x s.py` silently took `x` as
// the script. An unknown flag or a surplus argument ends in one line naming it and the closest
// valid flag. main.ts applies this to every command, so a new command gets it by declaring args.
import type { ArgsDef, CommandDef } from "citty";
import { closest } from "../closest.ts";
import { fail } from "../errors.ts";

/** Flags main.ts reads itself, valid after any command. */
const GLOBAL_FLAGS: Record<string, "boolean"> = { quiet: "boolean", verbose: "boolean", help: "boolean" };
const GLOBAL_SHORT: Record<string, "boolean"> = { h: "boolean" };

type Kind = "boolean" | "string";

interface Spec {
  long: Map<string, Kind>;
  short: Map<string, Kind>;
  /** The names to suggest, as the user writes them (--output-dir, --no-trace, -o). */
  shown: string[];
  positionals: string[];
}

const kebab = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
const camel = (s: string) => s.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

async function resolve<T>(v: T | (() => T | Promise<T>) | Promise<T> | undefined): Promise<T | undefined> {
  return typeof v === "function" ? await (v as () => T | Promise<T>)() : await v;
}

function specOf(def: ArgsDef): Spec {
  const long = new Map<string, Kind>(Object.entries(GLOBAL_FLAGS));
  const short = new Map<string, Kind>(Object.entries(GLOBAL_SHORT));
  const shown: string[] = Object.keys(GLOBAL_FLAGS).map((n) => `--${n}`);
  const positionals: string[] = [];
  for (const [name, d] of Object.entries(def)) {
    if (d.type === "positional") {
      positionals.push(name.toUpperCase());
      continue;
    }
    const kind: Kind = d.type === "boolean" ? "boolean" : "string";
    const alias = (d as { alias?: string | string[] }).alias;
    const aliases = alias === undefined ? [] : Array.isArray(alias) ? alias : [alias];
    for (const n of [name, kebab(name), camel(name), ...aliases]) {
      if (n.length === 1) short.set(n, kind);
      else long.set(n, kind);
    }
    shown.push(`--${kebab(name)}`);
    if (kind === "boolean") {
      long.set(`no-${kebab(name)}`, "boolean");
      long.set(`no-${camel(name)}`, "boolean");
      shown.push(`--no-${kebab(name)}`);
    }
    for (const a of aliases) if (a.length === 1) shown.push(`-${a}`);
  }
  return { long, short, shown, positionals };
}

function unknown(flag: string, command: string, spec: Spec): never {
  // one letter is too little to guess from
  const hint = flag.startsWith("--") ? closest(flag, spec.shown) : undefined;
  fail(`unknown option ${flag} for ${command}${hint ? `; did you mean ${hint}?` : ""} (see ${command} --help)`);
}

function needsValue(flag: string, command: string, what?: string): never {
  fail(what ? `${flag} needs ${what}` : `option ${flag} needs a value (see ${command} --help)`);
}

/** What a command's argv may hold beyond its declared flags and positionals. */
export interface ArgvRules {
  /** Everything after `--` is passed on untouched (run: the script and its arguments). */
  trailing?: boolean;
  /** The last declared positional repeats (analyze a.json b.json --format ndjson). */
  variadic?: boolean;
  /** What a flag's value is, by its name without dashes, for the line when it is missing. */
  values?: Readonly<Record<string, string>>;
}

/** Throws a UserError for the first unknown flag, flag without its value, or surplus positional. */
export async function checkArgv(command: string, cmd: CommandDef<any>, rawArgs: readonly string[], opts: ArgvRules = {}): Promise<void> {
  const spec = specOf((await resolve(cmd.args)) ?? {});
  const subs = (await resolve(cmd.subCommands)) as Record<string, CommandDef<any>> | undefined;
  let positional = 0;
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i] as string;
    const isValue = (j: number) => j < rawArgs.length && rawArgs[j] !== "--";
    if (a === "--") {
      if (opts.trailing) return;
      for (const p of rawArgs.slice(i + 1)) surplus(p);
      return;
    }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = a.slice(2, eq < 0 ? undefined : eq);
      const kind = spec.long.get(name);
      if (!kind) unknown(`--${name}`, command, spec);
      if (kind === "string" && eq < 0) {
        if (!isValue(i + 1)) needsValue(a, command, opts.values?.[name]);
        i++;
      }
      continue;
    }
    if (a.startsWith("-") && a !== "-") {
      // -f json, -fjson, or grouped booleans (-hq)
      for (let k = 1; k < a.length; k++) {
        const c = a[k] as string;
        const kind = spec.short.get(c);
        if (!kind) unknown(`-${c}`, command, spec);
        if (kind === "string") {
          if (k === a.length - 1) {
            if (!isValue(i + 1)) needsValue(`-${c}`, command);
            i++;
          }
          break;
        }
      }
      continue;
    }
    if (subs && positional === 0 && spec.positionals.length === 0) {
      const sub = subs[a];
      if (!sub) {
        const hint = closest(a, Object.keys(subs));
        fail(`unknown command "${a}" for ${command}${hint ? `; did you mean "${hint}"?` : ""} (commands: ${Object.keys(subs).join(", ")})`);
      }
      return checkArgv(`${command} ${a}`, sub, rawArgs.slice(i + 1), opts);
    }
    surplus(a);
  }

  function surplus(a: string): void {
    positional++;
    if (positional <= spec.positionals.length || (opts.variadic && spec.positionals.length > 0)) return;
    const takes = spec.positionals.length === 0 ? "takes no arguments" : `takes ${spec.positionals.length === 1 ? "one argument" : `${spec.positionals.length} arguments`} (${spec.positionals.join(" ")})`;
    fail(`unexpected argument "${a}": ${command} ${takes}; see ${command} --help`);
  }
}
