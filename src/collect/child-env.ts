// The profiled process's environment: the user's, plus InferScope's own variables only.
import { join } from "node:path";
import type { Config } from "../config/keys.ts";
import { BOOT_DIR } from "../tracer/manifest.ts";

/** What the child's tracer is told through $_INFERSCOPE_RUN. */
export function tracerOptions(config: Config, rawDir: string, shimPath: string): Record<string, unknown> {
  return {
    dir: rawDir,
    ppid: process.pid,
    calls: config.pythonCalls,
    modules: config.modules,
    buffer: config.buffer,
    sizeMb: config.traceSizeMb,
    shim: shimPath,
    delay: config.delay,
    duration: config.duration,
    capture: config.capture,
    follow: config.followChildren,
    torchOps: config.torchOps,
    opShapes: config.opShapes,
  };
}

/** The child's environment: the parent's plus InferScope's own variables only. */
export function childEnv(base: NodeJS.ProcessEnv, pythonPath: string, extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v;
  const user = base.PYTHONPATH;
  env.PYTHONPATH = [join(pythonPath, BOOT_DIR), pythonPath, ...(user ? [user] : [])].join(":");
  return { ...env, ...extra };
}

export function childEnvPlain(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  return env;
}
