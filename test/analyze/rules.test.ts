// Rules, attribution and classification on small synthetic traces built in code: what the real
// fixtures cannot show (Python stacks, counters, NUMA, PCIe link data, pageable and synchronous
// copies, threads) and the rule that a rule never fires on missing data. These traces are made by
// hand for unit tests; they are not recordings and are not used as labelled cases.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { analyze } from "../../src/analyze/index.ts";
import { mergeTrace } from "../../src/merge/index.ts";
import type { Trace } from "../../src/trace/model.ts";
import { Builder, MAIN, MS, PID, US, twoThreads } from "./trace-builder.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

const rules = (t: Trace) => analyze(t, { path: "x" }).findings.map((f) => f.rule);

/** 10 steps of 1 ms: tokenize() 600 µs, then forward() launches 5 kernels of 60 µs. */
function preprocessingBound(): Builder {
  const b = new Builder();
  b.span("python", "main", 0, 10 * MS, { file: "infer.py", line: 1 });
  for (let k = 0; k < 10; k++) {
    const t0 = k * MS;
    b.span("scope", "step", t0, t0 + MS);
    b.span("python", "tokenize", t0, t0 + 600 * US, { file: "preprocess.py", line: 41 });
    b.span("python", "_split", t0 + 100 * US, t0 + 200 * US, { file: "preprocess.py", line: 12 });
    b.span("python", "forward", t0 + 600 * US, t0 + 700 * US, { file: "model.py", line: 10 });
    for (let i = 0; i < 5; i++) {
      const at = t0 + 600 * US + i * 10 * US;
      const gs = t0 + 620 * US + i * 60 * US;
      b.op("kernel", "gemm", at, gs, gs + 60 * US);
    }
  }
  return b;
}

describe("GPU idle attribution to Python code", () => {
  test("a preprocessing-bound loop: cpu_bound, and the idle time is tokenize()'s, not main()'s", () => {
    const t = preprocessingBound().t;
    const r = analyze(t, { path: "x" });
    const g = r.gpu!;
    // window: first kernel at 620 µs … last ends at 9 ms + 920 µs
    expect(g.window_ms).toBe((9 * MS + 920 * US - 620 * US) / MS);
    expect(g.busy_ms).toBe(10 * 300 * US / MS);
    // each of the 9 gaps between steps: 920 µs → 1620 µs = 700 µs, launch at 1600 µs > gap start
    expect(g.idle.host_wait_ms).toBe((9 * 700 * US) / MS);
    expect(g.idle.total_ms).toBe(g.idle.host_wait_ms);
    expect(r.bottleneck.classification).toBe("cpu_bound");
    const top = Object.fromEntries(g.idle.top.map((e) => [e.function, e]));
    // tokenize covers 600 µs of each 700 µs gap, forward the last 20 µs before the kernel
    expect(top.tokenize!.idle_ms).toBe((9 * 600 * US) / MS);
    expect(top.tokenize!.self_ms).toBe((9 * 500 * US) / MS);
    expect(top._split!.idle_ms).toBe((9 * 100 * US) / MS);
    expect(top.forward!.idle_ms).toBe((9 * 20 * US) / MS);
    expect(top.main!.idle_ms).toBe((9 * 700 * US) / MS);
    expect(top.main!.self_ms).toBe((9 * 80 * US) / MS);
    expect(top.tokenize).toMatchObject({ file: "preprocess.py", line: 41, scope: "step", kind: "python" });
    const f = r.findings.find((x) => x.rule === "gpu_idle")!;
    expect(f.suggestions[0]).toStartWith("Make `tokenize` (preprocess.py:41) in scope `step` cheaper or move it off the launching thread");
    expect(r.findings.map((x) => x.rule)).not.toContain("launch_bound"); // 60 µs kernels, one long gap per step
    // launcher of the kernels: the innermost Python frame at the launch call
    expect(g.kernels.top[0]).toMatchObject({ name: "gemm", function: "forward", file: "model.py", line: 10, scope: "step" });
    // per-step split: 300 µs compute, 700 µs idle
    const step = r.scopes.find((s) => s.name === "step")!;
    expect(step.count).toBe(10);
    expect(step.split!.compute_ms).toBeCloseTo(0.3, 12);
    expect(step.split!.idle_ms).toBeCloseTo(0.7, 12);
  });

  test("a recursive function is credited once", () => {
    const b = new Builder();
    b.span("python", "walk", 0, 1 * MS, { file: "a.py", line: 1 });
    b.span("python", "walk", 100 * US, 900 * US, { file: "a.py", line: 1 });
    b.op("kernel", "k", 0, 0, 10 * US);
    b.op("kernel", "k", 990 * US, 1000 * US, 1010 * US);
    const r = analyze(b.t, { path: "x" });
    const walk = r.gpu!.idle.top.find((e) => e.function === "walk")!;
    expect(walk.idle_ms).toBe(0.99); // gap 10 µs → 1000 µs
    expect(walk.self_ms).toBe(0.99);
  });
});

