// Where a report goes: stdout that cannot take it (a full disk, a closed pipe, a descriptor open
// for reading), and `analyze -o` (checked before the trace is read, format from the extension,
// never the input, written whole or not at all).
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, linkSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { cleanEnv, cli, ROOT, spawnCapture, tempDir } from "../helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

const dir = tempDir("inferscope-output-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const FIXTURE = join(ROOT, "test/fixtures/kineto/llama_tiny_generate.kineto.json.gz");
const MAIN = join(ROOT, "src/main.ts");

/** The CLI from source under bash, so stdout can be redirected like a user would. */
function shell(redirect: string, args: string[]): { code: number; stdout: string; stderr: string } {
  const quoted = [process.execPath, MAIN, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  return spawnCapture(["bash", "-c", `set -o pipefail; ${quoted} ${redirect}`], { cwd: dir, env: cleanEnv() });
}

describe("stdout", () => {
  test("a full disk (/dev/full): one line, exit 2", () => {
    for (const args of [["analyze", FIXTURE], ["config", "show"], ["--version"]]) {
      const r = shell("> /dev/full", args);
      expect(r).toEqual({ code: 2, stdout: "", stderr: "inferscope: cannot write to stdout: no space left on device; free some space, or write to another disk\n" });
    }
  });

  test("a reader that stops early (| head) ends quietly, every format", () => {
    for (const format of ["md", "json", "html"]) {
      const r = shell("| head -c10 >/dev/null", ["analyze", FIXTURE, "--format", format]);
      expect(r.stderr).toBe("");
      // 141 = 128 + SIGPIPE, as for any tool stopped by a closed pipe; a report small enough for the
      // pipe's buffer was written completely before head exited
      expect([0, 141]).toContain(r.code);
      if (format === "html") expect(r.code).toBe(141); // 0.6 MB: more than any pipe buffer holds
    }
  });

  test("stdout open for reading only: one line, exit 2", () => {
    const r = shell("1</dev/null", ["analyze", FIXTURE]);
    expect(r).toEqual({ code: 2, stdout: "", stderr: "inferscope: cannot write to stdout: it is not open for writing; redirect it to a file, or pass -o FILE where the command has it\n" });
  });
});

describe("analyze -o", () => {
  const input = join(dir, "t.json");
  writeFileSync(input, gunzipSync(readFileSync(FIXTURE)));
  const original = readFileSync(input);

  test("the input itself is refused, --force or not, by name or by a hard link", () => {
    linkSync(input, join(dir, "same.json"));
    for (const out of [input, join(dir, "same.json"), "t.json"]) {
      const r = cli(["analyze", input, "-o", out, "--force"], { cwd: dir });
      expect(r).toEqual({ code: 2, stdout: "", stderr: `inferscope: --output ${out} is the input trace; writing the report there would destroy it — choose another path\n` });
    }
    expect(readFileSync(input).equals(original)).toBe(true);
  });

  test("the format comes from the extension; a contradicting --format is refused", () => {
    const html = join(dir, "r.html");
    expect(cli(["analyze", input, "-o", html], { cwd: dir }).code).toBe(0);
    expect(readFileSync(html, "utf8")).toStartWith("<!doctype html>");
    const json = join(dir, "r.json");
    expect(cli(["analyze", input, "--output", json, "-f", "json"], { cwd: dir }).code).toBe(0);
    expect(JSON.parse(readFileSync(json, "utf8")).schema).toBe("inferscope.report/v1");
    const r = cli(["analyze", input, "-o", join(dir, "r2.html"), "-f", "md"], { cwd: dir });
    expect(r.stderr).toBe(`inferscope: --output ${join(dir, "r2.html")} names a .html file but --format is md; drop --format (the extension decides) or make them agree\n`);
    expect(r.code).toBe(2);
    // another extension: --format decides, Markdown by default
    expect(cli(["analyze", input, "-o", join(dir, "r.txt")], { cwd: dir }).code).toBe(0);
    expect(readFileSync(join(dir, "r.txt"), "utf8")).toStartWith("# InferScope report");
  });

  test("an empty path, a directory, a missing directory: one line before the trace is read", () => {
    const cases: [string, string][] = [
      ["", "--output is empty; pass a file name such as report.md"],
      [dir, `--output ${dir} is a directory; pass a file path such as ${join(dir, "report.md")}`],
      [join(dir, "nodir/r.md"), `--output ${join(dir, "nodir/r.md")}: the directory ${join(dir, "nodir")} does not exist; create it or choose another path`],
    ];
    for (const [out, msg] of cases) {
      // the trace does not exist: the output path is checked first
      const r = cli(["analyze", join(dir, "missing.json"), "-o", out], { cwd: dir });
      expect(r).toEqual({ code: 2, stdout: "", stderr: `inferscope: ${msg}\n` });
    }
  });

  test("a device is written in place without --force (-o /dev/null)", () => {
    const r = cli(["analyze", input, "-f", "json", "-o", "/dev/null"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(existsSync("/dev/null")).toBe(true);
  });

  test("no temp file is left beside the report", () => {
    const sub = tempDir("inferscope-output-clean-");
    expect(cli(["analyze", input, "-o", join(sub, "r.md")], { cwd: dir }).code).toBe(0);
    expect(readdirSync(sub)).toEqual(["r.md"]);
    rmSync(sub, { recursive: true, force: true });
  });
});
