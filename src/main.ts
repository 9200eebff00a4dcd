#!/usr/bin/env bun
// Entry point. Splits argv itself (citty would take a script's --help as its own), loads only the
// command that runs, and turns every user error into one line on stderr and a non-zero exit.
import { renderUsage, runCommand, type CommandDef } from "citty";
import { FAIL_IF_VALUE, splitRunArgv, splitTopArgv } from "./cli/argv.ts";
import { writeStdout } from "./cli/output.ts";
import { type ArgvRules, checkArgv } from "./cli/strict-args.ts";
import { oneLine } from "./core/printable.ts";
import { VERSION } from "./version.ts";

type Loader = () => Promise<CommandDef<any>>;
/**
 * Every command: its line in the usage, how to load it, and what its argv may hold beyond its
 * declared flags and positionals (checked by cli/strict-args.ts before it runs): `trailing`, what
 * follows `--` is passed on untouched; `variadic`, its last positional repeats; `values`, what a
 * flag's value is when it is missing.
 */
const COMMANDS: Record<string, { description: string; load: Loader; argv?: ArgvRules }> = {
  run: {
    description: "Profile a Python script: inferscope run infer.py [script args…]",
    load: async () => (await import("./cli/run-command.ts")).runCommand,
    argv: { trailing: true },
  },
  analyze: {
    description: "Diagnose a saved InferScope or PyTorch-profiler trace",
    load: async () => (await import("./cli/analyze-command.ts")).analyzeCommand,
    argv: { variadic: true },
  },
  diff: {
    description: "Compare two traces or reports: did my change help? (diff BASE NEW [--fail-if EXPR])",
    load: async () => (await import("./cli/diff-command.ts")).diffCommand,
    argv: { values: { "fail-if": FAIL_IF_VALUE } },
  },
  rules: { description: "Built-in rules and custom rules files (rules list [--json], rules check [FILE])", load: async () => (await import("./cli/rules-command.ts")).rulesCommand },
  config: { description: "Show the effective configuration (config show [--json])", load: async () => (await import("./cli/config-command.ts")).configCommand },
  doctor: { description: "Check what InferScope can use here: shim, clock, GPUs, Python", load: async () => (await import("./cli/doctor-command.ts")).doctorCommand },
  pythonpath: { description: "Print a stable directory to put on PYTHONPATH for `import inferscope` (--install: into site-packages)", load: async () => (await import("./cli/pythonpath-command.ts")).pythonpathCommand },
};

function rootUsage(): string {
  const names = Object.keys(COMMANDS);
  const w = Math.max(...names.map((n) => n.length));
  return [
    `InferScope ${VERSION}: why is my single-GPU PyTorch inference slow?`,
    "",
    "Usage: inferscope [--quiet|--verbose] <command> [options]",
    "",
    "Commands:",
    ...names.map((n) => `  ${n.padEnd(w)}  ${COMMANDS[n]?.description}`),
    "",
    "Options: --version, --help (also after a command: inferscope run --help), --quiet, --verbose",
    "",
  ].join("\n");
}

/** What the user sees for an error: one line (the stack only with --verbose) and the exit code. */
export function errorMessage(e: unknown, verbose: boolean): { text: string; code: number } {
  const err = e as Error & { code?: unknown };
  if (err?.name === "QuietExit") return { text: "", code: typeof err.code === "number" ? err.code : 0 };
  // The reader of stdout went away outside writeStdout (`… --format folded | head`): quiet, as SIGPIPE.
  if (err?.code === "EPIPE") return { text: "", code: 141 };
  // Messages quote input (paths, names, bytes of a broken file): one line, no control characters.
  if (err?.name === "UserError") return { text: `inferscope: ${oneLine(err.message)}\n`, code: typeof err.code === "number" ? err.code : 2 };
  if (err?.name === "CLIError") return { text: `inferscope: ${oneLine(err.message.replace(/\x1b\[[0-9;]*m/g, ""))}; see inferscope --help\n`, code: 2 };
  const detail = verbose ? `\n${err?.stack ?? ""}` : " (run with --verbose for details)";
  return { text: `inferscope: internal error: ${oneLine(err?.message ?? String(e))}${detail}\n`, code: 70 };
}

