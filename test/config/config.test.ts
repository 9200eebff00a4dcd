import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolveConfig } from "../../src/config/resolve.ts";
import { cleanEnv, cli, tempDir } from "../helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

function project(yaml: string | null): string {
  const dir = tempDir();
  if (yaml !== null) writeFileSync(join(dir, ".inferscope.yaml"), yaml);
  return dir;
}

describe("precedence: flag > env > file > default", () => {
  const yaml = "traceSizeMb: 300\nbuffer: wrap\ntop: 7\nlogLevel: debug\n";
  test("each key reports the source it came from", () => {
    const dir = project(yaml);
    const r = resolveConfig({
      cwd: dir,
      env: { INFERSCOPE_TRACE_SIZE_MB: "200", INFERSCOPE_BUFFER: "spill", INFERSCOPE_TOP: "5" },
      flags: { traceSizeMb: "150" },
    });
    expect(r.config.traceSizeMb).toBe(150);
    expect(r.origins.traceSizeMb).toEqual({ source: "flag", where: "--trace-size-mb" });
    expect(r.config.buffer).toBe("spill");
    expect(r.origins.buffer).toEqual({ source: "env", where: "INFERSCOPE_BUFFER" });
    expect(r.config.top).toBe(5);
    expect(r.config.logLevel).toBe("debug");
    expect(r.origins.logLevel).toEqual({ source: "file", where: `${join(dir, ".inferscope.yaml")}:4` });
    expect(r.config.sampleIntervalMs).toBe(20);
    expect(r.origins.sampleIntervalMs).toEqual({ source: "default" });
  });
  test("the git root's file is used when the cwd has none; the cwd's wins", () => {
    const root = project("top: 3\n");
    mkdirSync(join(root, ".git"));
    const sub = join(root, "a/b");
    mkdirSync(sub, { recursive: true });
    expect(resolveConfig({ cwd: sub, env: {} }).config.top).toBe(3);
    writeFileSync(join(sub, ".inferscope.yaml"), "top: 4\n");
    expect(resolveConfig({ cwd: sub, env: {} }).config.top).toBe(4);
  });
  test("env lists and booleans", () => {
    const r = resolveConfig({ cwd: project(null), env: { INFERSCOPE_FORMATS: "md, json", INFERSCOPE_ENABLE: "0", INFERSCOPE_DEVICE: "1" } });
    expect(r.config.formats).toEqual(["md", "json"]);
    expect(r.config.enable).toBe(false);
    expect(r.config.device).toBe(1);
  });
});

describe("config show (the CLI)", () => {
  test("table with sources, and --json", () => {
    const dir = project("top: 7\n");
    const r = cli(["config", "show"], { cwd: dir, env: cleanEnv({ INFERSCOPE_TRACE_SIZE_MB: "200" }) });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("traceSizeMb         200                   env (INFERSCOPE_TRACE_SIZE_MB)");
    expect(r.stdout).toContain(`top                 7                     file (${join(dir, ".inferscope.yaml")}:1)`);
    expect(r.stdout).toContain('buffer              "spill"               default');
    // 4 M events: analyze's worst-case peak ~1.8 GB, under the 2 GB target (docs/benchmarks.md, bounded memory)
    expect(r.stdout).toContain("maxEvents           4000000               default");
    const j = cli(["config", "show", "--json", "--top", "9"], { cwd: dir });
    expect(JSON.parse(j.stdout).keys.top).toEqual({ value: 9, source: "flag", where: "--top" });
  });

  const cases: [string, { yaml?: string; env?: Record<string, string>; args?: string[] }, (dir: string) => string][] = [
    ["env not a number", { env: { INFERSCOPE_TRACE_SIZE_MB: "abc" } }, () => 'invalid traceSizeMb from INFERSCOPE_TRACE_SIZE_MB: got "abc"; expected a whole number of megabytes from 1 to 16384, e.g. 200'],
    ["negative size in YAML", { yaml: "enable: true\ntraceSizeMb: -5\n" }, (d) => `invalid traceSizeMb in ${d}/.inferscope.yaml:2: got -5; expected a whole number of megabytes from 1 to 16384, e.g. 200`],
    // absurd values: bounded, and shown as written (JSON.stringify(Infinity) printed "got null")
    ["absurd size in env", { env: { INFERSCOPE_TRACE_SIZE_MB: "99999999" } }, () => "invalid traceSizeMb from INFERSCOPE_TRACE_SIZE_MB: got 99999999; expected a whole number of megabytes from 1 to 16384, e.g. 200"],
    ["1e400 in YAML", { yaml: "sampleIntervalMs: 1e400\n" }, (d) => `invalid sampleIntervalMs in ${d}/.inferscope.yaml:1: got "1e400"; expected a whole number of milliseconds from 1 to 60000`],
    ["huge top flag", { args: ["--top", "123456789012345678901234567890"] }, () => "invalid top from --top: got 1.2345678901234568e+29; expected a whole number from 1 to 10000"],
    ["unknown key in YAML", { yaml: "traceSize: 5\n" }, (d) => `unknown key "traceSize" in ${d}/.inferscope.yaml:1; did you mean "traceSizeMb"? known keys: enable, logLevel, traceSizeMb, buffer, outputDir, formats, python, device, trace, modules, pythonCalls, minDurationUs, followChildren, torchOps, opShapes, window, sampleIntervalMs, numaMapsIntervalMs, delay, duration, capture, cuptiPath, maxEvents, top`],
    ["YAML syntax error", { yaml: "top: 3\nformats: [md\n" }, (d) => `YAML syntax error in ${d}/.inferscope.yaml:2: unclosed [ in a list; fix that line`],
    ["bad flag value", { args: ["--buffer", "ring"] }, () => 'invalid buffer from --buffer: got "ring"; expected spill or wrap'],
    ["bad enum in env", { env: { INFERSCOPE_LOG_LEVEL: "loud" } }, () => 'invalid logLevel from INFERSCOPE_LOG_LEVEL: got "loud"; expected one of silent, error, warn, info, debug, trace'],
  ];
  for (const [name, c, message] of cases) {
    test(`bad value: ${name} → one line, exit 2`, () => {
      const dir = project(c.yaml ?? null);
      const r = cli(["config", "show", ...(c.args ?? [])], { cwd: dir, env: cleanEnv(c.env) });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toBe(`inferscope: ${message(dir)}\n`);
    });
  }
});
