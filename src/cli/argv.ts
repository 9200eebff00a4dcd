// Splits `inferscope [global] run [run flags] script.py [script args…]` before citty sees it:
// everything after the script (or after `-m module`) belongs to the script untouched, `--help`
// included.

export interface RunArgv {
  /** InferScope's own flags for `run`. */
  own: string[];
  /** The script path, or the module after -m. */
  target?: string;
  module: boolean;
  scriptArgs: string[];
}

/** `valueFlags`: run's flags that consume the next token (--output-dir DIR …). */
export function splitRunArgv(args: readonly string[], valueFlags: ReadonlySet<string>): RunArgv {
  const own: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === "--") {
      const [target, ...rest] = args.slice(i + 1);
      return target === undefined ? { own, module: false, scriptArgs: [] } : { own, target, module: false, scriptArgs: rest };
    }
    if (a === "-m") {
      const target = args[i + 1];
      return target === undefined ? { own: [...own, a], module: true, scriptArgs: [] } : { own, target, module: true, scriptArgs: args.slice(i + 2) };
    }
    if (a.startsWith("-") && a !== "-") {
      own.push(a);
      const name = a.replace(/^-{1,2}/, "");
      if (!a.includes("=") && valueFlags.has(name) && i + 1 < args.length) own.push(args[++i] as string);
      continue;
    }
    return { own, target: a, module: false, scriptArgs: args.slice(i + 1) };
  }
  return { own, module: false, scriptArgs: [] };
}

export interface TopArgv {
  /** Flags before the command: --quiet, --verbose, --help, --version. */
  global: string[];
  command?: string;
  rest: string[];
}

export function splitTopArgv(args: readonly string[]): TopArgv {
  const global: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (!a.startsWith("-")) return { global, command: a, rest: args.slice(i + 1) };
    global.push(a);
  }
  return { global, rest: [] };
}

/** What `diff --fail-if` takes, for the line when its value is missing (strict-args, diff). */
export const FAIL_IF_VALUE = "an expression, e.g. --fail-if 'scopes.step.p50_change_pct > 5.0 && scopes.step.significant'";
