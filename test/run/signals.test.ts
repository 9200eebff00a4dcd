// Ctrl-C / SIGTERM reach the script at any moment of a run, and the run always ends within a
// bound with the right exit code: during interpreter start (a launcher that execs Python later),
// right after the script's first line, mid-run, and during the tracer's final flush. The trace
// is built from what was recorded, and the exit code says which signal ended the script (128+N).
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { cleanEnv, tempDir } from "../helpers.ts";
import { findPython, inferscopeRun, loadRun, MAIN, PYTHON, SCRIPTS, spans } from "./helpers.ts";

setDefaultTimeout(120_000);

/** Ctrl-C must end the script within seconds; loose enough for a loaded 2-core CI box. */
const SCRIPT_BOUND_MS = 15_000;
/** InferScope then writes the reports from what was recorded: bounded too, with more room. */
const RUN_BOUND_MS = 60_000;

interface SignalRun {
  signal: "SIGINT" | "SIGTERM";
  script: string;
  python?: string;
  env?: Record<string, string>;
  args?: string[];
  /** Sends the signal once this holds (checked every few ms). */
  when: (stdout: string) => boolean;
  delayMs?: number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function childrenOf(pid: number): number[] {
  const r = Bun.spawnSync(["pgrep", "-P", String(pid)], { stdout: "pipe" });
  return r.stdout.toString().split(/\s+/).filter(Boolean).map(Number);
}

async function runAndSignal(o: SignalRun) {
  const out = tempDir("inferscope-sig-");
  const proc = Bun.spawn([process.execPath, MAIN, "run", "--output-dir", out, "--min-duration-us", "0", "--python", o.python ?? PYTHON, ...(o.args ?? []), o.script], {
    cwd: SCRIPTS,
    env: cleanEnv(o.env),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let stdout = "";
  const drain = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stdout) stdout += decoder.decode(chunk);
  })();
  while (!o.when(stdout)) {
    if (proc.exitCode !== null) throw new Error(`the run ended before the signal; stdout: ${stdout}`);
    await Bun.sleep(2);
  }
  if (o.delayMs) await Bun.sleep(o.delayMs);
  const script = childrenOf(proc.pid);
  const sentAt = performance.now();
  proc.kill(o.signal); // to inferscope itself, as `kill` or a CI runner would
  while (script.some(alive) && performance.now() - sentAt < SCRIPT_BOUND_MS) await Bun.sleep(5);
  const scriptMs = performance.now() - sentAt;
  const code = await Promise.race([proc.exited, Bun.sleep(RUN_BOUND_MS).then(() => null)]);
  const left = script.filter(alive);
  for (const pid of [proc.pid, ...left]) if (alive(pid)) process.kill(pid, "SIGKILL");
  if (left.length) throw new Error(`the script did not end within ${SCRIPT_BOUND_MS} ms of ${o.signal}; stdout: ${stdout}`);
  if (code === null) throw new Error(`the script ended ${scriptMs.toFixed(0)} ms after ${o.signal}, but InferScope did not end within ${RUN_BOUND_MS} ms`);
  await drain;
  const stderr = await new Response(proc.stderr).text();
  return { code, stdout, stderr, ...loadRun(out) };
}

const PY312 = findPython("3.12");
const ready = (s: string) => s.includes("ready");

