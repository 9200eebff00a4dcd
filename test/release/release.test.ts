// `npx bun run release` as a user meets it: two archives and SHA256SUMS in dist/release, each
// archive unpacking (GNU tar) to one directory with the binary, owners 0:0, the commit's time.
// The arm64 binary runs under qemu-user here: --version, doctor --json, and `analyze` of real
// H100 traces giving byte-for-byte the x64 binary's output; with an arm64 Python from Debian
// (test/release/fetch-roots.sh) also a `run` of the quickstart.
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync, chmodSync } from "node:fs";
import { basename, join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { releaseName, sha256 } from "../../tools/release.ts";
import { cleanEnv, ROOT, tempDir } from "../helpers.ts";
import { ARM64, ARM64_PYTHON_ROOT, archivePath, cannotRun, ensureRelease, releaseMissing, RELEASE_DIR, runner, unpack, X64 } from "./artifacts.ts";

const FIXTURES = join(ROOT, "test/fixtures/kineto");
/** Size budget of one binary: Bun's runtime (107.4 MB for 1.4.5 linux-x64) + InferScope's ≤ 8 MB. */
const BINARY_BUDGET_BYTES = 116_000_000;

// Per file: bun applies the preload's default timeout to the first test file only. qemu is slow.
setDefaultTimeout(180_000);

const missing = releaseMissing();

function run(cmd: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) {
  const r = Bun.spawnSync(cmd, { cwd: opts.cwd ?? "/", env: opts.env ?? cleanEnv({ XDG_CACHE_HOME: tempDir("inferscope-cache-") }), stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** HEAD's commit time as `git log` gives it (the archives' mtime unless $SOURCE_DATE_EPOCH is set). */
function commitTime(): number {
  const env = process.env.SOURCE_DATE_EPOCH;
  if (env) return Number(env);
  return Number(Bun.spawnSync(["git", "log", "-1", "--format=%ct"], { cwd: ROOT, stdout: "pipe" }).stdout.toString().trim());
}

describe.skipIf(missing !== null)(`npx bun run release${missing ? ` (skipped: ${missing})` : ""}`, () => {
  beforeAll(() => ensureRelease());

  test("dist/release holds the two archives and SHA256SUMS, and the sums are right", () => {
    const names = [X64, ARM64].map((t) => `${releaseName(pkg.version, t)}.tar.gz`);
    expect(readdirSync(RELEASE_DIR).sort()).toEqual(["SHA256SUMS", ...names].sort());
    const lines = readFileSync(join(RELEASE_DIR, "SHA256SUMS"), "utf8").trimEnd().split("\n");
    expect(lines.map((l) => l.split("  ")[1])).toEqual(names);
    for (const l of lines) {
      const [sum, file] = l.split("  ");
      expect(sha256(readFileSync(join(RELEASE_DIR, file!)))).toBe(sum!);
    }
    // The command the README tells users to run.
    const check = Bun.spawnSync(["sha256sum", "-c", "SHA256SUMS"], { cwd: RELEASE_DIR, stdout: "pipe" });
    expect(check.exitCode).toBe(0);
    expect(check.stdout.toString()).toBe(names.map((n) => `${n}: OK\n`).join(""));
  });

  for (const t of [X64, ARM64]) {
    test(`${t.name}: one directory with the binary and README, owner 0:0, mode and time fixed`, () => {
      const name = releaseName(pkg.version, t);
      const list = Bun.spawnSync(["tar", "--numeric-owner", "--full-time", "-tvzf", archivePath(t)], { stdout: "pipe" }).stdout.toString();
      const when = new Date(commitTime() * 1000).toISOString().replace("T", " ").replace(".000Z", "");
      const rows = list.trimEnd().split("\n").map((l) => l.split(/\s+/));
      expect(rows.map((r) => [r[0], r[1], r[3] + " " + r[4], r[5]])).toEqual([
        ["drwxr-xr-x", "0/0", when, `${name}/`],
        ["-rwxr-xr-x", "0/0", when, `${name}/inferscope`],
        ["-rw-r--r--", "0/0", when, `${name}/README.md`],
      ]);
      const bin = unpack(t);
      expect(statSync(bin).size).toBeLessThanOrEqual(BINARY_BUDGET_BYTES);
      expect(readFileSync(join(bin, "../README.md"), "utf8")).toBe(readFileSync(join(ROOT, "README.md"), "utf8"));
    });
  }

  test("linux-x64 binary from the archive: --version from / after unpacking", () => {
    const why = cannotRun(X64);
    if (why) throw new Error(why);
    expect(run([...runner(X64, unpack(X64)), "--version"])).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: "" });
  });

  const why = cannotRun(ARM64);
  describe.skipIf(why !== null)(`linux-arm64 binary under ${why ? `qemu (skipped: ${why})` : runner(ARM64, "")[0]}`, () => {
    const arm = (args: string[], opts?: { cwd?: string; env?: Record<string, string> }) => run([...runner(ARM64, unpack(ARM64)), ...args], opts);
    const x64 = (args: string[]) => run([...runner(X64, unpack(X64)), ...args]);

    test("--version", () => {
      expect(arm(["--version"])).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: "" });
    });

    test("doctor --json: extracts its arm64 shim and dlopens it", () => {
      const r = arm(["doctor", "--json"]);
      expect(r.code).toBe(0);
      const info = JSON.parse(r.stdout);
      expect(info.shimVersion).toBe(1);
      expect(info.monotonicNs).toBeGreaterThan(0);
      if (info.gpus.length === 0) expect(info.gpuReason).toMatch(/driver|GPU/);
    });

    test("analyze of a real H100 trace: the JSON report is byte-identical to x64's", () => {
      const trace = join(FIXTURES, "llama_tiny_generate.kineto.json.gz");
      const a = arm(["analyze", trace, "--format", "json"]);
      const b = x64(["analyze", trace, "--format", "json"]);
      expect(a.code).toBe(0);
      expect(b.code).toBe(0);
      expect(JSON.parse(a.stdout).bottleneck.classification).toBe("cpu_bound");
      expect(a.stdout).toBe(b.stdout);
    });

    test("analyze --format md of another trace: identical Markdown", () => {
      const trace = join(FIXTURES, "sync_stall.kineto.json.gz");
      const a = arm(["analyze", trace]);
      expect(a.code).toBe(0);
      expect(a.stdout).toBe(x64(["analyze", trace]).stdout);
    });

    test("a bad trace path: one line, exit 2, as on x64", () => {
      const a = arm(["analyze", "/nonexistent/trace.json"]);
      const b = x64(["analyze", "/nonexistent/trace.json"]);
      expect(a.code).toBe(2);
      expect(a).toEqual(b);
    });

    const python = join(ARM64_PYTHON_ROOT, "usr/bin/python3.11");
    const noPython = existsSync(python) ? null : "no arm64 Python: run bash test/release/fetch-roots.sh (CI does)";
    test.skipIf(noPython !== null)(`run examples/quickstart.py with Debian's arm64 Python 3.11: the C hot path records it${noPython ? ` (skipped: ${noPython})` : ""}`, () => {
      // The arm64 binary starts "python3" with the kernel's execve, which cannot run an arm64
      // ELF without binfmt_misc; a shell script wrapping qemu can.
      const dir = tempDir("inferscope-arm64-run-");
      const wrapper = join(dir, "python3");
      writeFileSync(wrapper, `#!/bin/sh\nexec ${runner(ARM64, "")[0]} -L ${ARM64_PYTHON_ROOT} ${python} "$@"\n`);
      chmodSync(wrapper, 0o755);
      const out = join(dir, "runs");
      const r = arm(["run", "--python", wrapper, "--output-dir", out, "--formats", "json", join(ROOT, "examples/quickstart.py"), "--steps", "3"], { cwd: dir });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("processed 3 steps");
      const runDir = join(out, readdirSync(out)[0]!);
      const trace = JSON.parse(readFileSync(join(runDir, "trace.json"), "utf8"));
      expect(trace.inferscope.python).toMatch(/^3\.11\./);
      expect(trace.inferscope.pythonTracer.backend).toBe("setprofile+c");
      const names = new Set(trace.traceEvents.filter((e: { cat?: string }) => e.cat === "scope").map((e: { name: string }) => e.name));
      expect(names.has("load")).toBe(true);
      expect(basename(runDir)).toStartWith("quickstart-");
    });
  });
});