describe("copies", () => {
  /** 4 steps: a 64 MiB pageable H2D copy (cudaMemcpy, synchronous) at 10 GB/s, then a 100 µs kernel. */
  function pageableBound(): Builder {
    const b = new Builder();
    const bytes = 64 << 20;
    const copyNs = Math.round(bytes / 10); // 10 GB/s = 10 bytes per ns
    for (let k = 0; k < 4; k++) {
      const t0 = k * 8 * MS;
      b.span("python", "load_batch", t0, t0 + copyNs + 20 * US, { file: "data.py", line: 7 });
      b.op("memcpy", "Memcpy HtoD (Pageable -> Device)", t0, t0 + 10 * US, t0 + 10 * US + copyNs, { bytes, copyKind: "HtoD", srcMem: "pageable", dstMem: "device" }, { name: "cudaMemcpy" });
      b.t.api[b.t.api.length - 1]!.end = t0 + copyNs + 15 * US;
      b.op("kernel", "relu", t0 + copyNs + 16 * US, t0 + copyNs + 20 * US, t0 + copyNs + 120 * US);
    }
    return b;
  }

  test("large pageable synchronous copies: memory_bound with pageable, sync-copy and transfer findings", () => {
    const r = analyze(pageableBound().t, { path: "x" });
    expect(r.bottleneck.classification).toBe("memory_bound");
    const h2d = r.gpu!.memcpy.h2d;
    expect(h2d).toMatchObject({ count: 4, bytes: 4 * (64 << 20), pageable_count: 4, pinned_count: 0, sync_count: 4 });
    expect(h2d.gbps).toBeCloseTo(10, 5);
    const ids = r.findings.map((f) => f.rule);
    expect(ids).toContain("pageable_copies");
    expect(ids).toContain("sync_copies");
    expect(ids).toContain("transfer_overhead");
    const p = r.findings.find((f) => f.rule === "pageable_copies")!;
    expect(p.suggestions[0]).toContain("`load_batch` (data.py:7)");
    expect(p.evidence.pageable_bytes).toBe(4 * (64 << 20));
  });

  test("PCIe saturation needs the link: silent without it, fires with gen4 x16 at 25 GB/s", () => {
    const make = (link: boolean) => {
      const b = new Builder();
      b.t.meta.devices.push(link ? { index: 0, name: "GPU", pcieLinkGen: 4, pcieLinkWidth: 16 } : { index: 0, name: "GPU" });
      const bytes = 256 << 20;
      const copyNs = Math.round(bytes / 25);
      for (let k = 0; k < 3; k++) {
        const t0 = k * 20 * MS;
        b.op("memcpy", "Memcpy HtoD (Pinned -> Device)", t0, t0 + 5 * US, t0 + 5 * US + copyNs, { bytes, copyKind: "HtoD", srcMem: "pinned", dstMem: "device" });
        b.op("kernel", "k", t0 + 10 * US, t0 + 5 * US + copyNs, t0 + 5 * US + copyNs + 5 * MS);
      }
      return b.t;
    };
    expect(rules(make(false))).not.toContain("pcie_saturation");
    const r = analyze(make(true), { path: "x" });
    const f = r.findings.find((x) => x.rule === "pcie_saturation")!;
    expect(f.evidence.link_peak_gbps).toBe(31.5);
    expect(f.evidence.h2d_gbps).toBe(25);
  });
});

describe("CPU-side rules need their counters", () => {
  test("threading contention: two threads in Python at once on one core", () => {
    expect(rules(twoThreads(null))).not.toContain("threading_contention");
    const r = analyze(twoThreads(), { path: "x" });
    const f = r.findings.find((x) => x.rule === "threading_contention")!;
    expect(f).toBeDefined();
    expect(f.evidence.python_concurrency).toBeGreaterThan(1.5);
    expect(f.suggestions[0]).toContain("decoder");
    expect(r.cpu.threads.find((t) => t.tid === 202)!.python_ms).toBe(9);
  });

  test("threading contention: a thread blocked in a traced wait (the main thread in Thread.join) is not competing; without GPU work the advice is processes, not the launching thread", () => {
    // 4 threads run `spin` in Python 0–100 ms on one core; the main thread waits in join meanwhile
    const b = new Builder();
    b.span("python", "main", 0, 100 * MS, { file: "gil.py", line: 7 });
    b.span("python", "Thread.join", 1 * MS, 100 * MS, { file: "threading.py", line: 1100 });
    b.span("wait", "lock.acquire", 1 * MS, 100 * MS);
    for (let i = 0; i < 4; i++) {
      b.t.threadNames.set(300 + i, `Thread-${i + 1} (spin)`);
      b.span("python", "spin", 0, 100 * MS, { file: "gil.py", line: 2 }, 300 + i);
    }
    for (let ts = 0; ts <= 100 * MS; ts += 10 * MS) b.counter("cpu", ts, { utilization_pct: 99 });
    const f = analyze(b.t, { path: "x", window: "all" }).findings.find((x) => x.rule === "threading_contention")!;
    // it said "5 threads compete for the GIL: 5 threads in Python at once"
    expect(f.title).toBe("4 threads compete for the GIL: 4 threads in Python at once on ~0.99 cores");
    expect(f.suggestions[0]).toBe(
      "Run the CPU-heavy Python work (Thread-1 (spin), Thread-2 (spin), Thread-3 (spin)) in processes instead of threads (multiprocessing, concurrent.futures.ProcessPoolExecutor): threads take turns holding the GIL, and these 4 got ~0.99 cores between them.",
    );
    expect(f.suggestions.join(" ")).not.toContain("GPU");
  });

  test("thread oversubscription: one thread runs torch ops with a pool larger than the cores (torch.set_num_threads(8) on 2)", () => {
    const pool = (threads: number) => {
      const b = new Builder();
      for (let k = 0; k < 10; k++) {
        b.span("python", "forward", k * 10 * MS, k * 10 * MS + 9 * MS, { file: "infer.py", line: 4 });
        b.span("cpu_op", "aten::addmm", k * 10 * MS + 1 * MS, k * 10 * MS + 8 * MS);
      }
      b.t.meta.torchThreads = threads;
      b.t.meta.cpus = 2;
      return analyze(b.t, { path: "x" }).findings.find((f) => f.rule === "thread_oversubscription");
    };
    const f = pool(8)!;
    expect(f.title).toBe("Thread oversubscription: torch runs 8 intra-op threads on 2 CPU cores");
    expect(f.suggestions[0]).toStartWith("Match torch's threads to the cores the process may use: torch.set_num_threads(2) (or OMP_NUM_THREADS=2)");
    expect(f.evidence.threads).toEqual([{ tid: MAIN, name: "MainThread", process: `pid ${PID}`, ops_ms: 70 }]);
    expect(pool(2)).toBeUndefined();
  });

  test("threading contention: two threads in Python frames but the process under 80 % of a core were blocked, not contending", () => {
    expect(rules(twoThreads(62))).not.toContain("threading_contention");
    expect(rules(twoThreads(135))).not.toContain("threading_contention");
  });

  test("memory pressure and NUMA remote placement", () => {
    const b = preprocessingBound();
    expect(rules(b.t)).not.toContain("memory_pressure");
    expect(rules(b.t)).not.toContain("numa_remote");
    const r0 = analyze(b.t, { path: "x" });
    expect(r0.cpu.memory).toEqual({ peak_rss_mb: null, min_available_mb: null, swap_used_mb: null });

    const c = preprocessingBound();
    c.t.meta.devices.push({ index: 0, name: "GPU", numaNode: 0, memoryBytes: 80 * 1024 * 1024 * 1024 });
    c.counter("memory", 0, { rss_mb: 20000, mem_available_mb: 2000, swap_used_mb: 0 });
    c.counter("memory", 5 * MS, { rss_mb: 30000, mem_available_mb: 300, swap_used_mb: 500 });
    c.counter("numa node 0", 5 * MS, { process_mb: 3000 });
    c.counter("numa node 1", 5 * MS, { process_mb: 27000 });
    c.counter("gpu 0", 5 * MS, { memory_used_mb: 79 * 1024 });
    const r = analyze(c.t, { path: "x" });
    expect(r.cpu.memory).toEqual({ peak_rss_mb: 30000, min_available_mb: 300, swap_used_mb: 500 });
    expect(r.cpu.numa).toEqual({ gpu_node: 0, pages_mb_by_node: { "0": 3000, "1": 27000 }, remote_pct: 90 });
    const mp = r.findings.find((x) => x.rule === "memory_pressure")!;
    expect(mp.title).toBe("Memory pressure: only 300 MB of host memory available; system swap grew by 500 MB; GPU 0 memory 98.8 % full");
    expect(mp.suggestions.length).toBeGreaterThanOrEqual(2);
    const numa = r.findings.find((x) => x.rule === "numa_remote")!;
    expect(numa.suggestions[0]).toContain("numactl --cpunodebind=0 --membind=0");
  });
});

