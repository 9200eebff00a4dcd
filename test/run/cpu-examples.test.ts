// The five CPU examples (examples/cpu/, torch CPU): each gets the classification and culprit its
// `expect:` line states, never a wait or an import as CPU work in its steady state, torch ops in
// the trace, ≥ 2 suggestions per finding; the DataLoader one has its worker pids. Skipped,
// saying so, without a Python that has torch ($TORCH_PYTHON or /work/venv-torch/bin/python).
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Classification, Report } from "../../src/analyze/report-types.ts";
import { ROOT } from "../helpers.ts";
import { inferscopeRun, spans } from "./helpers.ts";

setDefaultTimeout(300_000); // importing torch takes most of a minute on a loaded 2-core box

const TORCH_PYTHON = process.env.TORCH_PYTHON ?? "/work/venv-torch/bin/python";
const hasTorch = Bun.spawnSync([TORCH_PYTHON, "-c", "import torch"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;
if (!hasTorch) console.error(`cpu-examples: skipped: ${TORCH_PYTHON} cannot import torch (set TORCH_PYTHON to a Python with torch)`);

const CASES: { script: string; classification: Classification; culprit: RegExp; rule?: string }[] = [
  { script: "tokenize_generate", classification: "cpu_bound", culprit: /BPETokenizer\._merge/, rule: "python_preprocessing" },
  { script: "cnn_resize", classification: "cpu_bound", culprit: /resize_bilinear/, rule: "python_preprocessing" },
  { script: "dataloader_workers", classification: "cpu_bound", culprit: /(HashedText\.__getitem__|fnv1a).* in DataLoader worker/, rule: "data_loading_starved" },
  { script: "threadpool_server", classification: "cpu_bound", culprit: /aten::(addmm|linear|mm)/, rule: "thread_oversubscription" },
  { script: "asyncio_batching", classification: "wait_bound", culprit: /event loop waiting for input .*epoll/, rule: "waiting_for_input" },
];

/** Imports: start-up work, never a hot function of the steady state. */
const IMPORTS = /_call_with_frames_removed|_compile_bytecode|^import /;
/**
 * Functions that wait: their waits are never counted as CPU work. The Python code around the
 * wait is (an event loop's EpollSelector.select: ~3 µs per call, 1,779 calls; near the top of
 * a quiet machine's asyncio run), so such a function may rank, by that running time alone.
 */
const WAITERS = /(Condition|Event)\.wait|Queue\.get|Selector\.select|Future\.result|Thread\.join/;

describe.skipIf(!hasTorch)("the CPU examples", () => {
  for (const c of CASES) {
    test(`${c.script}: ${c.classification}, the culprit in the verdict, ≥ 2 suggestions per finding`, () => {
      const r = inferscopeRun(["--python", TORCH_PYTHON, "--min-duration-us", "50", "--formats", "json", join(ROOT, "examples/cpu", `${c.script}.py`)], { cwd: join(ROOT, "examples/cpu") });
      expect(r.code).toBe(0);
      const rep = JSON.parse(readFileSync(join(r.runDir!, "report.json"), "utf8")) as Report;
      expect(rep.bottleneck.classification).toBe(c.classification);
      expect(rep.bottleneck.reason).toMatch(c.culprit);
      expect(rep.window!.mode).toBe("auto");
      expect(rep.startup!.top_importers[0]!.module).toBe("torch");
      for (const f of rep.cpu.top_functions!.slice(0, 3)) {
        expect([f.function, IMPORTS.test(f.function)]).toEqual([f.function, false]);
        // a waiting function ranks by its running time only: its wait, shown apart, is far larger
        if (WAITERS.test(f.function)) expect([f.function, (f.wait_ms ?? 0) > 20 * f.self_ms]).toEqual([f.function, true]);
      }
      if (c.rule) expect(rep.findings.map((f) => f.rule)).toContain(c.rule);
      for (const f of rep.findings) expect([f.rule, f.suggestions.length >= 2]).toEqual([f.rule, true]);
      expect(spans(r.trace!, "cpu_op").some((e) => e.name.startsWith("aten::"))).toBe(true);
      if (c.script === "dataloader_workers") {
        const workers = rep.processes!.filter((p) => p.role === "dataloader worker");
        expect(workers).toHaveLength(2);
        const pids = new Set(r.trace!.traceEvents.map((e) => e.pid));
        for (const w of workers) expect(pids.has(w.pid)).toBe(true);
      }
    });
  }
});
