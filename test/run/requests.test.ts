// Requests marked across threads (begin on one, end on another) and asyncio tasks (interleaved on
// one thread), end to end: `inferscope run` → report.json / report.md.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { inferscopeRun } from "./helpers.ts";

setDefaultTimeout(120_000);

describe("requests in a run", () => {
  test("18 requests, 57 tokens; each slow request's latency within the script's own bounds of its begin and end", () => {
    const r = inferscopeRun(["--formats", "json,md", "--top", "30", "requests.py"]);
    expect(r.code).toBe(0);
    const bounds = JSON.parse(r.stdout) as Record<string, [number, number, number, number]>;
    const report = JSON.parse(readFileSync(join(r.runDir!, "report.json"), "utf8"));
    const q = report.requests;
    expect(q.count).toBe(18);
    expect(q.unfinished).toBe(0);
    // thread requests: 4 fronts × (2 + 3 + 4) tokens; asyncio: 1 + 2 + … + 6
    expect(q.tokens).toBe(4 * 9 + 21);
    expect(q.ttft.count).toBe(18);
    expect(q.itl.count).toBe(57 - 18);
    expect(q.slowest.length).toBe(18);
    for (const s of q.slowest) {
      const [t0, t1, t2, t3] = bounds[s.id]!;
      expect(s.latency_ms * 1e6).toBeGreaterThanOrEqual(t2 - t1 - 1); // float ms back to ns
      expect(s.latency_ms * 1e6).toBeLessThanOrEqual(t3 - t0 + 1);
      expect(s.queue_ms === null).toBe(s.id.startsWith("a")); // the thread requests have a schedule mark
    }
    expect(readFileSync(join(r.runDir!, "report.md"), "utf8")).toContain("## Requests\n\n18 requests, 57 tokens.");
  });
});
