// A Python command that is a launcher script (a pyenv or asdf shim) in front of the interpreter:
// `run` finds it before the script runs (src/collect/python-launcher.ts), and when start-up is
// most of the run the start-up finding names the script, the interpreter behind it and what
// starting Python costs through it and directly.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkPython } from "../../src/collect/python-check.ts";
import type { Report } from "../../src/analyze/report-types.ts";
import { cleanEnv, cli, tempDir } from "../helpers.ts";
import { inferscopeRun, PYTHON, SCRIPTS } from "./helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

const LAUNCHER = join(SCRIPTS, "launcher.sh");
/** The interpreter itself, as it names itself. */
const EXECUTABLE = Bun.spawnSync([PYTHON, "-c", "import sys; print(sys.executable)"], { stdout: "pipe" }).stdout.toString().trim();
const env = cleanEnv({ LAUNCHER_PYTHON: EXECUTABLE });
const readReport = (runDir: string) => JSON.parse(readFileSync(join(runDir, "report.json"), "utf8")) as Report;

describe("the Python command checked before the run", () => {
  test("a launcher script: its path, the interpreter it starts, the probe's time through it and directly", async () => {
    const info = await checkPython(LAUNCHER, env);
    expect(info.launcher).not.toBeNull();
    const l = info.launcher!;
    expect([l.command, l.executable]).toEqual([LAUNCHER, EXECUTABLE]);
    expect(l.start_ms).toBeGreaterThanOrEqual(300); // the script sleeps 0.3 s before the exec
    expect(l.direct_start_ms).toBeGreaterThan(0);
  });

  test("the interpreter itself, or a link to it, is no launcher", async () => {
    expect((await checkPython(EXECUTABLE, env)).launcher).toBeNull();
    const link = join(tempDir("inferscope-launcher-"), "python3");
    symlinkSync(realpathSync(EXECUTABLE), link);
    expect((await checkPython(link, env)).launcher).toBeNull();
  });
});

describe("start-up through a launcher script", () => {
  test("the finding names the script and the interpreter, suggests --python with it, and analyze of the trace says the same", () => {
    const r = inferscopeRun(["--quiet", "--formats", "json", "--python", LAUNCHER, "steps.py"], { env });
    expect(r.code).toBe(0);
    const report = readReport(r.runDir!);
    const launcher = report.startup!.launcher!;
    expect([launcher.command, launcher.executable]).toEqual([LAUNCHER, EXECUTABLE]);
    expect(report.startup!.interpreter_ms!).toBeGreaterThanOrEqual(300);
    const f = report.findings.find((x) => x.rule === "startup_dominates")!;
    expect(f.title).toMatch(/^Start-up takes [\d.]+ % of the run: interpreter start \d+ ms \(through a launcher script\), imports /);
    expect(f.suggestions[0]).toStartWith(`The Python command is a launcher script (\`${LAUNCHER}\`, e.g. a pyenv or asdf shim) in front of \`${EXECUTABLE}\`: Python took `);
    expect(f.suggestions[0]).toContain(`Run the interpreter directly: \`inferscope run --python ${EXECUTABLE} …\``);
    expect(f.suggestions[1]).toStartWith("Keep the process warm");

    const again = cli(["analyze", join(r.runDir!, "trace.json"), "-f", "json"]);
    expect(again.code).toBe(0);
    const saved = JSON.parse(again.stdout) as Report;
    expect(saved.startup!.launcher).toEqual(launcher);
    expect(saved.findings.find((x) => x.rule === "startup_dominates")!.suggestions).toEqual(f.suggestions);

    // a trace whose entry is not what `run` writes: read without it, no error
    const trace = JSON.parse(readFileSync(join(r.runDir!, "trace.json"), "utf8"));
    trace.inferscope.pythonLauncher = { ...trace.inferscope.pythonLauncher, start_ms: "slow" };
    const edited = join(tempDir("inferscope-launcher-"), "edited-trace.json");
    writeFileSync(edited, JSON.stringify(trace));
    const bad = cli(["analyze", edited, "-f", "json"]);
    expect(bad.code).toBe(0);
    const read = JSON.parse(bad.stdout) as Report;
    expect(read.startup!.launcher).toBeUndefined();
    expect(read.findings.flatMap((x) => x.suggestions).some((s) => s.includes("launcher script"))).toBe(false);
  });

  test("straight to the interpreter: no launcher in the report", () => {
    const r = inferscopeRun(["--quiet", "--formats", "json", "--python", EXECUTABLE, "steps.py"], { env });
    expect(r.code).toBe(0);
    const report = readReport(r.runDir!);
    expect(report.startup!.launcher).toBeUndefined();
    expect(report.findings.flatMap((f) => f.suggestions).some((s) => s.includes("launcher script"))).toBe(false);
  });
});
