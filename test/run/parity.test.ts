// The script sees what `python script.py args` would: argv, __main__, sys.path[0], cwd, stdin,
// stdout/stderr, exit code, tracebacks, -m mode, the user's own sitecustomize, the environment.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { cleanEnv } from "../helpers.ts";
import { findPython, inferscopeRun, plainPython, PYTHON, SCRIPTS, spans } from "./helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

// The default interpreter, plus the other versions found here (3.8 = oldest supported, 3.12+ =
// the sys.monitoring tracer): each gets the core parity checks.
const OTHERS = ["3.8", "3.12", "3.13"].map((v) => [v, findPython(v)] as const);

for (const [label, python] of [["default", PYTHON] as const, ...OTHERS]) {
  describe.skipIf(python === null)(`parity with plain python (${label}: ${python ?? "not found"})`, () => {
    const py = python ?? PYTHON;
    const withPy = (args: string[]) => ["--python", py, ...args];
    test("argv, __main__, sys.path[0], stdin, stdout, stderr, exit code; a raise; the user's sitecustomize", () => {
      const args = ["parity.py", "--help", "x y"];
      const env = cleanEnv({ PARITY_EXIT: "5", PYTHONPATH: join(SCRIPTS, "usersite") });
      const plain = plainPython(args, { env, stdin: "in", python: py });
      const run = inferscopeRun(["--quiet", ...withPy(args)], { env, stdin: "in" });
      expect(plain.code).toBe(5);
      expect([run.code, run.stdout, run.stderr]).toEqual([plain.code, plain.stdout, plain.stderr]);
      expect(JSON.parse(run.stdout).sitecustomize).toBe("user-site");
      const env2 = cleanEnv({ PARITY_RAISE: "1" });
      const plain2 = plainPython(["parity.py"], { env: env2, python: py });
      const run2 = inferscopeRun(["--quiet", ...withPy(["parity.py"])], { env: env2 });
      expect(plain2.code).toBe(1);
      expect([run2.code, run2.stdout, run2.stderr]).toEqual([plain2.code, plain2.stdout, plain2.stderr]);
      expect(String(run2.trace!.inferscope.python)).toStartWith(label === "default" ? "3." : `${label}.`);
    });
  });
}