describe("the kernel's CPU time in a CPU-bound reason", () => {
  /** `spin` in Python for `ms` on the main thread; the kernel counted `pct` % of it (samples every 20 ms). */
  function spinning(ms: number, pct = 55): Trace {
    const b = new Builder();
    b.span("python", "spin", 0, ms * MS, { file: "spin.py", line: 1 });
    b.t.meta.sampleIntervalMs = 20;
    for (let ts = 0; ts <= ms * MS; ts += 20 * MS) b.counter(`cpu thread ${MAIN}`, ts, { utilization_pct: pct });
    return b.t;
  }
  const reason = (t: Trace) => analyze(t, { path: "x", window: "all" }).bottleneck.reason;

  test("named when the gap is beyond what ticks and the sampling interval can explain", () => {
    expect(reason(spinning(1000))).toContain("; the kernel counted only 55 % of that as CPU time: the threads were often waiting for a core (other processes, more threads than cores) or for the GIL (Python threads take turns)");
  });

  test("under half a core, error included: off the CPU in waits the tracer does not see, not CPU-bound (`for line in sys.stdin` was '<module> takes 99.9 % of the CPU time')", () => {
    const r = analyze(spinning(1000, 2), { path: "x", window: "all" });
    expect(r.bottleneck).toEqual({
      classification: "wait_bound",
      confidence: 0.6,
      reason:
        "the threads were in traced code 100 % of the run, most in `spin` (spin.py:1), but the kernel counted only 2 % of a core as their CPU time: they mostly waited in calls the tracer does not see as waits (iterating over a pipe, socket or terminal, as `for line in sys.stdin`; a C extension's I/O or locks), or had no core on a busy machine; no GPU activity was recorded",
    });
    // the finding says so, with what to do; no finding claims the time as CPU work
    expect(r.findings.map((f) => f.rule)).toEqual(["unseen_waits"]);
    expect(r.findings[0]!.title).toBe("The threads were off the CPU 98 % of their traced time (most in `spin` (spin.py:1)), in waits the tracer does not see: the kernel counted 2 % of a core as CPU time");
    expect(r.findings[0]!.suggestions[0]).toStartWith("If the script reads its input by iterating over a pipe, a socket or the terminal (`for line in sys.stdin`");
  });

  test("time blocked on the GPU in a sync the tracer saw is not an unseen wait", () => {
    const t = spinning(1000, 2);
    const b = new Builder();
    b.op("kernel", "k", 1 * MS, 2 * MS, 980 * MS);
    t.api.push(...b.t.api, { api: "runtime", kind: "sync", name: "cudaDeviceSynchronize", start: 5 * MS, end: 981 * MS, pid: PID, tid: MAIN, correlation: 99 });
    t.gpu.push(...b.t.gpu);
    t.syncs.push({ type: "device", start: 5 * MS, end: 981 * MS, pid: PID, tid: MAIN, correlation: 99 });
    expect(analyze(t, { path: "x", window: "all" }).findings.map((f) => f.rule)).not.toContain("unseen_waits");
  });

  test("the process's own CPU figure counts too: threads that lived between two samples have no track, but their time is the process's", () => {
    const t = spinning(1000, 2);
    for (let ts = 0; ts <= 1000 * MS; ts += 20 * MS) t.counters.push({ track: "cpu", ts, values: { utilization_pct: 100 } });
    t.counters.sort((a, b) => a.ts - b.ts);
    expect(analyze(t, { path: "x", window: "all" }).bottleneck.classification).toBe("cpu_bound");
  });

  test("not named over a window so short that a tick and an interval explain the gap (a 45 ms fib 'counted only 44 %')", () => {
    expect(reason(spinning(40))).not.toContain("the kernel counted");
    expect(reason(spinning(40))).toStartWith("on the CPU, the threads ran 100 % of the run, and `spin` (spin.py:1) took the most running time: 100 % of the CPU busy time");
  });
});