function report(e: unknown, verbose: boolean): number {
  const { text, code } = errorMessage(e, verbose);
  process.stderr.write(text);
  return code;
}

export async function main(argv: string[]): Promise<number> {
  try {
    return await dispatch(argv);
  } catch (e) {
    return report(e, false);
  }
}

async function dispatch(argv: string[]): Promise<number> {
  const top = splitTopArgv(argv);
  if (top.global.includes("--version") || top.global.includes("-v")) {
    await writeStdout(`${VERSION}\n`);
    return 0;
  }
  if (!top.command || top.global.includes("--help") || top.global.includes("-h")) {
    const usage = rootUsage();
    if (!top.command && !top.global.some((g) => g === "--help" || g === "-h")) {
      process.stderr.write(usage);
      return 2;
    }
    await writeStdout(usage);
    return 0;
  }
  const entry = COMMANDS[top.command];
  if (!entry) {
    process.stderr.write(`inferscope: unknown command "${top.command}"; commands: ${Object.keys(COMMANDS).join(", ")} (see inferscope --help)\n`);
    return 2;
  }
  const { levelFromFlags, setLogLevel } = await import("./log.ts");
  // InferScope's own flags (never the script's): where --verbose asks for stack traces.
  let own: string[] = top.global;
  try {
    const cmd = await entry.load();
    // Global --quiet/--verbose act like the command's own (run sets its log level from them).
    const globalLog = top.global.filter((g) => g === "--quiet" || g === "--verbose");
    let rawArgs = [...globalLog, ...top.rest];
    own = rawArgs;
    if (top.command === "run") {
      const argsDef = (typeof cmd.args === "function" ? await cmd.args() : cmd.args) ?? {};
      const valueFlags = new Set(Object.entries(argsDef).filter(([, d]) => (d as { type?: string }).type === "string").map(([k]) => k));
      const split = splitRunArgv(rawArgs, valueFlags);
      own = split.own;
      rawArgs = split.target === undefined ? split.own : [...split.own, ...(split.module ? ["-m"] : []), "--", split.target, ...split.scriptArgs];
    }
    const level = levelFromFlags({ quiet: own.includes("--quiet"), verbose: own.includes("--verbose") });
    if (level) setLogLevel(level);
    if (own.includes("--help") || own.includes("-h")) {
      const usage = await renderUsage(await resolveSub(cmd, own));
      const plain = process.env.NO_COLOR || !process.stdout.isTTY;
      await writeStdout(`${plain ? usage.replace(/\x1b\[[0-9;]*m/g, "") : usage}\n`);
      return 0;
    }
    await checkArgv(`inferscope ${top.command}`, cmd, rawArgs, entry.argv);
    const result = await runCommand(cmd, { rawArgs });
    await logPeakMemory();
    return typeof result.result === "number" ? result.result : 0;
  } catch (e) {
    return report(e, own.includes("--verbose"));
  }
}

/** --verbose: InferScope's own peak memory (VmHWM), for the memory benchmark and the curious. */
async function logPeakMemory(): Promise<void> {
  const { log } = await import("./log.ts");
  if (log.level < 4) return;
  const { readFileSync } = await import("node:fs");
  try {
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
    if (hwm) log.debug(`peak memory of this process: ${Math.round(Number(hwm[1]) / 1024)} MB`);
  } catch {
    // not Linux: nothing to say
  }
}

/** For `config show --help`: the sub-command named in argv, else the command itself. */
async function resolveSub(cmd: CommandDef<any>, args: string[]): Promise<CommandDef<any>> {
  const subs = (typeof cmd.subCommands === "function" ? await cmd.subCommands() : cmd.subCommands) as Record<string, CommandDef<any>> | undefined;
  const name = args.find((a) => !a.startsWith("-"));
  return (name && subs?.[name]) || cmd;
}

if (import.meta.main) {
  const code = await main(process.argv.slice(2));
  process.exitCode = code;
}
