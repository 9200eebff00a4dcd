// `inferscope run` when something outside the script goes wrong: the interpreter is not Python
// (or too old), a report path that cannot be written, a cache dir that cannot be written, the
// run directory removed or full while the script runs. Each ends in one line, exit 2, with the
// script's own exit code named where it ran — never a stack trace or a hang.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PYTHON_MIN } from "../../src/collect/python-check.ts";
import { ROOT, cleanEnv, cli, tempDir } from "../helpers.ts";
import { findPython } from "./helpers.ts";

/** pyenv's Python 2 has bin/python2.7, no bin/python3 (which findPython looks for). */
function pyenvPython(version: string): string | null {
  const root = "/root/.pyenv/versions";
  if (!existsSync(root)) return null;
  for (const v of readdirSync(root)) if (v.startsWith(`${version}.`) && existsSync(join(root, v, `bin/python${version}`))) return join(root, v, `bin/python${version}`);
  return null;
}

setDefaultTimeout(60_000); // per file: see test/preload.ts

const dir = tempDir("inferscope-faults-");
let mounted: string | null = null;
afterAll(() => {
  if (mounted) Bun.spawnSync(["umount", mounted]);
  rmSync(dir, { recursive: true, force: true });
});
writeFileSync(join(dir, "ok.py"), "open('ran', 'w').write('yes')\n");
const FIX = "pass --python PATH (or set INFERSCOPE_PYTHON, or python: in .inferscope.yaml)";

function nothingRan(cwd = dir): void {
  expect(existsSync(join(cwd, "ran"))).toBe(false);
  expect(existsSync(join(cwd, "inferscope-runs"))).toBe(false);
}