describe("blocking_calls: a wait for a child process that computes", () => {
  /** The main thread waits in os.waitpid 0–100 ms for a forked child that runs `child_work` for `busyMs`. */
  function forked(busyMs: number): Trace {
    const b = new Builder();
    b.span("python", "main", 0, 100 * MS, { file: "forker.py", line: 5 });
    b.span("wait", "os.waitpid", 0, 100 * MS);
    b.span("python", "child_work", 0, busyMs * MS, { file: "forker.py", line: 2, pid: 201 }, 201);
    b.t.meta.processes = [
      { pid: PID, role: "main", label: "forker.py", traced: true },
      { pid: 201, role: "fork", label: "fork of 100", traced: true },
    ];
    return b.t;
  }
  const blocking = (t: Trace) => analyze(t, { path: "x", window: "all" }).findings.find((f) => f.rule === "blocking_calls");

  test("while the child ran the whole wait, the wait is its work: no finding (it said 'blocked 100 %', saving all of it)", () => {
    expect(blocking(forked(100))).toBeUndefined();
  });

  test("the part of the wait when no traced child ran still counts (a child's interpreter start)", () => {
    expect(blocking(forked(40))!.title).toBe("The main thread is blocked 60 % of the time, mostly waiting for a child process: `os.waitpid` in `main` (forker.py:5), 60 %");
  });
});

describe("where the hottest function ran", () => {
  test("processes of one label are counted, not repeated ('in python -c and python -c')", () => {
    const b = new Builder();
    b.span("python", "<module>", 0, 100 * MS, { file: "run.py", line: 1 });
    b.span("wait", "os.waitpid", 1 * MS, 99 * MS);
    for (const [pid, start] of [[201, 0], [202, 50]] as const) b.span("python", "<module>", start * MS, (start + 49) * MS, { file: "<string>", line: 1, pid }, pid);
    b.t.meta.processes = [
      { pid: PID, role: "main", label: "run.py", traced: true },
      { pid: 201, role: "subprocess", label: "python -c", traced: true },
      { pid: 202, role: "subprocess", label: "python -c", traced: true },
    ];
    expect(analyze(b.t, { path: "x", window: "all" }).bottleneck.reason).toContain("`<module>` (<string>:1) in 2 × python -c took the most running time");
  });
});

describe("classification and merge", () => {
  test("no GPU activity: classified from the CPU side, gpu null, no findings", () => {
    const b = new Builder();
    b.span("python", "main", 0, MS);
    const r = analyze(b.t, { path: "x" });
    expect(r.gpu).toBeNull();
    expect(r.bottleneck).toEqual({
      classification: "cpu_bound",
      confidence: 0.95,
      reason: "on the CPU, the threads ran 100 % of the run, and `main` took the most running time: 100 % of the CPU busy time; no GPU activity was recorded",
    });
    expect(r.findings).toEqual([]);
  });

  test("GPU ops without launch calls: idle is measured, host-wait is not attributed, launch rules stay silent", () => {
    const b = preprocessingBound();
    b.t.api = [];
    const r = analyze(b.t, { path: "x" });
    expect(r.gpu!.idle.host_wait_ms).toBe(0);
    expect(r.gpu!.idle.launches_known).toBe(false);
    expect(r.gpu!.kernels.launch_api_ms).toBeNull();
    expect(r.gpu!.kernels.queue_depth).toBeNull();
    // the CPU-side rule explains the idle time: the Python preprocessing that ran meanwhile
    expect(r.findings.map((f) => f.rule).sort()).toEqual(["gpu_idle", "python_preprocessing"]);
    expect(r.findings.find((f) => f.rule === "gpu_idle")!.confidence).toBe(0.5);
    expect(r.bottleneck.classification).toBe("cpu_bound");
    expect(r.bottleneck.reason).toContain("the launch calls are not in the trace");
  });

  test("clock causality: a kernel starting before its launch call bounds the clock error", () => {
    const b = new Builder();
    b.op("kernel", "k", 10 * US, 5 * US, 20 * US);
    b.op("kernel", "k", 30 * US, 40 * US, 50 * US);
    const m = mergeTrace(b.t);
    expect(m.violations).toBe(1);
    expect(b.t.meta.clockErrorBoundNs).toBe(5 * US);
    const r = analyze(b.t, { path: "x", merge: m });
    expect(r.clock).toEqual({ source: "CLOCK_MONOTONIC", error_bound_us: 5 });
    expect(r.warnings[0]).toBe("1 GPU ops start before the call that launched them (by up to 5.0 µs): the CPU and GPU clocks disagree by at least that much");
  });

  test("scope percentiles are nearest-rank", () => {
    const b = new Builder();
    for (let i = 1; i <= 100; i++) b.span("user_annotation", `ProfilerStep#${i}`, i * 200 * MS, i * 200 * MS + i * MS);
    b.op("kernel", "k", 0, 10 * US, 20 * US);
    const s = analyze(b.t, { path: "x" }).scopes[0]!;
    expect(s).toMatchObject({ name: "ProfilerStep", count: 100, p50_ms: 50, p95_ms: 95, p99_ms: 99, max_ms: 100, mean_ms: 50.5 });
  });

  test("a CUPTI sync record on a GPU lane is given its API call's thread", () => {
    const b = new Builder();
    b.op("kernel", "k", 0, 10 * US, 500 * US);
    b.t.api.push({ api: "runtime", kind: "sync", name: "cudaStreamSynchronize", start: 20 * US, end: 501 * US, pid: PID, tid: MAIN, correlation: 99 });
    b.t.syncs.push({ type: "stream", start: 21 * US, end: 500 * US, pid: 0, tid: 7, correlation: 99 });
    const m = mergeTrace(b.t);
    expect(b.t.syncs[0]).toMatchObject({ pid: PID, tid: MAIN });
    const r = analyze(b.t, { path: "x", merge: m });
    expect(r.gpu!.syncs.count).toBe(1); // the record and its call are one wait
    expect(r.gpu!.syncs.blocked_ms).toBe(0.481);
  });
});

