// Logs, progress and warnings go to stderr; stdout is reserved for data (reports, JSON).
import { createConsola, type ConsolaInstance } from "consola";

const LEVELS = { silent: -999, error: 0, warn: 1, info: 3, debug: 4, trace: 5 } as const;
export type LogLevel = keyof typeof LEVELS;
/** The level names, for the `logLevel` config key. */
export const LOG_LEVELS = Object.keys(LEVELS) as [LogLevel, ...LogLevel[]];

export const log: ConsolaInstance = createConsola({
  level: LEVELS.info,
  stdout: process.stderr,
  stderr: process.stderr,
  formatOptions: { date: false, colors: !process.env.NO_COLOR && process.stderr.isTTY === true },
});

export function setLogLevel(level: LogLevel): void {
  log.level = LEVELS[level];
}

/** The level InferScope's own --verbose / --quiet ask for (--verbose wins), else `fallback`. */
export function levelFromFlags(flags: { quiet?: boolean; verbose?: boolean }, fallback: LogLevel): LogLevel;
export function levelFromFlags(flags: { quiet?: boolean; verbose?: boolean }, fallback?: LogLevel): LogLevel | undefined;
export function levelFromFlags(flags: { quiet?: boolean; verbose?: boolean }, fallback?: LogLevel): LogLevel | undefined {
  if (flags.verbose) return "debug";
  if (flags.quiet) return "error";
  return fallback;
}
