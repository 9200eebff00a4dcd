// The bounded trace buffer in the profiled process: with a tiny --trace-size-mb, `spill` loses
// nothing (same events as a run with a big buffer) and `wrap` keeps the newest events and
// reports exactly how many it dropped.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { cleanEnv } from "../helpers.ts";
import { findPython, inferscopeRun, instants, PYTHON, spans, type ChromeTrace } from "./helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

// 300 000 leaf calls + 300 batch calls + 300 scopes + 30 marks ≈ 9.6 MB of (word, ts) pairs:
// many 64 KiB chunks at --trace-size-mb 1.
const ARGS = ["--python-calls", "user", "calls.py", "300000"];
const events = (t: ChromeTrace) => spans(t, "python").length + spans(t, "scope").length + instants(t).length;

const VARIANTS = [
  ["default", PYTHON, {}],
  ["default, pure-Python tracer", PYTHON, { _INFERSCOPE_PURE_PYTHON: "1" }],
  ["3.12", findPython("3.12"), {}],
] as const;

for (const [label, python, extraEnv] of VARIANTS) {
  describe.skipIf(python === null)(`trace buffer (${label})`, () => {
    const env = cleanEnv(extraEnv);
    const run = (args: string[]) => inferscopeRun(args, { env });
    const big = run(["--python", python!, "--trace-size-mb", "100", ...ARGS]);
    const total = big.trace ? events(big.trace) : -1;

    test("a big buffer: every call recorded, nothing dropped", () => {
      expect(big.code).toBe(0);
      expect(spans(big.trace!, "python").filter((e) => e.name === "leaf")).toHaveLength(300000);
      expect(big.trace!.inferscope.dropped.python).toBe(0);
      expect(big.trace!.inferscope.buffer).toEqual({ policy: "spill", sizeMb: 100 });
    });

    test("spill with 1 MB: chunks go to disk, the same events as the big buffer", () => {
      const r = run(["--python", python!, "--trace-size-mb", "1", "--buffer", "spill", ...ARGS]);
      expect(r.code).toBe(0);
      expect(events(r.trace!)).toBe(total);
      expect(r.trace!.inferscope.dropped.python).toBe(0);
      // ~9.6 MB of events through 64 KiB chunks: they really went to disk on the way.
      expect((r.trace!.inferscope.pythonTracer as { spilledChunks: number }).spilledChunks).toBeGreaterThan(100);
      expect((big.trace!.inferscope.pythonTracer as { spilledChunks: number }).spilledChunks).toBeLessThan(20);
    });

    test("wrap with 1 MB: keeps the newest, reports the exact number dropped", () => {
      const r = run(["--python", python!, "--trace-size-mb", "1", "--buffer", "wrap", ...ARGS]);
      expect(r.code).toBe(0);
      const dropped = r.trace!.inferscope.dropped.python!;
      expect(dropped).toBeGreaterThan(200000);
      // waits among the dropped: a start-up read that blocked under load (not in `events`, not
      // in every run: once seen as `events + dropped` one above `total` on 3.12)
      expect(events(r.trace!) + dropped - (r.trace!.inferscope.dropped.python_waits ?? 0)).toBe(total);
      expect(r.trace!.inferscope.buffer).toEqual({ policy: "wrap", sizeMb: 1 });
      // The newest survive: the last batch scope is there, the first is not.
      const batches = spans(r.trace!, "scope").map((e) => e.args!.j as number);
      expect(batches).toContain(299);
      expect(batches).not.toContain(0);
      expect(r.stderr).toContain(`dropped the ${dropped} oldest Python events`);
    });

    test("wrap with 1 MB after a 2 ms sleep: the dropped wait is counted, and said apart", () => {
      const r = run(["--python", python!, "--trace-size-mb", "1", "--buffer", "wrap", ...ARGS, "sleep"]);
      expect(r.code).toBe(0);
      const { python: dropped, python_waits: waits = 0 } = r.trace!.inferscope.dropped;
      expect(events(r.trace!) + dropped! - waits).toBe(total);
      if (!(r.trace!.inferscope.pythonTracer as { waits: boolean }).waits) return expect(waits).toBe(0); // the pure-Python tracer records no waits
      expect(waits).toBeGreaterThanOrEqual(1);
      expect(r.stderr).toContain(`dropped the ${dropped} oldest Python events (${waits} of them waits)`);
    });
  });
}
