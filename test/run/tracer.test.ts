// The Python tracer through `inferscope run`, on every interpreter found (setprofile before
// 3.12, sys.monitoring after): threads with their own scope nesting, generators, coroutines,
// exceptions, the user-code filter and the minimum duration.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { cleanEnv } from "../helpers.ts";
import { findPython, inferscopeRun, instants, nestingViolation, ns, PYTHON, spans, type ChromeEvent, type ChromeTrace } from "./helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

const PYTHONS = [["default", PYTHON] as const, ...["3.8", "3.12", "3.13"].map((v) => [v, findPython(v)] as const)];

function byTid(events: ChromeEvent[]): Map<number, ChromeEvent[]> {
  const m = new Map<number, ChromeEvent[]>();
  for (const e of events) {
    const l = m.get(e.tid!) ?? [];
    l.push(e);
    m.set(e.tid!, l);
  }
  return m;
}

function threadNames(t: ChromeTrace): Map<number, string> {
  const m = new Map<number, string>();
  for (const e of t.traceEvents) if (e.ph === "M" && e.name === "thread_name") m.set(e.tid!, String(e.args!.name));
  return m;
}

const contains = (outer: ChromeEvent, inner: ChromeEvent) => ns(outer.ts) <= ns(inner.ts) && ns(inner.ts) + ns(inner.dur!) <= ns(outer.ts) + ns(outer.dur!);

for (const [label, python] of PYTHONS) {
  describe.skipIf(python === null)(`tracer (${label}: ${python ?? "not found"})`, () => {
    test("4 threads, each with its own scope nesting, marks and calls on its own lane", () => {
      const r = inferscopeRun(["--python", python!, "threads.py"]);
      expect(r.code).toBe(0);
      const t = r.trace!;
      const names = threadNames(t);
      const workers = [...names].filter(([, n]) => n.startsWith("worker-"));
      expect(workers.map(([, n]) => n).sort()).toEqual(["worker-0", "worker-1", "worker-2", "worker-3"]);
      const scopes = byTid(spans(t, "scope"));
      const marks = byTid(instants(t));
      const py = byTid(spans(t, "python"));
      for (const [tid, name] of workers) {
        const k = Number(name.slice("worker-".length));
        const mine = scopes.get(tid) ?? [];
        const outer = mine.filter((e) => e.name === "outer");
        const middle = mine.filter((e) => e.name === "middle");
        const inner = mine.filter((e) => e.name === "inner");
        expect([outer.length, middle.length, inner.length]).toEqual([25, 25, 25]);
        expect(outer.every((e) => e.args!.thread === k)).toBe(true);
        expect(outer.map((e) => e.args!.i)).toEqual(Array.from({ length: 25 }, (_, i) => i));
        expect(nestingViolation(mine)).toBeNull();
        expect(middle.every((m) => outer.some((o) => contains(o, m)))).toBe(true);
        expect(inner.every((i) => middle.some((m) => contains(m, i)))).toBe(true);
        expect((marks.get(tid) ?? []).filter((e) => e.name === "tick" && e.args!.thread === k)).toHaveLength(25);
        const leaf = (py.get(tid) ?? []).filter((e) => e.name === "leaf");
        expect(leaf).toHaveLength(50);
        expect(nestingViolation(py.get(tid)!)).toBeNull();
      }
    });

    test("generators, throw/close, exceptions and coroutines keep the call nesting", () => {
      const r = inferscopeRun(["--python", python!, "--python-calls", "user", "genasync.py"]);
      expect(r.code).toBe(0);
      const py = spans(r.trace!, "python");
      for (const [, lane] of byTid(py)) expect(nestingViolation(lane)).toBeNull();
      const count = (n: string) => py.filter((e) => e.name === n).length;
      expect(count("helper")).toBe(26); // 5 + 5 in consume, 1 in the throw, 3 in fails, 12 in workers
      expect(count("numbers")).toBe(6); // one span per resume: 5 yields + the final return
      expect(count("fails")).toBe(3); // left by an exception: still closed
      expect(count("gen_with_throw")).toBe(3); // next, throw, close
      expect(count("worker")).toBe(16); // 4 coroutines × (3 awaits + the return)
      // Each helper call sits inside the frame that called it.
      const callers = py.filter((e) => ["numbers", "consume", "gen_with_throw", "fails", "worker"].includes(e.name));
      for (const h of py.filter((e) => e.name === "helper")) expect(callers.some((c) => c.tid === h.tid && contains(c, h))).toBe(true);
      // User-code filter: nothing from the standard library (asyncio, threading…).
      expect(py.filter((e) => String(e.args?.file).includes("asyncio"))).toHaveLength(0);
      // (imports are spans of their own, file "<import>": the start-up phase, whatever --python-calls)
      expect(py.every((e) => String(e.args?.file).endsWith("genasync.py") || e.args?.file === "<import>")).toBe(true);
      // Decorated coroutines that overlap without nesting: each scope pairs with its own call —
      // the first mark after its begin and the last before its end are both that call's (no
      // await lies between them), and it lasts at least that call's sleep.
      const acoro = spans(r.trace!, "scope").filter((e) => e.name === "acoro").sort((a, b) => a.ts - b.ts);
      expect(acoro).toHaveLength(4);
      const marks = instants(r.trace!).sort((a, b) => a.ts - b.ts);
      const marksIn = marks.filter((m) => m.name === "acoro-in");
      const marksOut = marks.filter((m) => m.name === "acoro-out");
      expect(marksIn).toHaveLength(4);
      acoro.forEach((e) => {
        expect(e.args).toEqual({ kind: "async" });
        const k = marksIn.find((m) => ns(m.ts) >= ns(e.ts))!.args!.k as number;
        const out = marksOut.filter((m) => ns(m.ts) <= ns(e.ts) + ns(e.dur!));
        expect(out[out.length - 1]!.args!.k).toBe(k);
        expect(e.dur! / 1000).toBeGreaterThanOrEqual(20 + 5 * k - 1);
      });
      expect(spans(r.trace!, "scope").filter((e) => e.name === "agen")).toHaveLength(1);
    });
  });
}