describe("--python is checked before the script runs", () => {
  const cases: [string, string][] = [
    ["/bin/echo", '"/bin/echo" is not a Python interpreter (it ran but did not answer like Python)'],
    ["/bin/true", '"/bin/true" is not a Python interpreter (it ran but did not answer like Python)'],
    ["/bin/false", '"/bin/false" is not a Python interpreter (it exited with code 1)'],
    ["no-such-python", 'Python interpreter "no-such-python" not found'],
  ];
  for (const [python, msg] of cases) {
    test(python, () => {
      const r = cli(["run", "--python", python, "ok.py"], { cwd: dir });
      expect(r).toEqual({ code: 2, stdout: "", stderr: `inferscope: ${msg}; ${FIX}\n` });
      nothingRan();
    });
  }

  for (const version of ["2.7", "3.6"]) {
    const py = findPython(version) ?? pyenvPython(version);
    test.skipIf(py === null)(`Python ${version} (too old) is refused, naming the supported range${py === null ? ` (skipped: no python${version} here)` : ""}`, () => {
      const r = cli(["run", "--python", py!, "ok.py"], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^inferscope: "${py}" is Python ${version.replace(".", "\\.")}\\.\\d+; InferScope needs Python ${PYTHON_MIN.join("\\.")} or newer \\(tested up to 3\\.\\d+\\); `));
      expect(r.stderr.split("\n")).toHaveLength(2);
      nothingRan();
    });
  }

  test("with profiling disabled too", () => {
    const r = cli(["run", "--no-enable", "--python", "/bin/echo", "ok.py"], { cwd: dir });
    expect(r.code).toBe(2);
    nothingRan();
  });
});

test("--output-dir, INFERSCOPE_OUTPUT_DIR and --python in bytes that are not UTF-8: one line, exit 2, before the script runs (it wrote into a directory named with U+FFFD)", () => {
  const sh = (script: string) => {
    const r = Bun.spawnSync(["bash", "-c", script], { cwd: dir, env: cleanEnv({ BUN: process.execPath, MAIN: join(ROOT, "src/main.ts") }), stdout: "pipe", stderr: "pipe" });
    return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  };
  const why = "a path that is not valid UTF-8 cannot be used here; choose another name";
  expect(sh(`"$BUN" "$MAIN" run --output-dir "$(printf 'out\\xff')" ok.py`)).toEqual({ code: 2, stdout: "", stderr: `inferscope: --output-dir out\\xff: ${why}\n` });
  expect(sh(`INFERSCOPE_OUTPUT_DIR="$(printf 'out\\xfe')" "$BUN" "$MAIN" run ok.py`)).toEqual({ code: 2, stdout: "", stderr: `inferscope: INFERSCOPE_OUTPUT_DIR out\uFFFD: ${why}\n` });
  expect(sh(`"$BUN" "$MAIN" run --python "$(printf '/usr/bin/py\\xff')" ok.py`)).toEqual({ code: 2, stdout: "", stderr: `inferscope: --python /usr/bin/py\\xff: ${why}\n` });
  nothingRan();
  expect(readdirSync(dir).filter((f) => f.startsWith("out"))).toEqual([]);
});

test("--report into a missing directory: refused before the script runs", () => {
  const r = cli(["run", "--report", "nodir/x.md", "ok.py"], { cwd: dir });
  expect(r).toEqual({ code: 2, stdout: "", stderr: `inferscope: --report nodir/x.md: the directory ${join(dir, "nodir")} does not exist; create it or choose another path\n` });
  nothingRan();
});

describe("the cache dir cannot be written", () => {
  for (const [label, xdg] of [
    ["XDG_CACHE_HOME under /proc", "/proc/nope"],
    ["XDG_CACHE_HOME is a file", join(dir, "ok.py")],
  ] as const) {
    test(`${label}: a private temp dir is used instead`, () => {
      const tmp = tempDir("inferscope-faults-tmp-");
      const env = cleanEnv({ XDG_CACHE_HOME: xdg, TMPDIR: tmp });
      const doctor = cli(["doctor", "--json"], { cwd: dir, env });
      expect(doctor.code).toBe(0);
      expect(JSON.parse(doctor.stdout).runtimeDir).toStartWith(join(tmp, `inferscope-${process.getuid!()}/`));
      const work = tempDir("inferscope-faults-run-");
      writeFileSync(join(work, "ok.py"), "print('hi')\n");
      const run = cli(["run", "--quiet", "--formats", "json", "ok.py"], { cwd: work, env });
      expect(run).toEqual({ code: 0, stdout: "hi\n", stderr: "" });
      rmSync(tmp, { recursive: true, force: true });
      rmSync(work, { recursive: true, force: true });
    });
  }

  test("and neither can the temp dir: one line naming XDG_CACHE_HOME", () => {
    const r = cli(["doctor"], { cwd: dir, env: cleanEnv({ XDG_CACHE_HOME: "/proc/nope", TMPDIR: "/proc/nope2" }) });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `inferscope: cannot write InferScope's runtime files to /proc/nope/inferscope (no such file or directory) nor to /proc/nope2/inferscope-${process.getuid!()} (no such file or directory); set XDG_CACHE_HOME to a writable directory\n`,
    );
  });
});

test("the script removes its own run directory: one line, exit 2, the script's exit code named", () => {
  const work = tempDir("inferscope-faults-rm-");
  writeFileSync(
    join(work, "rmself.py"),
    ["import json, os, shutil, sys", "def f(): pass", "for i in range(1000): f()", "shutil.rmtree(os.path.dirname(json.loads(os.environ['_INFERSCOPE_RUN'])['dir']))", "sys.exit(3)", ""].join("\n"),
  );
  const r = cli(["run", "rmself.py"], { cwd: work });
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/^inferscope: the run directory .*\/rmself-[\d-]+ was removed while the script ran: what it recorded is lost, no report was written; the script exited with code 3\n$/);
  rmSync(work, { recursive: true, force: true });
});

// A full disk needs a small file system: a 2 MB tmpfs (root only; skipped where mount is refused).
function smallTmpfs(): string | null {
  const mnt = join(dir, "small");
  mkdirSync(mnt, { recursive: true });
  const r = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt], { stdout: "ignore", stderr: "ignore" });
  if (r.exitCode !== 0) return null;
  mounted = mnt;
  return mnt;
}
const small = process.getuid?.() === 0 ? smallTmpfs() : null;

test.skipIf(small === null)(`the output directory fills up: one line, exit 2, no partial files, the script's exit code named${small === null ? " (skipped: cannot mount a tmpfs here)" : ""}`, () => {
  writeFileSync(join(dir, "many.py"), "def f(x):\n    return x + 1\ns = 0\nfor i in range(200000):\n    s = f(s)\nprint(s)\nraise SystemExit(4)\n");
  // It spun forever before: killed after 50 s, its code would be -1, not 2.
  const r = cli(["run", "--output-dir", small!, "many.py"], { cwd: dir, timeoutMs: 50_000 });
  expect(r.code).toBe(2);
  expect(r.stdout).toBe("200000\n");
  // nothing from the tracer in the script's stderr: InferScope's one line only
  expect(r.stderr).toMatch(/^inferscope: cannot write to .*: no space left on device; no report was written; the script exited with code 4\n$/);
  expect(readdirSync(small!)).toEqual([]);
});