describe("python_preprocessing says what the trace knows of the function's bytecode", () => {
  /** 10 steps of 1 ms, all CPU: `prep` (prep.py:5) 800 µs in its own code per step, over `calls` calls a step. */
  function cpuBound(calls: number, shape?: { instructions: number; loop: boolean }): Trace {
    const b = new Builder();
    b.span("python", "main", 0, 10 * MS, { file: "infer.py", line: 1 });
    for (let k = 0; k < 10; k++) {
      const t0 = k * MS;
      b.span("scope", "step", t0, t0 + MS);
      const each = (800 * US) / calls;
      for (let c = 0; c < calls; c++) b.span("python", "prep", t0 + c * each, t0 + (c + 1) * each, { file: "prep.py", line: 5 });
    }
    if (shape) b.t.meta.codeShapes = [{ name: "prep", file: "prep.py", line: 5, ...shape }];
    return b.t;
  }
  // --window auto, as the commands pick: the instances of scope `step`, 10 ms
  const finding = (t: Trace) => analyze(t, { path: "x", window: "auto" }).findings.find((f) => f.rule === "python_preprocessing")!;

  test("a loop: the Python loop is named, and replacing it is the advice", () => {
    const f = finding(cpuBound(1, { instructions: 40, loop: true }));
    expect(f.title).toBe("Python loop in `prep` (prep.py:5) in scope `step` takes 80 % of the CPU time in the steady state");
    expect(f.suggestions[0]).toBe("Make `prep` (prep.py:5) in scope `step` cheaper: it ran 80 % of the CPU busy time in the window (8 ms over 10 calls) in its own code, a loop (its bytecode and the C functions the loop calls, NumPy's included).");
    expect(f.suggestions[1]).toStartWith("Replace the per-element Python loop with NumPy or torch operations");
    expect(f.evidence.code).toEqual({ instructions: 40, loop: true });
  });

  test("loop-free and called often: the number of calls is named, and batching them is the advice", () => {
    // 400 calls a step of 2 µs each: under 10 × its 30 instructions' bound, so not native_code's
    const f = finding(cpuBound(400, { instructions: 30, loop: false }));
    expect(f.title).toBe("`prep` (prep.py:5) in scope `step` takes 80 % of the CPU time over 4000 calls in the steady state");
    expect(f.suggestions[0]).toStartWith("Call `prep` (prep.py:5) in scope `step` less often: it ran 80 % of the CPU busy time in the window (8 ms over 4000 calls), 2 µs per call in its own code, which has no loop");
    expect(f.suggestions[1]).toStartWith("Replace the per-element calls with NumPy or torch operations over whole arrays, in the loop that calls it");
    expect(f.evidence.code).toEqual({ instructions: 30, loop: false });
  });

  test("bytecode not recorded: not called pure Python, and the time may be C code it calls", () => {
    const f = finding(cpuBound(1));
    expect(f.title).toBe("`prep` (prep.py:5) in scope `step` takes 80 % of the CPU time in its own code in the steady state");
    expect(f.title).not.toContain("Pure-Python");
    expect(f.suggestions[0]).toContain("That time may be Python or C functions it calls (NumPy, builtins)");
    expect(f.suggestions[1]).toStartWith("If it loops over elements in Python, replace the loop");
    expect(f.evidence.code).toBeNull();
  });
});

