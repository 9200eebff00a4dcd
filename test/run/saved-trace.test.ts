// `inferscope analyze` of the trace a run wrote gives the report the run wrote: the same figures,
// findings and verdict (only the trace's path and how events are counted differ). Run with the
// default --min-duration-us, so short calls are summed (docs/analysis.md "Short calls").
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Report } from "../../src/analyze/report-types.ts";
import { cli } from "../helpers.ts";
import { inferscopeRun } from "./helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

const comparable = (r: Report) => ({ ...r, source: { ...r.source, path: "", events: 0 } });

describe("analyze of a run's trace", () => {
  test("gives the run's report (CPU only: the clock error bound stays unknown, not 0)", () => {
    const r = inferscopeRun(["--quiet", "--formats", "json", "--min-duration-us", "50", "calls.py", "20000", "sleep"]);
    expect(r.code).toBe(0);
    const ran = JSON.parse(readFileSync(join(r.runDir!, "report.json"), "utf8")) as Report;
    const again = cli(["analyze", join(r.runDir!, "trace.json"), "-f", "json"]);
    expect(again.code).toBe(0);
    const read = JSON.parse(again.stdout) as Report;
    expect(read.clock.error_bound_us).toBeNull();
    expect(comparable(read)).toEqual(comparable(ran));
  });
});
