// Every CUDA process of the run records (issue 18), through the SIMULATED driver and CUPTI
// (README.md): each process that initialises CUDA writes its own gpu-<pid>.bin; the trace has
// GPU lanes under each process, the report says which process did the GPU work, and a process
// killed mid-run loses only its own tail.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { MAIN } from "../run/helpers.ts";
import { SCENARIO, SIM_MISSING, simRun, type SimRun } from "./helpers.ts";

setDefaultTimeout(120_000); // per file: see test/preload.ts

/** Kernels per pid, as the trace's GPU lanes hold them. */
function kernelsByPid(r: SimRun): Record<number, number> {
  const out: Record<number, number> = {};
  for (const k of r.kernels) out[k.pid] = (out[k.pid] ?? 0) + 1;
  return out;
}

/** Kernel names per pid. */
function namesByPid(r: SimRun): Record<number, string[]> {
  const out: Record<number, Set<string>> = {};
  for (const k of r.kernels) (out[k.pid] ??= new Set()).add(k.name);
  return Object.fromEntries(Object.entries(out).map(([p, s]) => [p, [...s].sort()]));
}

/** The named GPU lanes of the trace: "pid: GPU d stream s". */
function gpuLanes(r: SimRun): string[] {
  return r
    .trace!.traceEvents.filter((e) => e.ph === "M" && e.name === "thread_name" && String((e.args as { name: string }).name).startsWith("GPU "))
    .map((e) => `${e.pid}: ${(e.args as { name: string }).name}`)
    .sort();
}

const mainPid = (r: SimRun): number => (r.trace!.inferscope.processes as { pid: number; role: string }[]).find((p) => p.role === "main")!.pid;