describe("a steady state too short to diagnose", () => {
  // a script that does next to nothing after start-up: 10 calls of 0.2 ms, the first to the last 2.45 ms
  function tiny(): Trace {
    const b = new Builder();
    b.span("python", "<module>", 0, 2.5 * MS, { file: "ok.py", line: 1 });
    for (let k = 0; k < 10; k++) b.span("python", "prep", k * 250 * US, k * 250 * US + 200 * US, { file: "prep.py", line: 5 });
    return b.t;
  }

  test("--window auto: classified unknown, saying why and what to do, and no CPU findings (it named `prep` as 80 % of the CPU time)", () => {
    const r = analyze(tiny(), { path: "x", window: "auto" });
    expect(r.bottleneck).toEqual({
      classification: "unknown",
      confidence: 0,
      reason: "the steady state lasts only 2.45 ms: too little work to diagnose; profile more of it (more iterations, a longer input); no GPU activity was recorded",
    });
    expect(r.findings.map((f) => f.rule)).toEqual([]);
  });

  test("--window all on a run that is almost all start-up: the same unknown, and the start-up finding (it said Balanced: 'the threads ran 0.1 %')", () => {
    const t = tiny();
    t.meta.processStartNs = -400 * MS; // the interpreter started 400 ms before the first call
    t.meta.tracerStartNs = -10 * MS;
    const r = analyze(t, { path: "x", window: "all" });
    expect(r.bottleneck).toEqual({
      classification: "unknown",
      confidence: 0,
      reason: "start-up takes 99.4 % of the run, and the work after it lasts only 2.50 ms: too little work to diagnose; profile more of it (more iterations, a longer input); no GPU activity was recorded",
    });
    expect(r.findings.map((f) => f.rule)).toEqual(["startup_dominates"]);
    expect(r.findings[0]!.title).toBe("Start-up takes 99.4 % of the run: interpreter start 390 ms, imports 0 ms, other set-up 10 ms");
    // the same start-up as --window auto measures
    expect(r.startup).toEqual(analyze(t, { path: "x", window: "auto" }).startup);
  });

  test("a window the user names is diagnosed whatever its length", () => {
    const r = analyze(tiny(), { path: "x", window: "all" });
    expect(r.bottleneck.classification).toBe("cpu_bound");
    expect(r.findings.map((f) => f.rule)).toEqual(["python_preprocessing"]);
  });
});

describe("python_preprocessing names system calls when its thread's time is in the kernel", () => {
  /** 10 steps of 20 ms, all CPU: a loop `load` (load.py:3) 16 ms a step; /proc samples of its thread every 10 ms (90 % busy, `system` % of it in the kernel). */
  function readLoop(system?: number): Trace {
    const b = new Builder();
    b.span("python", "main", 0, 200 * MS, { file: "infer.py", line: 1 });
    for (let k = 0; k < 10; k++) {
      const t0 = k * 20 * MS;
      b.span("scope", "step", t0, t0 + 20 * MS);
      b.span("python", "load", t0, t0 + 16 * MS, { file: "load.py", line: 3 });
    }
    b.t.meta.codeShapes = [{ name: "load", file: "load.py", line: 3, instructions: 40, loop: true }];
    for (let ts = 0; ts <= 200 * MS; ts += 10 * MS) b.counter(`cpu thread ${MAIN}`, ts, system === undefined ? { utilization_pct: 90 } : { utilization_pct: 90, system_pct: (90 * system) / 100 });
    return b.t;
  }
  const finding = (t: Trace) => analyze(t, { path: "x" }).findings.find((f) => f.rule === "python_preprocessing")!;

  test("40 % of the thread's CPU time in the kernel: fewer system calls and larger reads are the advice, not NumPy", () => {
    const f = finding(readLoop(40));
    expect(f.title).toBe("`load` (load.py:3) in scope `step` takes 80 % of the CPU time, and its thread spends 40 % of its CPU time in the kernel (system calls)");
    expect(f.suggestions[0]).toStartWith("Make fewer system calls in `load` (load.py:3) in scope `step`: it ran 80 % of the CPU busy time in the window (160 ms over 10 calls), and its thread spent 40 % of its CPU time in the kernel, not in Python");
    expect(f.suggestions[0]).toContain("Read files whole or in large blocks (f.read(), np.fromfile, mmap)");
    expect(f.suggestions[1]).toStartWith("If it reads many small files, pack them into a few large ones");
    expect(f.suggestions.join(" ")).not.toContain("NumPy or torch operations");
    expect(f.evidence.kernel_pct_of_thread_cpu).toBe(40);
  });

  test("10 % in the kernel, or a trace without the kernel's share: the Python loop, as before", () => {
    const low = finding(readLoop(10));
    expect(low.title).toStartWith("Python loop in `load` (load.py:3)");
    expect(low.evidence.kernel_pct_of_thread_cpu).toBe(10);
    const old = finding(readLoop());
    expect(old.title).toStartWith("Python loop in `load` (load.py:3)");
    expect(old.evidence.kernel_pct_of_thread_cpu).toBeNull();
  });
});

