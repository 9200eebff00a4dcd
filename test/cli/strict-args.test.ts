// Unknown flags and surplus arguments stop every command with one line naming them and the
// closest valid flag (citty alone ignored them: `run --ouptut-dir x s.py` ran `x`).
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { analyzeCommand } from "../../src/cli/analyze-command.ts";
import { configCommand } from "../../src/cli/config-command.ts";
import { diffCommand } from "../../src/cli/diff-command.ts";
import { doctorCommand } from "../../src/cli/doctor-command.ts";
import { runCommand } from "../../src/cli/run-command.ts";
import { checkArgv } from "../../src/cli/strict-args.ts";
import { cli, tempDir } from "../helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

async function message(p: Promise<void>): Promise<string | null> {
  try {
    await p;
    return null;
  } catch (e) {
    expect((e as Error).name).toBe("UserError");
    return (e as Error).message;
  }
}

describe("checkArgv", () => {
  test("unknown long flag: named, with the closest valid one", async () => {
    expect(await message(checkArgv("inferscope analyze", analyzeCommand, ["t.json", "--formt", "json"]))).toBe(
      "unknown option --formt for inferscope analyze; did you mean --format? (see inferscope analyze --help)",
    );
    expect(await message(checkArgv("inferscope run", runCommand, ["--ouptut-dir", "x", "--", "s.py"], { trailing: true }))).toBe(
      "unknown option --ouptut-dir for inferscope run; did you mean --output-dir? (see inferscope run --help)",
    );
    expect(await message(checkArgv("inferscope run", runCommand, ["--no-trac", "--", "s.py"], { trailing: true }))).toBe(
      "unknown option --no-trac for inferscope run; did you mean --no-trace? (see inferscope run --help)",
    );
  });

  test("nothing close: no guess", async () => {
    expect(await message(checkArgv("inferscope analyze", analyzeCommand, ["t.json", "--bogus"]))).toBe("unknown option --bogus for inferscope analyze (see inferscope analyze --help)");
    expect(await message(checkArgv("inferscope analyze", analyzeCommand, ["t.json", "-x"]))).toBe("unknown option -x for inferscope analyze (see inferscope analyze --help)");
    // --no- only negates a boolean
    expect(await message(checkArgv("inferscope analyze", analyzeCommand, ["t.json", "--no-format"]))).toStartWith("unknown option --no-format for inferscope analyze");
  });

  test("surplus positionals", async () => {
    expect(await message(checkArgv("inferscope analyze", analyzeCommand, ["a.json", "b.json"]))).toBe(
      'unexpected argument "b.json": inferscope analyze takes one argument (TRACE); see inferscope analyze --help',
    );
    // analyze takes several traces (with --format ndjson): main.ts declares its positional variadic
    expect(await message(checkArgv("inferscope analyze", analyzeCommand, ["a.json", "b.json", "-f", "ndjson"], { variadic: true }))).toBeNull();
    expect(await message(checkArgv("inferscope diff", diffCommand, ["a.json", "b.json", "c.json"]))).toBe(
      'unexpected argument "c.json": inferscope diff takes 2 arguments (BASE NEW); see inferscope diff --help',
    );
    expect(await message(checkArgv("inferscope doctor", doctorCommand, ["now"]))).toBe('unexpected argument "now": inferscope doctor takes no arguments; see inferscope doctor --help');
    expect(await message(checkArgv("inferscope analyze", analyzeCommand, ["--", "-odd.json", "b.json"]))).toStartWith('unexpected argument "b.json"');
  });

  test("a value flag without its value", async () => {
    expect(await message(checkArgv("inferscope analyze", analyzeCommand, ["t.json", "-o"]))).toBe("option -o needs a value (see inferscope analyze --help)");
    expect(await message(checkArgv("inferscope analyze", analyzeCommand, ["t.json", "--top"]))).toBe("option --top needs a value (see inferscope analyze --help)");
  });

  test("sub-commands: unknown one named, flags checked against the sub-command", async () => {
    expect(await message(checkArgv("inferscope config", configCommand, ["shw"]))).toBe('unknown command "shw" for inferscope config; did you mean "show"? (commands: show)');
    expect(await message(checkArgv("inferscope config", configCommand, ["show", "--jsn"]))).toBe(
      "unknown option --jsn for inferscope config show; did you mean --json? (see inferscope config show --help)",
    );
    expect(await message(checkArgv("inferscope config", configCommand, ["show", "--json", "--trace-size-mb", "5"]))).toBeNull();
  });

  test("every valid spelling passes", async () => {
    const ok = [
      ["t.json", "-f", "json", "-o", "r.json", "--force", "--top=3", "--quiet"],
      ["-fjson", "t.json", "--verbose", "--no-force", "-h"],
      ["--format=html", "--output", "x.html", "-"],
    ];
    for (const args of ok) expect(await message(checkArgv("inferscope analyze", analyzeCommand, args))).toBeNull();
    // run: whatever follows `--` (the script and its arguments) is the script's
    expect(await message(checkArgv("inferscope run", runCommand, ["--output-dir", "o", "--no-trace", "-m", "--", "pkg", "--bogus", "x"], { trailing: true }))).toBeNull();
    expect(await message(checkArgv("inferscope run", runCommand, ["--traceSizeMb", "5", "--", "s.py"], { trailing: true }))).toBeNull();
  });
});

describe("the CLI", () => {
  test("run --ouptut-dir x s.py: refused before anything runs (x is not taken as the script)", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "s.py"), "open('ran', 'w')\n");
    const r = cli(["run", "--ouptut-dir", "x", "s.py"], { cwd: dir });
    expect(r).toEqual({ code: 2, stdout: "", stderr: "inferscope: unknown option --ouptut-dir for inferscope run; did you mean --output-dir? (see inferscope run --help)\n" });
    expect(existsSync(join(dir, "ran"))).toBe(false);
    expect(existsSync(join(dir, "inferscope-runs"))).toBe(false);
  });

  test("diff a b c: one line, exit 2", () => {
    const r = cli(["diff", "a.json", "b.json", "c.json"]);
    expect(r).toEqual({ code: 2, stdout: "", stderr: 'inferscope: unexpected argument "c.json": inferscope diff takes 2 arguments (BASE NEW); see inferscope diff --help\n' });
  });

  test("flags after the script stay the script's, unknown ones included", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "s.py"), "import sys; print(sys.argv[1:])\n");
    const r = cli(["run", "--quiet", "--formats", "json", "s.py", "--bogus", "--ouptut-dir", "x"], { cwd: dir });
    expect(r).toEqual({ code: 0, stdout: "['--bogus', '--ouptut-dir', 'x']\n", stderr: "" });
  });
});