describe("parity with plain python", () => {
  test("argv, __main__, sys.path[0], cwd, stdin, stdout, stderr, exit code", () => {
    const args = ["parity.py", "--help", "-m", "x y", "--", "ü"];
    const env = cleanEnv({ PARITY_EXIT: "3" });
    const plain = plainPython(args, { env, stdin: "line1\nline2\n" });
    const run = inferscopeRun(["--quiet", ...args], { env, stdin: "line1\nline2\n" });
    expect(plain.code).toBe(3);
    expect(run.code).toBe(3);
    expect(run.stdout).toBe(plain.stdout);
    const seen = JSON.parse(run.stdout);
    expect(seen.name).toBe("__main__");
    expect(seen.argv).toEqual(args);
    expect(seen.stdin).toBe("line1\nline2\n");
    expect(seen.path0).toBe(SCRIPTS);
    expect(run.stderr).toBe(plain.stderr);
    expect(run.trace?.inferscope.exitCode).toBe(3);
  });

  test("a script that raises: Python's traceback, exit 1, and still a trace", () => {
    const env = cleanEnv({ PARITY_RAISE: "1" });
    const plain = plainPython(["parity.py", "a"], { env });
    const run = inferscopeRun(["--quiet", "parity.py", "a"], { env });
    expect(plain.code).toBe(1);
    expect(run.code).toBe(1);
    expect(plain.stderr).toContain("ValueError: boom 2");
    expect(run.stderr).toBe(plain.stderr);
    expect(run.trace).not.toBeNull();
    expect(run.trace!.inferscope.exitCode).toBe(1);
    // The frame left by the exception is a complete span.
    expect(spans(run.trace!, "python").some((e) => e.name === "inner")).toBe(true);
  });

  test("-m module: __name__, argv[0], sys.path[0], exit code", () => {
    const plain = plainPython(["-m", "pkg.tool", "x", "--verbose"]);
    const run = inferscopeRun(["-m", "pkg.tool", "x", "--verbose"]);
    expect(plain.code).toBe(4);
    expect(run.code).toBe(4);
    expect(run.stdout).toBe(plain.stdout);
    const seen = JSON.parse(run.stdout);
    expect(seen.name).toBe("__main__");
    expect(seen.argv).toEqual([join(SCRIPTS, "pkg/tool.py"), "x", "--verbose"]);
    expect(run.runDir).toContain("pkg.tool-");
  });

  test("the user's own sitecustomize still runs (and is the one in sys.modules)", () => {
    const env = cleanEnv({ PYTHONPATH: join(SCRIPTS, "usersite") });
    const plain = plainPython(["parity.py"], { env });
    const run = inferscopeRun(["--quiet", "parity.py"], { env });
    expect(plain.stderr).toContain("user sitecustomize ran");
    expect(JSON.parse(plain.stdout).sitecustomize).toBe("user-site");
    expect(run.stdout).toBe(plain.stdout);
    expect(run.stderr).toBe(plain.stderr);
  });

  test("environment: the caller's plus InferScope's own variables only", () => {
    const env = cleanEnv({ SOME_USER_VAR: "1" });
    const plain = new Set<string>(JSON.parse(plainPython(["envdump.py"], { env }).stdout));
    const run = new Set<string>(JSON.parse(inferscopeRun(["envdump.py"], { env }).stdout));
    for (const k of plain) expect(run.has(k)).toBe(true);
    const added = [...run].filter((k) => !plain.has(k)).sort();
    for (const k of added) expect(k === "PYTHONPATH" || k.startsWith("_INFERSCOPE_") || k === "CUDA_INJECTION64_PATH").toBe(true);
    expect(added).toContain("_INFERSCOPE_RUN");
  });

  test("the user's PYTHONPATH is kept; the bootstrap dir is never on sys.path, and on PYTHONPATH only while children are followed", () => {
    const env = cleanEnv({ PYTHONPATH: "/nonexistent/a:/nonexistent/b" });
    for (const follow of [true, false]) {
      const r = inferscopeRun([...(follow ? [] : ["--no-follow-children"]), "paths.py"], { env });
      expect(r.code).toBe(0);
      const seen = JSON.parse(r.stdout) as { PYTHONPATH: string; path: string[] };
      expect(seen.PYTHONPATH.endsWith(":/nonexistent/a:/nonexistent/b")).toBe(true);
      // followed: Python subprocesses and spawned children need it there to be traced
      expect(seen.PYTHONPATH.includes("_boot")).toBe(follow);
      expect(seen.path.some((p) => p.includes("_boot"))).toBe(false);
      expect(seen.path).toContain("/nonexistent/a");
      expect(seen.path[0]).toBe(SCRIPTS);
    }
  });

  test("a Python subprocess of the script is recorded (not with --no-follow-children), and can import inferscope", () => {
    const r = inferscopeRun(["nested_child.py"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ parent: true, child: true, childErr: "" });
    const off = inferscopeRun(["--no-follow-children", "nested_child.py"]);
    expect(off.code).toBe(0);
    expect(JSON.parse(off.stdout)).toEqual({ parent: true, child: false, childErr: "" });
  });

  test("a missing script is one clear line and exit 2, before anything starts", () => {
    const r = inferscopeRun(["no_such_script.py"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("no_such_script.py: no such file");
    expect(r.runDir).toBeNull();
  });

  test("a missing interpreter is one clear line naming --python", () => {
    const r = inferscopeRun(["--python", "/nonexistent/python9", "parity.py"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--python");
  });
});