describe("library_code: a library's Python code, and the user code that calls into it", () => {
  const NP = "/venv/lib/python3.11/site-packages/numpy/_core/_methods.py";
  /** 10 steps of 1 ms: `normalize` (prep.py:3) calls numpy's `_std` 4 times a step, 180 µs each, `_std` inside it runs `_var` 150 µs. */
  function numpyLoop(): Trace {
    const b = new Builder();
    b.span("python", "main", 0, 10 * MS, { file: "infer.py", line: 1 });
    for (let k = 0; k < 10; k++) {
      const t0 = k * MS;
      b.span("scope", "step", t0, t0 + MS);
      b.span("python", "normalize", t0, t0 + 900 * US, { file: "prep.py", line: 3 });
      for (let c = 0; c < 4; c++) {
        const s = t0 + 100 * US + c * 200 * US;
        b.span("python", "_std", s, s + 180 * US, { file: NP, line: 200 });
        b.span("python", "_var", s + 10 * US, s + 160 * US, { file: NP, line: 148 });
      }
    }
    return b.t;
  }
  const finding = (t: Trace) => analyze(t, { path: "x" }).findings.find((f) => f.rule === "library_code");

  test("numpy's functions, their share, and the user function that calls them", () => {
    const f = finding(numpyLoop())!;
    // numpy's self time: 4 × 180 µs a step of 1 ms busy
    expect(f.title).toBe("`numpy` takes 72 % of the CPU time in its Python functions and the C code they call: `_var` (_core/_methods.py:148) 60 %, `_std` (_core/_methods.py:200) 12 %, called from `normalize` (prep.py:3)");
    expect(f.suggestions[0]).toBe("Call into `numpy` less often from `normalize` (prep.py:3): it made at least 40 calls into it (`_std` ×40; calls shorter than --min-duration-us are summed, not counted here), 7.2 ms in all; one call over a whole batch pays `numpy`'s per-call work once instead of once per item.");
    expect(f.suggestions[1]).toStartWith("Call NumPy on whole batches: stack the items into one array (np.stack)");
    expect(f.evidence).toMatchObject({ package: "numpy", stdlib: false, self_ms: 7.2, caller: { function: "normalize", file: "prep.py", line: 3, calls_into: 40, ms_into: 7.2 } });
    expect(f.estimated_saving).toMatchObject({ ms: null, basis: "not estimated: how much of `numpy`'s time a batched call saves depends on the call" });
  });

  test("a standard-library module; no user caller kept: how to find one", () => {
    const b = new Builder();
    for (let k = 0; k < 10; k++) b.span("python", "decode", k * MS, k * MS + 800 * US, { file: "/usr/lib/python3.11/json/decoder.py", line: 332 });
    const f = finding(b.t)!;
    expect(f.title).toStartWith("The standard library's `json` takes 100 % of the CPU time in its Python functions and the C code they call: `decode` (json/decoder.py:332) 100 %");
    expect(f.title).not.toContain("called from");
    expect(f.suggestions[0]).toStartWith("Find the code that calls into the standard library's `json`: the flame graph");
    expect(f.suggestions[1]).toStartWith("Encode and decode with orjson (or msgspec)");
  });

  test("torch's module machinery: PyTorch's advice, CUDA graphs instead of moving the work off the path", () => {
    const b = new Builder();
    for (let k = 0; k < 10; k++) {
      b.span("python", "generate", k * MS, k * MS + 900 * US, { file: "serve.py", line: 7 });
      b.span("python", "_call_impl", k * MS + 50 * US, k * MS + 850 * US, { file: "/venv/lib/python3.11/site-packages/torch/nn/modules/module.py", line: 1740 });
    }
    const f = finding(b.t)!;
    expect(f.title).toContain("`torch` takes 88.9 % of the CPU time");
    expect(f.title).toEndWith("called from `generate` (serve.py:7)");
    expect(f.suggestions[1]).toStartWith("Cut PyTorch's Python overhead");
    expect(f.suggestions[2]).toStartWith("Where the GPU waits for these launches, replay them without the Python: CUDA graphs");
  });

  test("logging: records off the request path and cheaper records, not 'a compiled replacement' or DataLoader workers", () => {
    const LOG = "/usr/lib/python3.11/logging/__init__.py";
    const b = new Builder();
    for (let k = 0; k < 10; k++) {
      b.span("python", "handle", k * MS, k * MS + 900 * US, { file: "app.py", line: 4 });
      b.span("python", "Logger.info", k * MS + 50 * US, k * MS + 850 * US, { file: LOG, line: 1477 });
    }
    const f = finding(b.t)!;
    expect(f.title).toStartWith("The standard library's `logging` takes 88.9 % of the CPU time");
    expect(f.suggestions[1]).toStartWith("Take the records off the request path: a logging.handlers.QueueHandler");
    expect(f.suggestions[2]).toStartWith("Make each record cheaper (the logging docs' Optimization section)");
    expect(f.suggestions.join(" ")).not.toContain("DataLoader");
  });

  test("below 25 % of the CPU busy time, or the user's own code: no finding", () => {
    const b = new Builder();
    for (let k = 0; k < 10; k++) {
      b.span("python", "work", k * MS, k * MS + MS, { file: "app.py", line: 1 });
      b.span("python", "_var", k * MS, k * MS + 200 * US, { file: NP, line: 148 });
    }
    expect(finding(b.t)).toBeUndefined();
    expect(rules(b.t)).toContain("python_preprocessing");
  });
});