describe.skipIf(SIM_MISSING !== null)("every CUDA process of the run records", () => {
  test("two child processes launching at the same time: one trace, both processes' GPU lanes, exact kernels per process", () => {
    const r = simRun(SCENARIO, ["two_children"], { flags: ["--formats", "json,md", "--keep-raw"] });
    expect(r.code).toBe(0);
    const main = mainPid(r);
    const counts = kernelsByPid(r);
    const children = Object.keys(counts).map(Number).filter((p) => p !== main);
    expect(children.length).toBe(2);
    const names = namesByPid(r);
    const a = children.find((p) => names[p]!.includes("void child_a_kernel()"))!;
    const b = children.find((p) => names[p]!.includes("void child_b_kernel()"))!;
    expect(counts).toEqual({ [main]: 100, [a]: 120, [b]: 80 });
    expect(names).toEqual({ [main]: ["void step_kernel<float>(float*)"], [a]: ["void child_a_kernel()"], [b]: ["void child_b_kernel()"] });
    expect(gpuLanes(r)).toEqual([`${a}: GPU 0 stream 7`, `${b}: GPU 0 stream 7`, `${main}: GPU 0 stream 7`].sort());
    // each process's own records file; nothing shared, nothing lost
    expect(readdirSync(join(r.runDir!, "raw")).filter((f) => f.startsWith("gpu")).sort()).toEqual(
      [main, a, b].flatMap((p) => [`gpu-${p}.bin`, `gpu-${p}.bin.status`]).sort(),
    );
    expect(r.warnings.filter((w) => /CUPTI|GPU record|GPU collection/.test(w))).toEqual([]);
    // the run's analysis counts every process's kernels; the processes table says whose they were
    expect(r.report!.gpu.kernels.count).toBe(300);
    const procs = r.report!.processes as { pid: number; kernels: number; gpu_busy_ms: number }[];
    const withGpu = procs.filter((p) => p.kernels > 0);
    expect(Object.fromEntries(withGpu.map((p) => [p.pid, p.kernels]))).toEqual({ [main]: 100, [a]: 120, [b]: 80 });
    for (const p of withGpu) expect(p.gpu_busy_ms).toBeGreaterThan(0);
    for (const p of procs.filter((x) => x.kernels === 0)) expect(p.gpu_busy_ms).toBe(0); // the rest ran no GPU work
    // the Markdown report's processes table has the GPU columns
    const md = readFileSync(join(r.runDir!, "report.md"), "utf8");
    expect(md).toContain("| GPU busy ms | kernels |");
    expect(md).toMatch(new RegExp(`\\| ${a} \\|[^\\n]*\\| 120 \\|`));
    // each kernel still goes back to the Python function that launched it, in its own process
    const fn = new Set(r.kernels.filter((k) => k.pid === main).map((k) => k.args!["python function"]));
    expect(fn).toEqual(new Set(["my_step"]));
    expect(new Set(r.kernels.filter((k) => k.pid === a).map((k) => k.args!["python function"]))).toEqual(new Set(["launch"]));
  });

  test("multiprocessing: a `spawn` child and a `fork` child (forked before CUDA) each record their own kernels", () => {
    const r = simRun(SCENARIO, ["spawn_and_fork"]);
    expect(r.code).toBe(0);
    const [, fork, spawn] = /fork pid (\d+) spawn pid (\d+)/.exec(r.stdout)!.map(Number);
    const main = mainPid(r);
    expect(kernelsByPid(r)).toEqual({ [main]: 100, [fork!]: 40, [spawn!]: 60 });
    expect(namesByPid(r)).toEqual({ [main]: ["void step_kernel<float>(float*)"], [fork!]: ["void fork_kernel()"], [spawn!]: ["void spawn_kernel()"] });
    const procs = r.report!.processes as { pid: number; role: string; kernels: number; gpu_busy_ms: number }[];
    expect(procs.filter((p) => p.kernels > 0).map((p) => [p.pid, p.role, p.kernels]).sort()).toEqual(
      [
        [main, "main", 100],
        [fork!, "multiprocessing", 40],
        [spawn!, "multiprocessing", 60],
      ].sort(),
    );
    expect(r.warnings.filter((w) => /CUPTI|GPU record|GPU collection/.test(w))).toEqual([]);
    // `inferscope analyze` of the trace reads each op's process back from its lane: the same table
    const again = Bun.spawnSync([process.execPath, MAIN, "analyze", join(r.runDir!, "trace.json"), "--format", "json"], { stdout: "pipe", stderr: "pipe" });
    expect(again.exitCode).toBe(0);
    const back = JSON.parse(again.stdout.toString()).processes as { pid: number; kernels: number; gpu_busy_ms: number }[];
    expect(back.filter((p) => p.kernels > 0).map((p) => [p.pid, p.kernels, p.gpu_busy_ms])).toEqual(procs.filter((p) => p.kernels > 0).map((p) => [p.pid, p.kernels, p.gpu_busy_ms]));
  });

  test("a child killed mid-run loses only its own tail, and the report says so", () => {
    const r = simRun(SCENARIO, ["child_killed"]);
    expect(r.code).toBe(0);
    const [, launched, delivered, exit] = /child: launched (\d+) delivered (\d+) exit (-?\d+)/.exec(r.stdout)!.map(Number);
    expect(exit).toBe(-9);
    const main = mainPid(r);
    const counts = kernelsByPid(r);
    const child = Number(Object.keys(counts).find((p) => Number(p) !== main));
    expect(counts[main]).toBe(100); // the script's records are whole
    expect(counts[child]).toBeGreaterThanOrEqual(delivered!);
    expect(counts[child]).toBeLessThan(launched!);
    const w = r.warnings.find((x) => x.startsWith(`process ${child} (`));
    // "at least the last … s" only when a /proc sample saw the child alive after its last delivered
    // record (one clean-clone run had none)
    expect(w).toMatch(
      new RegExp(`^process ${child} \\(python3 \\S*scenario\\.py run_then kill 0\\.5\\) was killed \\(or crashed\\) before InferScope's final CUPTI flush: its GPU records cover the first \\d+\\.\\d\\d s after it started CUDA; its GPU work after that(, at least the last \\d+\\.\\d\\d s before it ended,)? is missing; other processes' records are whole$`),
    );
    expect(r.warnings.filter((x) => /final CUPTI flush/.test(x))).toEqual([w!]);
  });
});