describe("signals", () => {
  test("SIGINT during interpreter start, while a launcher holds it before exec'ing Python: still stops the script, exit 130", async () => {
    const dir = tempDir("inferscope-shim-");
    const mark = join(dir, "started");
    const realPython = Bun.spawnSync([PYTHON, "-c", "import sys; print(sys.executable)"]).stdout.toString().trim();
    const r = await runAndSignal({
      signal: "SIGINT",
      script: "loop.py",
      python: join(SCRIPTS, "slowshim.sh"),
      env: { SHIM_MARK: mark, SHIM_PYTHON: realPython },
      when: () => existsSync(mark),
    });
    expect(r.code).toBe(130);
    expect(r.trace).not.toBeNull();
    expect(r.trace!.inferscope.exitCode).toBe(130);
    expect(readdirSync(r.runDir!).sort()).toEqual(["report.html", "report.json", "report.md", "trace.json"]);
  });

  test("SIGINT right after the script's first line: KeyboardInterrupt, exit 130, a trace", async () => {
    const r = await runAndSignal({ signal: "SIGINT", script: "loop.py", when: ready });
    expect(r.code).toBe(130);
    expect(r.stderr).toContain("KeyboardInterrupt");
    expect(r.trace!.inferscope.exitCode).toBe(130);
    expect(r.trace!.inferscope.dropped.python).toBe(0);
  });

  for (const [label, python] of [["default", PYTHON], ["3.12", PY312]] as const) {
    test.skipIf(python === null)(`SIGINT mid-run (${label}): KeyboardInterrupt in the script, exit 130, trace from partial data`, async () => {
      const r = await runAndSignal({ signal: "SIGINT", script: "loop.py", python: python!, when: ready, delayMs: 400 });
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

  test("SIGINT during the tracer's final flush: the flush completes; exit 0 as the script ended, or 130 if the signal came after the flush (reports stopped if after the script's end)", async () => {
    const r = await runAndSignal({ signal: "SIGINT", script: "flushend.py", args: ["--buffer", "wrap", "--trace-size-mb", "500"], when: (s) => s.includes("exiting") });
    // Plain Python ignores a Ctrl-C during atexit (exit 0) and dies of one after it (130).
    expect([0, 130]).toContain(r.code);
    expect(r.stderr).not.toContain("Traceback");
    if (r.trace === null) {
      // The flush was quicker than the signal: it reached InferScope after the script had ended,
      // while it wrote the reports, which it then stops, saying so (the third possible moment).
      expect(r.code).toBe(130);
      expect(r.stderr).toContain("SIGINT while writing the reports: stopped");
      return;
    }
    expect(r.trace.inferscope.exitCode).toBe(r.code);
    expect(r.trace!.inferscope.dropped.python).toBe(0);
    expect(spans(r.trace!, "scope").filter((e) => e.name === "iteration").length).toBe(50_000);
    expect(r.trace!.inferscope.warnings.join(" ")).toContain("SIGINT");
  });

  test("a Ctrl-C already pending when the final flush starts: the flush still completes, exit 0 (as plain Python's atexit)", () => {
    const r = inferscopeRun(["--buffer", "wrap", "--trace-size-mb", "500", "flushpending.py"]);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain("Traceback");
    expect(r.trace!.inferscope.dropped.python).toBe(0);
    expect(spans(r.trace!, "scope").filter((e) => e.name === "iteration").length).toBe(50_000);
  });

  test("a Ctrl-C whose handler Python runs inside the tracer's own callbacks still reaches the script, and no records are lost", () => {
    // Deterministic: the script makes SIGINT pending right before the C hot path hands a full
    // buffer to Python, 20 000 times (see the script). Before the fix, each such KeyboardInterrupt
    // was swallowed and its buffer lost.
    const r = inferscopeRun(["--trace-size-mb", "1", "sigcallback.py"]);
    expect(r.stdout).toBe("lost 0 of 20000\n");
    expect(r.code).toBe(0);
    expect(r.trace!.traceEvents.filter((e) => e.ph === "i" && e.name === "tick").length).toBe(20_000);
    expect(r.trace!.inferscope.dropped.python).toBe(0);
  });

  test("Ctrl-C after Ctrl-C while the tracer hands chunks over: the KeyboardInterrupts reach the script, no records are lost", () => {
    // A SIGINT whose handler Python ran inside the recorder's hand-over (a chunk from the C hot
    // path, the periodic flush) raised KeyboardInterrupt there: the chunk in hand was lost
    // (counted as dropped; a CI run's mid-run SIGINT test lost 26,217 events so). It now comes again 5 ms later.
    for (const [label, extra] of [["C hot path", {}], ["pure Python", { _INFERSCOPE_PURE_PYTHON: "1" }]] as const) {
      const r = inferscopeRun(["--trace-size-mb", "1", "sigint_storm.py"], { env: cleanEnv(extra) });
      expect([label, r.code, r.stdout]).toEqual([label, 0, "interrupted\n"]);
      expect([label, r.trace!.inferscope.dropped.python]).toEqual([label, 0]);
    }
  });

  test("SIGTERM while the tracer's own code holds its table lock: no hang, exit 143, a trace", async () => {
    // The script sends itself SIGTERM from inside the tracer's table write (see the script).
    // Before the fix the handler waited for that lock forever.
    const out = tempDir("inferscope-sig-");
    const proc = Bun.spawn([process.execPath, MAIN, "run", "--output-dir", out, "--buffer", "spill", "--trace-size-mb", "1", "sigterm_in_tracer.py"], {
      cwd: SCRIPTS,
      env: cleanEnv(),
      stdin: "ignore",
      stdout: "ignore",
      stderr: "pipe",
    });
    const code = await Promise.race([proc.exited, Bun.sleep(RUN_BOUND_MS).then(() => null)]);
    if (code === null) {
      for (const pid of [...childrenOf(proc.pid), proc.pid]) if (alive(pid)) process.kill(pid, "SIGKILL");
      throw new Error(`the run did not end within ${RUN_BOUND_MS} ms of the script's SIGTERM`);
    }
    expect(code).toBe(143);
    const r = loadRun(out);
    expect(r.trace!.inferscope.exitCode).toBe(143);
    expect(spans(r.trace!, "python").filter((e) => e.name === "f").length).toBeGreaterThan(0);
  });

  test("SIGTERM mid-run: forwarded, the tracer flushes, exit 143, trace from partial data", async () => {
    const r = await runAndSignal({ signal: "SIGTERM", script: "loop.py", when: ready, delayMs: 400 });
    expect(r.code).toBe(143);
    expect(r.trace).not.toBeNull();
    expect(r.trace!.inferscope.exitCode).toBe(143);
    expect(spans(r.trace!, "python").filter((e) => e.name === "step").length).toBeGreaterThan(100);
    expect(r.trace!.inferscope.dropped.python).toBe(0);
  });

  test("SIGTERM while the tracer writes a chunk: the write completes before the process dies, nothing is lost", () => {
    // The handler ran the final flush inside the interrupted one: the chunk in flight was lost
    // (0 of 5,000 kept). The tracer now sends the signal again once out of its own code.
    const r = inferscopeRun(["sigterm_in_flush.py"]);
    expect(r.code).toBe(143);
    expect(r.stdout).toBe("");
    expect(spans(r.trace!, "python").filter((e) => e.name === "work").length).toBe(5000);
  });
});