describe("blocking_calls: the main thread blocked in sleeps, fsync and writes, child processes or locks", () => {
  /** 10 steps of 1 ms: `handle` (app.py:3) runs the whole step, blocked in `calls` ([name, µs]) one after another from its start. */
  function blocked(calls: [string, number][], frames: [string, string][] = []): Trace {
    const b = new Builder();
    for (let k = 0; k < 10; k++) {
      const t0 = k * MS;
      b.span("python", "handle", t0, t0 + MS, { file: "app.py", line: 3 });
      for (const [name, file] of frames) b.span("python", name, t0, t0 + MS, { file, line: 1 });
      let at = t0;
      for (const [call, us] of calls) {
        b.span("wait", call, at, at + us * US);
        at += us * US;
      }
    }
    return b.t;
  }
  const finding = (t: Trace) => analyze(t, { path: "x" }).findings.find((f) => f.rule === "blocking_calls");

  test("a sleep: named with where it is called, and removing it is the advice", () => {
    const f = finding(blocked([["time.sleep", 900]]))!;
    expect(f.title).toBe("The main thread is blocked 90 % of the time, mostly waiting for sleep: `time.sleep` in `handle` (app.py:3), 90 %");
    expect(f.suggestions[0]).toBe("Remove the sleep from the processing path, or shorten it: `time.sleep` in `handle` (app.py:3) held the thread 9.00 ms over 10 calls; a fixed delay adds its whole length to every item it is on the way of.");
    expect(f.suggestions[1]).toStartWith("Wait for the event itself instead of sleeping");
    expect(f.evidence).toEqual({ blocked_ms: 9, blocked_pct: 90, window_ms: 10, waits: [{ on: "sleep", call: "time.sleep", function: "handle", ms: 9, count: 10 }] });
    expect(f.estimated_saving!.window_ms).toBe(9);
  });

  test("fsync, then writes: syncing less often is the advice, the writes named next", () => {
    const f = finding(blocked([["os.fsync", 500], ["io.BufferedWriter.write", 100]]))!;
    expect(f.title).toBe("The main thread is blocked 60 % of the time, mostly waiting for the disk (fsync): `os.fsync` in `handle` (app.py:3), 50 %");
    expect(f.suggestions[0]).toStartWith("Sync less often: `os.fsync` in `handle` (app.py:3) waited for the disk 5.00 ms over 10 calls");
    expect(f.suggestions[2]).toBe("Next: a write (disk or pipe) 10 % (`io.BufferedWriter.write` in `handle` (app.py:3)).");
    // made in a library's function: the user's code above it is where to look
    const lib = finding(blocked([["os.fsync", 500]], [["FileHandler.flush", "/usr/lib/python3.11/logging/__init__.py"]]))!;
    expect(lib.title).toEndWith("`os.fsync` in `handle` (app.py:3), 50 %");
    expect(lib.evidence.waits).toEqual([{ on: "the disk (fsync)", call: "os.fsync", function: "FileHandler.flush", caller: "handle", ms: 5, count: 10 }]);
  });

  test("Thread.start's wait for the new thread is start-up, not a lock another thread holds", () => {
    const f = finding(blocked([["lock.acquire", 400]], [["Thread.start", "/usr/lib/python3.11/threading.py"], ["Event.wait", "/usr/lib/python3.11/threading.py"], ["Condition.wait", "/usr/lib/python3.11/threading.py"]]))!;
    expect(f.title).toBe("The main thread is blocked 40 % of the time, mostly waiting for a thread to start (Thread.start): `lock.acquire` in `handle` (app.py:3), 40 %");
    expect(f.suggestions[0]).toStartWith("Start threads once: `lock.acquire` in `handle` (app.py:3) waited 4.00 ms over 10 calls for new threads to begin running");
  });

  test("one call in one function, waiting for two things, is two waits: a thread starting, then a pool's results", () => {
    const TH = "/usr/lib/python3.11/threading.py";
    const b = new Builder();
    b.span("python", "<module>", 0, 10 * MS, { file: "app.py", line: 1 });
    b.span("python", "Thread.start", 0, MS, { file: TH, line: 964 });
    b.span("python", "Condition.wait", 0, MS, { file: TH, line: 295 });
    b.span("wait", "lock.acquire", 0, MS);
    b.span("python", "Pool.map", MS, 10 * MS, { file: "/usr/lib/python3.11/multiprocessing/pool.py", line: 367 });
    b.span("python", "Condition.wait", MS, 10 * MS, { file: TH, line: 295 });
    b.span("wait", "lock.acquire", MS, 10 * MS);
    const r = analyze(b.t, { path: "x" });
    expect(r.cpu.waits!.map((w) => [w.on, w.ms])).toEqual([
      ["other processes (multiprocessing)", 9],
      ["a thread to start (Thread.start)", 1],
    ]);
    // the pool's 90 % is work in other processes: not a blocking call (it was, merged under the first one's kind)
    expect(r.findings.map((f) => f.rule)).not.toContain("blocking_calls");
  });

  test("not for waits other rules explain (input, futures), nor below 25 % of the window", () => {
    // a select under an event loop: waiting_for_input's; a lock under Future.result: work on other threads
    expect(finding(blocked([["select.epoll.poll", 900]], [["BaseEventLoop._run_once", "/usr/lib/python3.11/asyncio/base_events.py"]]))).toBeUndefined();
    expect(finding(blocked([["lock.acquire", 900]], [["Future.result", "/usr/lib/python3.11/concurrent/futures/_base.py"]]))).toBeUndefined();
    expect(finding(blocked([["time.sleep", 240]]))).toBeUndefined();
    expect(finding(blocked([["time.sleep", 260]]))).toBeDefined();
  });
});

describe("waiting_for_input on a queue names the thread that likely fills it", () => {
  const QM = "/usr/lib/python3.11/queue.py";
  /** 10 steps of 1 ms: the main thread waits in Queue.get 900 µs; `producer` (tid 202) sleeps 950 µs of each and runs 50 µs. */
  function queueFed(): Trace {
    const b = new Builder();
    b.t.threadNames.set(202, "Thread-1 (producer)");
    for (let k = 0; k < 10; k++) {
      const t0 = k * MS;
      b.span("python", "loop", t0, t0 + MS, { file: "app.py", line: 9 });
      b.span("python", "Queue.get", t0, t0 + 900 * US, { file: QM, line: 154 });
      b.span("wait", "lock.acquire", t0, t0 + 900 * US);
      b.span("python", "producer", t0, t0 + MS, { file: "app.py", line: 3 }, 202);
      b.span("wait", "time.sleep", t0, t0 + 950 * US, {}, 202);
    }
    return b.t;
  }

  test("its running and waiting share, and what it mostly waited for", () => {
    const f = analyze(queueFed(), { path: "x" }).findings.find((x) => x.rule === "waiting_for_input")!;
    expect(f.title).toBe("Not CPU-bound: the main thread waits for input 90 % of the time (a queue (the producer side))");
    expect(f.suggestions[2]).toBe(
      "Look at what feeds the queue: the other thread with the most time traced, `Thread-1 (producer)`, ran 5 % of the window and waited 95 %, mostly for sleep (`time.sleep` in `producer`); if it is the one that fills the queue, its time is the loop's.",
    );
  });
});
