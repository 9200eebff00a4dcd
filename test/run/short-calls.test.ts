// Short calls summed instead of kept (--min-duration-us, docs/analysis.md "Short calls"): their
// time is the enclosing span's `hidden_ns` in the trace, so `analyze` of the saved trace gives
// the hot functions `run` gave. Before, Python spans were written without it: re-read, a caller
// of many short functions had their time as its own self time (a DataLoader example's
// `__getitem__`: 578 ms instead of 436 ms), and a finding could appear only in one of the two.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Report } from "../../src/analyze/report-types.ts";
import { cli } from "../helpers.ts";
import { inferscopeRun, spans } from "./helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

describe("short calls summed into their caller", () => {
  test("the caller's span keeps their time as hidden_ns, and analyze of the trace gives run's hot functions", () => {
    const r = inferscopeRun(["--quiet", "--formats", "json", "--window", "all", "--min-duration-us", "20", "calls.py", "20000"]);
    expect(r.code).toBe(0);
    const batches = spans(r.trace!, "python").filter((e) => e.name === "batch");
    expect(batches.length).toBeGreaterThan(0);
    expect(batches.every((e) => Number(e.args?.hidden_ns) > 0)).toBe(true); // leaf() ×1000 inside each

    const ran = JSON.parse(readFileSync(join(r.runDir!, "report.json"), "utf8")) as Report;
    const again = cli(["analyze", join(r.runDir!, "trace.json"), "-f", "json", "--window", "all"]);
    expect(again.code).toBe(0);
    const read = JSON.parse(again.stdout) as Report;
    const rows = (x: Report) => x.cpu.top_functions!.map((f) => [f.function, f.calls, f.self_ms, f.total_ms]);
    expect(rows(read)).toEqual(rows(ran));
  });
});
