import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { splitRunArgv, splitTopArgv } from "../../src/cli/argv.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

const VALUE = new Set(["output-dir", "python", "report"]);

describe("splitRunArgv", () => {
  test("everything after the script goes to the script, --help included", () => {
    expect(splitRunArgv(["x.py", "--help", "--batch", "8"], VALUE)).toEqual({ own: [], target: "x.py", module: false, scriptArgs: ["--help", "--batch", "8"] });
  });
  test("run's own flags before the script stay ours, value flags consume their value", () => {
    expect(splitRunArgv(["--output-dir", "out", "--no-trace", "infer.py", "-v"], VALUE)).toEqual({
      own: ["--output-dir", "out", "--no-trace"],
      target: "infer.py",
      module: false,
      scriptArgs: ["-v"],
    });
  });
  test("--flag=value is one token", () => {
    expect(splitRunArgv(["--python=/usr/bin/python3", "a.py", "b"], VALUE)).toEqual({ own: ["--python=/usr/bin/python3"], target: "a.py", module: false, scriptArgs: ["b"] });
  });
  test("-m module: the rest goes to the module", () => {
    expect(splitRunArgv(["--quiet", "-m", "pkg.main", "--help"], VALUE)).toEqual({ own: ["--quiet"], target: "pkg.main", module: true, scriptArgs: ["--help"] });
  });
  test("-- ends our flags even when the script starts with a dash", () => {
    expect(splitRunArgv(["--", "-weird.py", "--x"], VALUE)).toEqual({ own: [], target: "-weird.py", module: false, scriptArgs: ["--x"] });
  });
  test("no script: only our flags", () => {
    expect(splitRunArgv(["--help"], VALUE)).toEqual({ own: ["--help"], module: false, scriptArgs: [] });
  });
});

describe("splitTopArgv", () => {
  test("global flags, then the command and its args", () => {
    expect(splitTopArgv(["--verbose", "run", "x.py", "--help"])).toEqual({ global: ["--verbose"], command: "run", rest: ["x.py", "--help"] });
  });
});
