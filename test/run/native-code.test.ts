// Native code behind a Python function (src/analyze/native-time.ts, rules/native-code.ts): the
// tracer records each function's bytecode shape (src/tracer/inferscope/_shapes.py), and a
// loop-free function whose self time is far above what its bytecode can take is reported as
// native work it calls — not as "pure Python" to be rewritten in NumPy.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Report } from "../../src/analyze/report-types.ts";
import { cleanEnv, cli, ROOT } from "../helpers.ts";
import { findPython, inferscopeRun, PYTHON, SCRIPTS } from "./helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

const SAMPLES = `
import json, sys
from inferscope._shapes import shape

def straight(x, w):
    h = x * w
    return h + 1

def for_loop(xs):
    t = 0
    for x in xs:
        t += x
    return t

def while_loop(n):
    while n > 0:
        n -= 1
    return n

def while_break(n):
    i = 0
    while True:
        i += 1
        if i > n:
            break
    return i

def branches(a):
    if a:
        return 1
    return 2

def handler(x):
    try:
        return int(x)
    except ValueError:
        return 0
    finally:
        pass

def opened(p):
    with open(p) as f:
        return f.read()

fs = (straight, for_loop, while_loop, while_break, branches, handler, opened)
print(json.dumps({f.__name__: shape(f.__code__)[1] for f in fs}))
`;

describe("the tracer's bytecode shapes: a loop or not, on every Python", () => {
  for (const version of ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"]) {
    const python = findPython(version);
    test.skipIf(python === null)(`Python ${version}`, () => {
      const r = Bun.spawnSync([python!, "-c", SAMPLES], { env: cleanEnv({ PYTHONPATH: join(ROOT, "src/tracer") }), stdout: "pipe", stderr: "pipe" });
      expect(r.stderr.toString()).toBe("");
      expect(JSON.parse(r.stdout.toString())).toEqual({ straight: 0, for_loop: 1, while_loop: 1, while_break: 1, branches: 0, handler: 0, opened: 0 });
    });
  }
});

describe("a loop-free function whose time is zlib's C code", () => {
  test("native_code names it, python_preprocessing does not; analyze of the saved trace says the same", () => {
    const r = inferscopeRun(["--quiet", "--formats", "json", "--python", PYTHON, "native_calls.py"]);
    expect(r.code).toBe(0);
    const shapes = (r.trace as unknown as { inferscope: { codeShapes: [string, string, number, number, number][] } }).inferscope.codeShapes;
    const own = (name: string) => shapes.find(([n, f]) => n === name && f === join(SCRIPTS, "native_calls.py"));
    expect(own("pack")![4]).toBe(0);
    expect(own("checksum")![4]).toBe(1);

    const report = JSON.parse(readFileSync(join(r.runDir!, "report.json"), "utf8")) as Report;
    const f = report.findings.find((x) => x.rule === "native_code")!;
    expect(f).toBeDefined();
    expect(f.evidence.function).toBe("pack");
    expect(f.evidence.instructions).toBe(own("pack")![3]);
    expect(f.title).toMatch(/^`pack` \(.*native_calls\.py:11\) in scope `step` takes [\d.]+ % of the CPU time in the steady state in native code it calls, not in its own Python: [\d.]+ ms per call, where its \d+ bytecode instructions \(no loop\) take at most ~\d+ µs$/);
    expect(f.suggestions[0]).toStartWith("See which native function holds the time: `py-spy record --native");
    expect(report.findings.some((x) => x.rule === "python_preprocessing" && x.evidence.function === "pack")).toBe(false);
    expect(report.bottleneck.reason).toEndWith("from native_code");

    const again = cli(["analyze", join(r.runDir!, "trace.json"), "-f", "json"]);
    expect(again.code).toBe(0);
    const saved = (JSON.parse(again.stdout) as Report).findings.find((x) => x.rule === "native_code")!;
    expect([saved.title, saved.evidence]).toEqual([f.title, f.evidence]);
  });
});
