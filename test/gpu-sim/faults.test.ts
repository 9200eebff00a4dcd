// Runs that go wrong, through the SIMULATED driver and CUPTI (README.md): each still ends in a
// report that states what was lost, never in InferScope's internal error (exit 70).
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers.ts";
import { loadRun, MAIN } from "../run/helpers.ts";
import { HERE, SCENARIO, SIM_MISSING, simEnv, simRun, withReport } from "./helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

const lossWarning = (warnings: string[], re: RegExp) => warnings.find((w) => re.test(w));

describe.skipIf(SIM_MISSING !== null)("faults under the simulated driver", () => {
  test("os._exit mid-run: InferScope's final flush runs first — every finished kernel is in the report, the running one counted, nothing said missing", () => {
    const r = simRun(SCENARIO, ["run_then", "os_exit", "0.5"]);
    expect(r.code).toBe(3); // the script's own exit status
    expect(r.report).not.toBeNull();
    const [, launched] = /launched (\d+) delivered (\d+)/.exec(r.stdout)!.map(Number);
    // all but the 10 s kernel still running at the exit (before: only the buffers the 1 s flusher had put on disk)
    expect(r.kernels.length).toBe(launched! - 1);
    expect(new Set(r.kernels.map((k) => k.args!["python function"]))).toEqual(new Set(["my_step"]));
    expect(r.warnings).toContain("1 GPU record arrived unfinished at the final flush (GPU work still running when the script exited) and is left out");
    expect(r.warnings.filter((w) => /final record is missing|final CUPTI flush/.test(w))).toEqual([]);
  });

  test("SIGKILL of the script: exit 137, a report, the missing stretch stated", () => {
    const r = simRun(SCENARIO, ["run_then", "kill", "0.5"]);
    expect(r.code).toBe(137);
    expect(r.report).not.toBeNull();
    const [, launched, delivered] = /launched (\d+) delivered (\d+)/.exec(r.stdout)!.map(Number);
    expect(r.kernels.length).toBeGreaterThanOrEqual(delivered!);
    expect(r.kernels.length).toBeLessThan(launched!);
    expect(lossWarning(r.warnings, /final CUPTI flush.*GPU records cover the first/)).toBeDefined();
    expect(lossWarning(r.warnings, /stopped by SIGKILL/)).toBeDefined();
  });

  test("killed before CUPTI delivered anything: a report that says there is no GPU data and why", () => {
    const r = simRun(SCENARIO, ["run_then", "kill", "0"]);
    expect(r.code).toBe(137);
    expect(r.report).not.toBeNull();
    expect(r.kernels).toEqual([]);
    expect(r.warnings).toContain("the script ended without InferScope's final CUPTI flush (it was killed, or crashed) before CUPTI delivered any GPU record: the report has no GPU data");
  });

  test("os._exit before CUPTI delivered anything: the final flush still delivers the launches", () => {
    const r = simRun(SCENARIO, ["run_then", "os_exit", "0"]);
    expect(r.code).toBe(3);
    expect(r.report).not.toBeNull();
    const [, launched] = /launched (\d+) delivered (\d+)/.exec(r.stdout)!.map(Number);
    expect(r.kernels.length).toBe(launched!);
    expect(r.warnings.filter((w) => /final CUPTI flush/.test(w))).toEqual([]);
  });

  test("fork with both sides launching, then sys.exit: the child writes nothing (no file of its own, nothing in the parent's) and never calls into CUPTI", () => {
    const r = simRun(SCENARIO, ["fork_both"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("child: 50 launches failed"); // as CUDA fails in a forked child
    expect(r.kernels.length).toBe(400); // the parent's, each once
    expect(new Set(r.kernels.map((k) => k.name))).toEqual(new Set(["void step_kernel<float>(float*)"]));
    expect(r.simLog).not.toContain("misuse");
    expect(r.warnings.filter((w) => /CUPTI|GPU record/.test(w))).toEqual([]);
    // the forked child has no records file of its own either: only the parent's
    const parent = r.kernels[0]!.pid;
    expect(readdirSync(join(r.runDir!, "raw")).filter((f) => f.startsWith("gpu")).sort()).toEqual([`gpu-${parent}.bin`, `gpu-${parent}.bin.status`]);
  });

  test("a CUDA-using subprocess records into its own file: the script's records are whole, the child's are in the trace under its pid", () => {
    const r = simRun(SCENARIO, ["cuda_child"]);
    expect(r.code).toBe(0);
    const childPid = Number(/child pid (\d+)/.exec(r.stdout)![1]);
    const child = r.kernels.filter((k) => k.pid === childPid);
    expect(child.length).toBe(100);
    expect(new Set(child.map((k) => k.name))).toEqual(new Set(["void child_kernel()"]));
    expect(r.kernels.length).toBe(200);
    expect(r.warnings.filter((w) => /CUDA|CUPTI|GPU record/.test(w))).toEqual([]);
  });

  test("work still running at exit: the forced flush's unfinished record is counted, not kept (it would stretch the window)", () => {
    const r = simRun(SCENARIO, ["unfinished_at_exit"]);
    expect(r.code).toBe(0);
    expect(r.kernels.length).toBe(100);
    expect(r.kernels.some((k) => k.name === "void long_kernel()")).toBe(false);
    expect(r.report!.gpu.window_ms).toBeLessThan(1000);
    expect(r.trace!.inferscope.dropped.cupti_unfinished).toBe(1);
    expect(r.warnings).toContain("1 GPU record arrived unfinished at the final flush (GPU work still running when the script exited) and is left out");
  });

  test("records CUPTI dropped are counted, those after the last delivered buffer too", () => {
    // every record dropped: no buffer is ever delivered, so only the count after the final flush sees them
    const all = simRun(SCENARIO, ["many_names", "300"], { env: { GPUSIM_DROP_AFTER: "0" } });
    expect(all.code).toBe(0);
    expect(all.kernels).toEqual([]);
    expect(all.trace!.inferscope.dropped.cupti).toBe(300 + 300 + 1 + 1 + 1); // kernels, launch calls, the sync call and its sync record, the device record
    expect(all.warnings).toContain("CUPTI dropped 603 records (no buffer space): GPU activity counts are short by up to that many");
    const some = simRun(SCENARIO, ["many_names", "300"], { env: { GPUSIM_DROP_AFTER: "201" } });
    expect(some.trace!.inferscope.dropped.cupti).toBe(603 - 201);
    expect(some.kernels.length).toBe(100);
  });

  test("a full disk for the records file: the records written before it are read, the write error is stated", () => {
    // the script's gpu-<pid>.bin is a link to a file on a 64 KiB tmpfs, mounted in a private mount namespace
    const probe = Bun.spawnSync(["unshare", ...(process.getuid?.() === 0 ? ["-m"] : ["-rm"]), "true"], { stderr: "pipe" });
    if (probe.exitCode !== 0) {
      console.warn(`skipped: cannot mount a small tmpfs here (unshare: ${probe.stderr.toString().trim()})`);
      return;
    }
    const small = tempDir("gpusim-tmpfs-");
    const out = tempDir("gpusim-full-");
    const env = simEnv();
    const cmd = `mount -t tmpfs -o size=64k tmpfs ${small} && exec ${process.execPath} ${MAIN} run --output-dir ${out} --formats json ${SCENARIO} symlink_out_then_run ${join(small, "gpu-records.bin")}`;
    const p = Bun.spawnSync(["unshare", ...(process.getuid?.() === 0 ? ["-m"] : ["-rm"]), "sh", "-c", cmd], { cwd: HERE, env, stdout: "pipe", stderr: "pipe" });
    const r = withReport({ code: p.exitCode ?? -1, stdout: p.stdout.toString(), stderr: p.stderr.toString(), ...loadRun(out) }, env.GPUSIM_LOG!);
    expect(r.code).toBe(0);
    expect(r.report).not.toBeNull();
    expect(r.kernels.length).toBeGreaterThan(100);
    expect(r.kernels.length).toBeLessThan(3000);
    expect(lossWarning(r.warnings, /^GPU records: No space left on device after \d+ bytes of the GPU record file; GPU records from then on are lost$/)).toBeDefined();
  });

  test("SIGTERM while a kernel hangs: the exit wait gives up after 2 s, the run ends with a report", async () => {
    const out = tempDir("gpusim-hang-");
    const env = simEnv({ PYTHONPATH: join(HERE, "stub_torch") });
    const proc = Bun.spawn([process.execPath, MAIN, "run", "--output-dir", out, "--formats", "json", SCENARIO, "hung_kernel"], { cwd: HERE, env, stdout: "pipe", stderr: "pipe" });
    const reader = proc.stdout.getReader();
    let seen = "";
    while (!seen.includes("ready")) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += new TextDecoder().decode(value);
    }
    expect(seen).toContain("ready");
    proc.kill("SIGTERM");
    // without the bound the run never ends (the hung kernel): then this SIGKILL ends it, exit 137
    const killer = setTimeout(() => proc.kill("SIGKILL"), 60_000);
    const code = await proc.exited;
    clearTimeout(killer);
    const r = withReport({ code, stdout: seen, stderr: await new Response(proc.stderr).text(), ...loadRun(out) }, env.GPUSIM_LOG!);
    expect(code).toBe(143); // ended by SIGTERM itself, not by the SIGKILL above
    expect(r.report).not.toBeNull();
    expect(r.kernels.length).toBe(10);
    expect(r.warnings).toContain("the GPU was still busy 2 s after SIGTERM: InferScope stopped waiting, so GPU work still running then is not in the report");
    expect(r.warnings).toContain("1 GPU record arrived unfinished at the final flush (GPU work still running when the script exited) and is left out");
  }, 180_000);
});

describe.skipIf(SIM_MISSING !== null)("who used CUDA", () => {
  test("a launcher between InferScope and Python (uv run, conda run): the interpreter behind it records its GPU work", () => {
    const dir = tempDir("gpusim-wrapper-");
    mkdirSync(dir, { recursive: true });
    const wrapper = join(dir, "launcher.sh");
    // like `uv run`: starts Python as its child and waits, instead of exec'ing it
    Bun.write(wrapper, `#!/bin/sh\npython3 "$@"\nexit $?\n`);
    Bun.spawnSync(["chmod", "+x", wrapper]);
    const r = simRun(SCENARIO, ["many_names", "20"], { flags: ["--formats", "json", "--python", wrapper] });
    expect(r.code).toBe(0);
    expect(r.report).not.toBeNull();
    expect(r.trace!.inferscope.gpuCollection).toBe("cupti");
    expect(r.kernels.length).toBe(20);
    expect(r.warnings.filter((w) => /CUDA|CUPTI|GPU record/.test(w))).toEqual([]);
  });

  test("the libcupti really loaded is named in the report", () => {
    const r = simRun(SCENARIO, ["many_names", "3"]);
    expect(r.report!.collection.cuptiLibrary).toMatch(/\/build\/gpu-sim\/libcupti\.so\.13$/);
    expect(r.report!.collection.cuptiVersion).toBe(130001);
    // nothing else in the run directory's raw files but InferScope's own
    const pid = r.kernels[0]!.pid;
    expect(readdirSync(join(r.runDir!, "raw")).sort().filter((f) => f.startsWith("gpu"))).toEqual([`gpu-${pid}.bin`, `gpu-${pid}.bin.status`]);
    expect(readFileSync(join(r.runDir!, `raw/gpu-${pid}.bin.status`), "utf8")).toMatch(/^cupti: \/.*\/build\/gpu-sim\/libcupti\.so\.13\n$/);
  });
});
