// The compiled single binary, used as a user would: moved elsewhere, run from /, first starts racing.
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { copyFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { cleanEnv, ensureBinary, tempDir } from "../helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

let moved = "";
beforeAll(() => {
  // A copy outside the repo: nothing may depend on the source tree being next to it.
  moved = join(tempDir("inferscope-bin-"), "inferscope");
  copyFileSync(ensureBinary(), moved);
  Bun.spawnSync(["chmod", "+x", moved]);
});

function run(args: string[], cwd: string, env: Record<string, string>) {
  const r = Bun.spawnSync([moved, ...args], { cwd, env, stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

describe("dist/inferscope", () => {
  test("--version from / after being moved", () => {
    const r = run(["--version"], "/", cleanEnv());
    expect(r).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: "" });
  });

  test("extracts its runtime to a fresh cache and dlopens the shim", () => {
    const cache = tempDir("inferscope-cache-");
    const r = run(["doctor", "--json"], "/", cleanEnv({ XDG_CACHE_HOME: cache }));
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.shimVersion).toBe(1);
    expect(info.monotonicNs).toBeGreaterThan(0);
    expect(info.runtimeDir.startsWith(join(cache, "inferscope/"))).toBe(true);
    const files = readdirSync(info.runtimeDir).sort();
    expect(files).toContain("libinferscope.so");
    expect(files).toContain(".complete");
    // No GPU on CI: the reason is said, not an error.
    if (info.gpus.length === 0) expect(info.gpuReason).toMatch(/driver|GPU/);
  });

  test("8 concurrent first starts agree on one runtime dir and leave no temp dirs", async () => {
    const cache = tempDir("inferscope-cache-");
    const procs = Array.from({ length: 8 }, () =>
      Bun.spawn([moved, "doctor", "--json"], { cwd: "/", env: cleanEnv({ XDG_CACHE_HOME: cache }), stdout: "pipe", stderr: "pipe" }),
    );
    const outs = await Promise.all(procs.map(async (p) => ({ code: await p.exited, out: await new Response(p.stdout).text() })));
    for (const o of outs) expect(o.code).toBe(0);
    const dirs = new Set(outs.map((o) => JSON.parse(o.out).runtimeDir));
    expect(dirs.size).toBe(1);
    expect(readdirSync(join(cache, "inferscope"))).toEqual([...dirs].map((d) => d.split("/").pop()));
  });

  test("a .env and a bunfig.toml in the user's directory are not loaded", () => {
    const dir = tempDir();
    writeFileSync(join(dir, ".env"), "INFERSCOPE_TRACE_SIZE_MB=777\n");
    writeFileSync(join(dir, "bunfig.toml"), 'preload = ["./nope.ts"]\n');
    const r = run(["config", "show", "--json"], dir, cleanEnv());
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).keys.traceSizeMb).toEqual({ value: 100, source: "default" });
  });

  test("script args reach run untouched (argv split), bad command is one line", () => {
    const r = run(["nope"], "/", cleanEnv());
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('inferscope: unknown command "nope"; commands: run, analyze, diff, rules, config, doctor, pythonpath (see inferscope --help)\n');
  });
});

test("dist/inferscope run x.py --help --batch 8: the script gets --help --batch 8", () => {
  const dir = tempDir();
  writeFileSync(join(dir, "x.py"), "import sys\nprint(sys.argv[1:])\n");
  const r = run(["run", "--no-trace", "--formats", "json", "x.py", "--help", "--batch", "8"], dir, cleanEnv({ XDG_CACHE_HOME: tempDir() }));
  expect(r.code).toBe(0);
  expect(r.stdout).toBe("['--help', '--batch', '8']\n");
});
