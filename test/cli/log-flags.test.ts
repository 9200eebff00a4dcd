// --quiet / --verbose work before the command as well as after it.
import { expect, setDefaultTimeout, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { cli, tempDir } from "../helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

function script(): string {
  const dir = tempDir();
  writeFileSync(join(dir, "x.py"), "print('hi')\n");
  return dir;
}

for (const args of [["--quiet", "run"], ["run", "--quiet"]]) {
  test(`${args.join(" ")}: only the script's output, nothing from InferScope on stderr`, () => {
    const dir = script();
    const r = cli([...args, "--formats", "json", "x.py"], { cwd: dir });
    expect(r).toEqual({ code: 0, stdout: "hi\n", stderr: "" });
  });
}

test("without --quiet the run directory is printed on stderr", () => {
  const dir = script();
  const r = cli(["run", "--formats", "json", "x.py"], { cwd: dir });
  expect(r.stdout).toBe("hi\n");
  expect(r.stderr).toContain(`run directory: ${dir}/inferscope-runs/x-`);
});