describe("tracer backends", () => {
  for (const [label, python] of PYTHONS) {
    test.skipIf(python === null)(`the C hot path and the pure-Python fallback record the same calls (${label})`, () => {
      const c = inferscopeRun(["--python", python!, "--python-calls", "user", "genasync.py"]);
      const pure = inferscopeRun(["--python", python!, "--python-calls", "user", "genasync.py"], { env: cleanEnv({ _INFERSCOPE_PURE_PYTHON: "1" }) });
      const tracer = (t: ChromeTrace) => (t.inferscope.pythonTracer as { backend: string }).backend;
      expect(tracer(c.trace!)).toEndWith("+c");
      expect(tracer(pure.trace!)).not.toContain("+c");
      // Imports aside: a module the C hot path's set-up imported (select) is no import of the script's.
      const names = (t: ChromeTrace) =>
        spans(t, "python")
          .filter((e) => e.args!.file !== "<import>")
          .map((e) => `${e.name}@${e.args!.line}`)
          .sort();
      expect(names(c.trace!)).toEqual(names(pure.trace!));
      expect(names(c.trace!).length).toBeGreaterThan(60);
    });

    test.skipIf(python === null)(`a forked child records into its own lane; the parent's recording is untouched (${label})`, () => {
      const r = inferscopeRun(["--python", python!, "forks.py"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe("child active=True\nparent active=True\n");
      const py = spans(r.trace!, "python");
      const pids = [...new Set(py.map((e) => e.pid))];
      expect(pids).toHaveLength(2);
      const parent = py.find((e) => e.name === "<module>" && !e.args?.unfinished)!.pid;
      const child = pids.find((p) => p !== parent)!;
      expect(py.filter((e) => e.pid === parent && e.name === "work")).toHaveLength(5);
      expect(py.filter((e) => e.pid === child && e.name === "work")).toHaveLength(100);
      // the child's lane starts inside the calls it was forked in (<module>), so its ends pair up
      expect(py.filter((e) => e.pid === child && e.name === "<module>")).toHaveLength(1);
      const scopes = spans(r.trace!, "scope");
      expect(scopes.filter((e) => e.pid === parent).map((e) => e.name)).toEqual(["before-fork"]);
      expect(scopes.filter((e) => e.pid === child).map((e) => e.name)).toEqual(["in-child"]);
      expect(r.trace!.inferscope.dropped.python).toBe(0);
    });

    test.skipIf(python === null)(`--no-follow-children: a forked child records nothing and does not flush (${label})`, () => {
      const r = inferscopeRun(["--python", python!, "--no-follow-children", "forks.py"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe("child active=False\nparent active=True\n");
      const py = spans(r.trace!, "python");
      const pids = new Set(r.trace!.traceEvents.filter((e) => e.ph !== "M" && e.ph !== "C").map((e) => e.pid));
      expect(pids.size).toBe(1);
      expect(py.filter((e) => e.name === "work")).toHaveLength(5);
      expect(spans(r.trace!, "scope").map((e) => e.name)).toEqual(["before-fork"]);
      expect(r.trace!.inferscope.dropped.python).toBe(0);
    });
  }
});

describe("tracer options", () => {
  test("--python-calls all records the standard library too; none records only scopes and marks", () => {
    const all = inferscopeRun(["--python-calls", "all", "genasync.py"]);
    expect(spans(all.trace!, "python").some((e) => String(e.args?.file).includes("asyncio"))).toBe(true);
    const none = inferscopeRun(["--python-calls", "none", "threads.py"]);
    expect(spans(none.trace!, "python")).toHaveLength(0);
    expect(spans(none.trace!, "scope")).toHaveLength(300);
    expect(instants(none.trace!)).toHaveLength(100);
  });

  test("--min-duration-us drops short calls only", () => {
    const all = inferscopeRun(["--python-calls", "user", "calls.py", "20000"]);
    const some = inferscopeRun(["--python-calls", "user", "--min-duration-us", "200", "calls.py", "20000"]);
    const leafs = (t: ChromeTrace) => spans(t, "python").filter((e) => e.name === "leaf");
    expect(leafs(all.trace!)).toHaveLength(20000);
    // A leaf call takes well under 200 µs: only one the OS preempted could stay.
    expect(leafs(some.trace!).length).toBeLessThan(20);
    expect(leafs(some.trace!).every((e) => e.dur! >= 200)).toBe(true);
    const batches = spans(some.trace!, "python").filter((e) => e.name === "batch");
    expect(batches.length).toBeGreaterThan(0);
    expect(batches.every((e) => e.dur! >= 200)).toBe(true);
    expect(spans(some.trace!, "scope")).toHaveLength(20); // scopes are never filtered
  });
});
