// Logs, progress and warnings go to stderr; stdout is reserved for data (reports, JSON).
import { createConsola, type ConsolaInstance } from "consola";

const LEVELS = { silent: -999, error: 0, warn: 1, info: 3, debug: 4, trace: 5 } as const;
export type LogLevel = keyof typeof LEVELS;

export const log: ConsolaInstance = createConsola({
  level: LEVELS.info,
  stdout: process.stderr,
  stderr: process.stderr,
  formatOptions: { date: false, colors: !process.env.NO_COLOR && process.stderr.isTTY === true },
});

export function setLogLevel(level: LogLevel): void {
  log.level = LEVELS[level];
}
