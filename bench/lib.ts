// What the benchmark drivers share: their command-line options, a clean environment for the
// processes they start, and the median.

/** `--name value` from argv, or the default. */
export function option(name: string, dflt: string, argv = process.argv.slice(2)): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : dflt;
}

/** This process's environment without INFERSCOPE_* (runs start from the defaults), NO_COLOR set. */
export function benchEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("INFERSCOPE_")) env[k] = v;
  env.NO_COLOR = "1";
  return env;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
