// Per-request figures on a hand-made trace (every number chosen here, so every figure is known).
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { analyze } from "../../src/analyze/index.ts";
import { renderReport } from "../../src/report/render.ts";
import { emptyTrace, type Instant, type Trace } from "../../src/trace/model.ts";

setDefaultTimeout(60_000);

const MS = 1e6;
const mark = (name: string, tsMs: number, args: Record<string, unknown>, tid = 1): Instant => ({ name, ts: tsMs * MS, pid: 1, tid, args });

/** handMadeRequests: three requests on two threads, one hopping threads, one via a `request` scope. */
function handMadeTrace(): Trace {
  const t = emptyTrace("inferscope");
  t.instants.push(
    // a: 0 → 100 ms, scheduled at 20, tokens at 30, 50, 90; begins on thread 1, ends on thread 2
    mark("request.begin", 0, { id: "a" }),
    mark("schedule", 20, { request: "a" }),
    mark("token", 30, { request: "a" }, 2),
    mark("token", 50, { request: "a" }, 2),
    mark("token", 90, { request: "a" }, 2),
    mark("request.end", 100, { id: "a" }, 2),
    // b: 10 → 40 ms, interleaved with a on thread 1, no schedule mark, tokens at 25, 35
    mark("request.begin", 10, { id: "b" }),
    mark("token", 25, { request: "b" }),
    mark("token", 35, { request: "b" }),
    mark("request.end", 40, { id: "b" }),
    // d: begins, never ends
    mark("request.begin", 150, { id: "d" }),
  );
  // c: a `request` scope with an id, 200 → 260 ms, one token at 230
  t.spans.push({ cat: "scope", name: "request", start: 200 * MS, end: 260 * MS, pid: 1, tid: 3, args: { id: 7 } });
  t.instants.push(mark("token", 230, { request: 7 }, 3));
  // a's CPU work: three scopes tagged request=a (0-5 ms while queued, 20-40, 60-70 ms)
  t.spans.push({ cat: "scope", name: "parse", start: 0, end: 5 * MS, pid: 1, tid: 1, args: { request: "a" } });
  t.spans.push({ cat: "scope", name: "prefill", start: 20 * MS, end: 40 * MS, pid: 1, tid: 2, args: { request: "a" } });
  t.spans.push({ cat: "scope", name: "decode", start: 60 * MS, end: 70 * MS, pid: 1, tid: 2, args: { request: "a" } });
  // the GPU busy 30-45 ms and 80-85 ms
  t.gpu.push({ kind: "kernel", name: "k1", start: 30 * MS, end: 45 * MS, device: 0, stream: 7 });
  t.gpu.push({ kind: "kernel", name: "k2", start: 80 * MS, end: 85 * MS, device: 0, stream: 7 });
  return t;
}

describe("requests", () => {
  const r = analyze(handMadeTrace(), { path: "hand-made", top: 10 });
  test("latency, TTFT and ITL percentiles over the marked requests (nearest rank)", () => {
    const q = r.requests!;
    expect(q.count).toBe(3);
    expect(q.unfinished).toBe(1);
    expect(q.tokens).toBe(6);
    // latencies 100, 30, 60 ms
    expect(q.latency).toEqual({ count: 3, mean_ms: 190 / 3, p50_ms: 60, p95_ms: 100, p99_ms: 100, max_ms: 100 });
    // TTFT: a 30, b 15, c 30
    expect(q.ttft).toEqual({ count: 3, mean_ms: 25, p50_ms: 30, p95_ms: 30, p99_ms: 30, max_ms: 30 });
    // ITL: a 20, 40; b 10
    expect(q.itl).toEqual({ count: 3, mean_ms: 70 / 3, p50_ms: 20, p95_ms: 40, p99_ms: 40, max_ms: 40 });
  });

  test("the steady-state window does not cut requests: every recorded one counts", () => {
    const w = analyze(handMadeTrace(), { path: "hand-made", top: 10, window: "auto" });
    expect([w.window!.start_ms, w.window!.end_ms]).not.toEqual([0, 260]); // a part of the run
    expect(w.requests).toEqual(r.requests);
  });

  test("the slowest requests with queue / CPU / GPU / idle adding up to the latency", () => {
    expect(r.requests!.slowest.map((s) => s.id)).toEqual(["a", "7", "b"]);
    // a: scheduled at 20, its own CPU 0-5 inside that: queue 15; then GPU 30-45 + 80-85 = 20;
    // CPU 0-5 + 20-40 + 60-70 minus the GPU's 30-40 = 25; idle 100-15-25-20 = 40
    expect(r.requests!.slowest[0]).toEqual({ id: "a", latency_ms: 100, queue_ms: 15, cpu_ms: 25, gpu_ms: 20, idle_ms: 40, tokens: 3, ttft_ms: 30 });
    // b: no schedule mark (queue not measured), no tagged scopes; GPU 30-40
    expect(r.requests!.slowest[2]).toEqual({ id: "b", latency_ms: 30, queue_ms: null, cpu_ms: null, gpu_ms: 10, idle_ms: 20, tokens: 2, ttft_ms: 15 });
  });

  test("Markdown, HTML and JSON show them; a trace without requests has no requests key", () => {
    const md = renderReport(r, "md");
    expect(md).toContain("## Requests\n\n3 requests, 6 tokens; 1 more began and had not ended when the recording stopped (left out).");
    expect(md).toContain("| time to first token | 3 | 25.00 | 30.00 | 30.00 | 30.00 | 30.00 |");
    expect(md).toContain("| `a` | 100.0 | 15.00 | 25.00 | 20.00 | 40.00 | 3 | 30.00 |");
    expect(md).toContain("| `b` | 30.00 | not measured | not measured | 10.00 | 20.00 | 2 | 15.00 |");
    const html = renderReport(r, "html");
    expect(html).toContain('<section id="requests">');
    const json = JSON.parse(renderReport(r, "json"));
    expect(Object.keys(json).indexOf("requests")).toBe(Object.keys(json).indexOf("scopes") + 1);
    const none = analyze(emptyTrace("inferscope"), { path: "empty" });
    expect("requests" in JSON.parse(renderReport(none, "json"))).toBe(false);
  });
});
