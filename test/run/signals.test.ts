// Ctrl-C / SIGTERM reach the script; the run still ends with a trace built from what was
// recorded, and the exit code says which signal ended the script (128+N).
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { cleanEnv, tempDir } from "../helpers.ts";
import { findPython, loadRun, MAIN, PYTHON, SCRIPTS, spans } from "./helpers.ts";

async function runAndSignal(signal: "SIGINT" | "SIGTERM", python: string) {
  const out = tempDir("inferscope-sig-");
  const proc = Bun.spawn([process.execPath, MAIN, "run", "--output-dir", out, "--python", python, "loop.py"], {
    cwd: SCRIPTS,
    env: cleanEnv(),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  // Wait until the script runs its loop, then let it record for a while.
  const reader = proc.stdout.getReader();
  let seen = "";
  while (!seen.includes("ready")) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += new TextDecoder().decode(value);
  }
  await Bun.sleep(400);
  proc.kill(signal); // to inferscope itself, as `kill` or a CI runner would
  const code = await proc.exited;
  const stderr = await new Response(proc.stderr).text();
  return { code, stderr, ...loadRun(out) };
}

const PY312 = findPython("3.12");

describe("signals", () => {
  for (const [label, python] of [["default", PYTHON], ["3.12", PY312]] as const) {
    test.skipIf(python === null)(`SIGINT mid-run (${label}): KeyboardInterrupt in the script, exit 130, trace from partial data`, async () => {
      const r = await runAndSignal("SIGINT", python!);
      expect(r.code).toBe(130);
      expect(r.stderr).toContain("KeyboardInterrupt");
      expect(r.trace).not.toBeNull();
      expect(r.trace!.inferscope.exitCode).toBe(130);
      const iterations = spans(r.trace!, "scope").filter((e) => e.name === "iteration");
      const steps = spans(r.trace!, "python").filter((e) => e.name === "step");
      expect(iterations.length).toBeGreaterThan(100);
      expect(steps.length).toBeGreaterThan(100);
      // The tracer flushed at exit: its drop count is known.
      expect(r.trace!.inferscope.dropped.python).toBe(0);
      expect(r.trace!.inferscope.warnings.join(" ")).toContain("SIGINT");
      expect(readdirSync(r.runDir!).sort()).toEqual(["report.html", "report.json", "report.md", "trace.json"]);
      const report = JSON.parse(readFileSync(join(r.runDir!, "report.json"), "utf8"));
      expect(report.scopes.find((s: { name: string }) => s.name === "iteration").count).toBe(iterations.length);
    });
  }

  test("SIGTERM mid-run: forwarded, the tracer flushes, exit 143, trace from partial data", async () => {
    const r = await runAndSignal("SIGTERM", PYTHON);
    expect(r.code).toBe(143);
    expect(r.trace).not.toBeNull();
    expect(r.trace!.inferscope.exitCode).toBe(143);
    expect(spans(r.trace!, "python").filter((e) => e.name === "step").length).toBeGreaterThan(100);
    expect(r.trace!.inferscope.dropped.python).toBe(0);
  });
});
