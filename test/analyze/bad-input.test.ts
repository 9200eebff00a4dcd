// Every bad input to `inferscope analyze` ends in one line naming the file and what is wrong,
// exit code 2, no stack trace — checked on the real CLI (a subprocess).
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { ROOT, cleanEnv, cli, cliAsNobody, tempDir } from "../helpers.ts";
import { FIXTURES } from "./raw.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

const dir = tempDir("inferscope-badinput-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FIX = "pass a Chrome-trace JSON file from 'inferscope run' or torch.profiler's export_chrome_trace";

function file(name: string, content: string | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

function expectOneLine(r: { code: number; stdout: string; stderr: string }, message: string): void {
  expect(r.stderr).toBe(`inferscope: ${message}\n`);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe("");
}

const syncStallJson = gunzipSync(readFileSync(join(FIXTURES, "sync_stall.kineto.json.gz")));

describe("analyze: bad input", () => {
  test("missing file", () => {
    const p = join(dir, "nope.json");
    expectOneLine(cli(["analyze", p]), `${p}: no such file; check the path`);
  });

  test("a directory without a trace, or with several: one line saying what to pass", () => {
    const p = join(dir, "subdir");
    mkdirSync(p);
    writeFileSync(join(p, "notes.txt"), "x");
    expectOneLine(cli(["analyze", p]), `${p}: a directory without a trace (no trace.json, trace.json.gz or other .json file); pass a trace file, or a run directory written by inferscope run`);
    const two = join(dir, "two-traces");
    mkdirSync(two);
    for (const n of ["w0.1.pt.trace.json", "w1.1.pt.trace.json.gz"]) writeFileSync(join(two, n), "{}");
    expectOneLine(cli(["analyze", two]), `${two}: a directory with 2 traces (w0.1.pt.trace.json, w1.1.pt.trace.json.gz); pass one of them, or all at once: inferscope analyze --format ndjson ${two}/*.json*`);
  });

  test("a run directory, or a torch.profiler directory with one trace, is read like its trace (it was 'is a directory'); -o onto that trace is refused", () => {
    const run = join(dir, "run-1");
    mkdirSync(run);
    writeFileSync(join(run, "trace.json"), syncStallJson);
    writeFileSync(join(run, "report.json"), "{}");
    const r = cli(["analyze", run, "-f", "json"]);
    expect([r.code, r.stderr]).toEqual([0, ""]);
    expect(JSON.parse(r.stdout).source.path).toBe(join(run, "trace.json"));
    expect(JSON.parse(r.stdout).gpu.kernels.count).toBe(320);
    expectOneLine(cli(["analyze", run, "-o", join(run, "trace.json"), "--force"]), `--output ${join(run, "trace.json")} is the input trace; writing the report there would destroy it — choose another path`);
    const tb = join(dir, "tb-logs");
    mkdirSync(tb);
    writeFileSync(join(tb, "host_123.1733.pt.trace.json.gz"), readFileSync(join(FIXTURES, "sync_stall.kineto.json.gz")));
    const k = cli(["analyze", tb, "-f", "json"]);
    expect(k.code).toBe(0);
    expect(JSON.parse(k.stdout).source.path).toBe(join(tb, "host_123.1733.pt.trace.json.gz"));
  });

  test("an unreadable file", () => {
    const p = file("secret.json", "{}");
    chmodSync(p, 0o000);
    let r;
    if (process.getuid?.() === 0) {
      // root reads anything: drop to nobody for this one run (the directory is open, the file not)
      expect(existsSync("/usr/bin/setpriv")).toBe(true);
      chmodSync(dir, 0o755);
      r = cliAsNobody(["analyze", p], { cwd: dir, env: cleanEnv({ HOME: dir }) });
      chmodSync(dir, 0o700);
    } else r = cli(["analyze", p]);
    expectOneLine(r, `${p}: permission denied (cannot read it; check the file's permissions)`);
  });

  test("an empty file", () => {
    const p = file("empty.json", "");
    expectOneLine(cli(["analyze", p]), `${p}: empty file; pass a trace written by 'inferscope run' or torch.profiler's export_chrome_trace`);
  });

  test("not JSON", () => {
    const p = file("notes.json", "hello world\n");
    expectOneLine(cli(["analyze", p]), `${p}: not JSON (it starts with "hello world."); ${FIX}`);
  });

  test("truncated JSON (a trace cut after 20000 bytes)", () => {
    const p = file("cut.json", syncStallJson.subarray(0, 20000));
    expectOneLine(
      cli(["analyze", p]),
      `${p}: truncated JSON: the data ends inside the "traceEvents" array (after 20000 bytes); the trace was not completely written — re-export it`,
    );
  });

  test("truncated JSON inside the header", () => {
    const p = file("cut-header.json", syncStallJson.subarray(0, 100));
    expectOneLine(
      cli(["analyze", p]),
      `${p}: truncated JSON: the data ends inside the value of "deviceProperties" (after 100 bytes); the trace was not completely written — re-export it`,
    );
  });

  test("invalid JSON inside the events", () => {
    const p = file("bad.json", '{"traceEvents": [{"ph": "X", "ts": 1, "dur": 2,}]}');
    const r = cli(["analyze", p]);
    expect(r.code).toBe(2);
    expect(r.stderr).toStartWith(`inferscope: ${p}: invalid JSON near byte 17: in "traceEvents": `);
    expect(r.stderr.split("\n").length).toBe(2);
  });

  test("JSON that is not a trace", () => {
    const p = file("config.json", '{"model": "llama", "batch": 8}');
    expectOneLine(cli(["analyze", p]), `${p}: JSON but not a trace (no "traceEvents" array; its keys: "model", "batch"); ${FIX}`);
  });

  test("JSON whose traceEvents is not an array", () => {
    const p = file("te.json", '{"traceEvents": {"a": 1}}');
    expectOneLine(cli(["analyze", p]), `${p}: JSON but not a trace ("traceEvents" is a object, not an array); ${FIX}`);
  });

  test("a JSON number", () => {
    const p = file("n.json", "42\n");
    expectOneLine(cli(["analyze", p]), `${p}: JSON but not a trace (a number, not an object with "traceEvents"); ${FIX}`);
  });

  test("a trace with no events", () => {
    const p = file("none.json", '{"schemaVersion": 1, "traceEvents": []}');
    expectOneLine(
      cli(["analyze", p]),
      `${p}: the trace has no events ("traceEvents" is empty); the profiler recorded nothing — check that the profiled code ran inside the profiler`,
    );
  });

  test("a trace with only metadata events", () => {
    const p = file("meta.json", '{"traceEvents": [{"ph": "M", "name": "process_name", "pid": 1, "args": {"name": "python3"}}]}');
    expectOneLine(
      cli(["analyze", p]),
      `${p}: the trace has no usable events: none of its 1 entries is a complete ("X"), instant or counter event; check that the profiled code ran inside the profiler`,
    );
  });

  test("a .gz that is not gzip", () => {
    const p = file("trace.json.gz", syncStallJson);
    expectOneLine(cli(["analyze", p]), `${p}: not gzip data although the name ends in .gz; decompress it properly or rename it to .json`);
  });

  test("truncated gzip", () => {
    const gz = readFileSync(join(FIXTURES, "sync_stall.kineto.json.gz"));
    const p = file("half.json.gz", gz.subarray(0, 20000));
    expectOneLine(cli(["analyze", p]), `${p}: truncated gzip data (unexpected end of file); the file was not completely written — re-export it`);
  });

  test("corrupt gzip", () => {
    const gz = Buffer.from(readFileSync(join(FIXTURES, "sync_stall.kineto.json.gz")));
    for (let i = 100; i < 400; i++) gz[i] = 0xff;
    const p = file("corrupt.json.gz", gz);
    const r = cli(["analyze", p]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^inferscope: ${p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: corrupt gzip data \\(.+\\); re-export the trace\\n$`));
  });

  test("empty stdin", () => {
    expectOneLine(cli(["analyze", "-"], { stdin: "" }), `<stdin>: empty input; pass a trace written by 'inferscope run' or torch.profiler's export_chrome_trace`);
  });

  test("bad --format and --top", () => {
    const p = join(FIXTURES, "pinned_nonblocking.kineto.json.gz");
    expectOneLine(cli(["analyze", p, "--format", "pdf"]), `--format must be md, html, json, folded, speedscope or ndjson (got "pdf")`);
    expectOneLine(cli(["analyze", p, "--top", "0"]), `--top must be a whole number from 1 to 10000 (got "0")`);
  });
});

describe("analyze: good input through the CLI", () => {
  test("json to stdout, exit 0 although bottlenecks were found", () => {
    const r = cli(["analyze", join(FIXTURES, "sync_stall.kineto.json.gz"), "--format", "json"]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.schema).toBe("inferscope.report/v1");
    expect(report.findings.length).toBeGreaterThan(0);
  });

  test("stdin, plain and gzipped", () => {
    const plain = cli(["analyze", "-", "-f", "json", "--top", "3"], { stdin: syncStallJson.toString("utf8") });
    expect(plain.code).toBe(0);
    const a = JSON.parse(plain.stdout);
    expect(a.source).toEqual({ path: "<stdin>", format: "kineto", events: 3034 });
    expect(a.gpu.kernels.top.length).toBe(3);
    const gz = Bun.spawnSync([process.execPath, join(ROOT, "src/main.ts"), "analyze", "-", "-f", "json"], {
      stdin: readFileSync(join(FIXTURES, "sync_stall.kineto.json.gz")),
      env: cleanEnv(),
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(gz.exitCode).toBe(0);
    const b = JSON.parse(gz.stdout.toString());
    expect(b.gpu.busy_ms).toBe(a.gpu.busy_ms);
    expect(b.gpu.kernels.count).toBe(a.gpu.kernels.count);
  });

  test("--output writes the file; an unwritable output is one line", () => {
    const out = join(dir, "report.json");
    const r = cli(["analyze", join(FIXTURES, "pinned_nonblocking.kineto.json.gz"), "-f", "json", "-o", out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(JSON.parse(readFileSync(out, "utf8")).source.format).toBe("kineto");
    const bad = join(dir, "no/such/dir/report.json");
    const r2 = cli(["analyze", join(FIXTURES, "pinned_nonblocking.kineto.json.gz"), "-f", "json", "-o", bad]);
    expectOneLine(r2, `--output ${bad}: the directory ${join(dir, "no/such/dir")} does not exist; create it or choose another path`);
  });

  test("--output never replaces an existing file without --force", () => {
    const out = join(dir, "mine.md");
    writeFileSync(out, "my notes\n");
    const r = cli(["analyze", join(FIXTURES, "sync_stall.kineto.json.gz"), "-o", out]);
    expectOneLine(r, `${out} already exists; pass --force to overwrite it, or choose another path`);
    expect(readFileSync(out, "utf8")).toBe("my notes\n");
    const forced = cli(["analyze", join(FIXTURES, "sync_stall.kineto.json.gz"), "-o", out, "--force"]);
    expect(forced.code).toBe(0);
    expect(readFileSync(out, "utf8")).toStartWith("# InferScope report");
  });

  test("--top defaults to the config's top", () => {
    const r = cli(["analyze", join(FIXTURES, "llama_tiny_generate.kineto.json.gz"), "-f", "json"], { env: cleanEnv({ INFERSCOPE_TOP: "2" }) });
    expect(JSON.parse(r.stdout).gpu.kernels.top).toHaveLength(2);
  });
});

describe("analyze: control characters in the input", () => {
  test("a NUL inside the JSON: the one-line error shows it as \\x00", () => {
    const p = file("nul.json", '{"traceEvents": [\u0000]}');
    const r = cli(["analyze", p]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("\\x00");
    // eslint-disable-next-line no-control-regex
    expect(r.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(r.stderr.split("\n")).toHaveLength(2);
  });

  test("ESC sequences and other controls in event names never reach the terminal through the Markdown report", () => {
    const doc = JSON.parse(syncStallJson.toString("utf8"));
    const names = ["\u001b[2J\u001b[31mevil", "a\u0000b", "v\u000btab", "f\u000cfeed", "r\u001erecord", "c1\u009bcsi"];
    let k = 0;
    for (const e of doc.traceEvents) if (e.cat === "cpu_op" || e.cat === "kernel") e.name = `${e.name}${names[k++ % names.length]}`;
    const p = file("controls.json", JSON.stringify(doc));
    const r = cli(["analyze", p]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("\\x1b[2J");
    // eslint-disable-next-line no-control-regex
    expect(r.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
  });
});

describe("analyze: inputs that are not plain files", () => {
  const MAIN = join(ROOT, "src/main.ts");
  /** The CLI from source under bash, for redirections and names a test cannot pass as strings. */
  function bash(script: string): { code: number; stdout: string; stderr: string } {
    const r = Bun.spawnSync(["bash", "-c", script], { cwd: dir, env: cleanEnv({ BUN: process.execPath, MAIN }), stdout: "pipe", stderr: "pipe" });
    return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  }
  const fixture = join(FIXTURES, "sync_stall.kineto.json.gz");

  test("process substitution (a FIFO) is read like stdin, plain or gzipped (it was refused)", () => {
    for (const cmd of [`zcat '${fixture}'`, `cat '${fixture}'`]) {
      const r = bash(`"$BUN" "$MAIN" analyze <(${cmd}) -f json`);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).gpu.kernels.count).toBeGreaterThan(0);
    }
  });

  test("a file name that is not valid UTF-8 is found (it was 'no such file'), and shown with \\xNN", () => {
    writeFileSync(Buffer.from(join(dir, "bad\xff.json"), "latin1"), syncStallJson);
    const r = bash(`"$BUN" "$MAIN" analyze "$(printf 'bad\\xff.json')" -f json`);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).source.path).toBe("bad\\xff.json");
    const missing = bash(`"$BUN" "$MAIN" analyze "$(printf 'gone\\xfe.json')"`);
    expect(missing).toEqual({ code: 2, stdout: "", stderr: "inferscope: gone\\xfe.json: no such file; check the path\n" });
  });

  test("a gzip'd trace, a FIFO, a diff side and a rules file named in bytes that are not UTF-8 are read (gzip was exit 70, the others 'no such file')", () => {
    writeFileSync(Buffer.from(join(dir, "gz\xff.json.gz"), "latin1"), readFileSync(fixture));
    const gz = bash(`"$BUN" "$MAIN" analyze "$(printf 'gz\\xff.json.gz')" -f json`);
    expect(gz.stderr).toBe("");
    expect(gz.code).toBe(0);
    expect(JSON.parse(gz.stdout).source.path).toBe("gz\\xff.json.gz");
    const fifo = bash(`f="$(printf 'fifo\\xfe')"; rm -f "$f"; mkfifo "$f"; (zcat '${fixture}' > "$f" &); "$BUN" "$MAIN" analyze "$f" -f json`);
    expect(fifo.stderr).toBe("");
    expect(JSON.parse(fifo.stdout).source.path).toBe("fifo\\xfe");
    const diff = bash(`"$BUN" "$MAIN" diff "$(printf 'gz\\xff.json.gz')" '${fixture}' -f json`);
    expect(diff.stderr).toBe("");
    expect(diff.code).toBe(0);
    expect(JSON.parse(diff.stdout).base.path).toBe("gz\\xff.json.gz");
    writeFileSync(Buffer.from(join(dir, "rules\xff.yaml"), "latin1"), "disable: [fp32_gemm]\n");
    const rules = bash(`"$BUN" "$MAIN" rules check "$(printf 'rules\\xff.yaml')"`);
    expect(rules).toEqual({ code: 0, stdout: `${dir}/rules\\xff.yaml: OK\n`, stderr: `[info] ${dir}/rules\\xff.yaml: OK (0 threshold overrides, 1 disabled rule, 0 user rules)\n` });
    const withRules = bash(`"$BUN" "$MAIN" analyze '${fixture}' --rules "$(printf 'rules\\xff.yaml')" -f json`);
    expect(withRules.code).toBe(0);
    expect(JSON.parse(withRules.stdout).findings.map((f: { rule: string }) => f.rule)).toEqual(["sync_stalls", "gpu_idle"]); // fp32_gemm disabled by it
  });

  test("stdin from a directory, or open for writing only: one line, exit 2 (it was exit 70 EISDIR / EBADF)", () => {
    expect(bash(`"$BUN" "$MAIN" analyze - < '${dir}'`)).toEqual({ code: 2, stdout: "", stderr: "inferscope: <stdin>: is a directory; pipe a trace in, or pass its path instead of -\n" });
    expect(bash(`"$BUN" "$MAIN" analyze - 0>'${join(dir, "wo")}'`)).toEqual({
      code: 2,
      stdout: "",
      stderr: "inferscope: <stdin>: not open for reading; pipe a trace in, or pass its path instead of -\n",
    });
    // closed: the runtime reopens it on /dev/null, which reads as empty
    expect(bash(`"$BUN" "$MAIN" analyze - <&-`).code).toBe(2);
  });
});
