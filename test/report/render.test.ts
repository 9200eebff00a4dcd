// Rendering a hand-made analysis (test/report/handmade_*.json): golden Markdown and JSON, and the
// HTML's safety properties (escaping, CSP, no network), which do not depend on the analyzer.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Report } from "../../src/analyze/report-types.ts";
import { analysisContext } from "../../src/analyze/index.ts";
import { renderReport } from "../../src/report/render.ts";
import { buildView } from "../../src/report/view-model.ts";
import { golden } from "./golden.ts";
import { syntheticTrace } from "./synthetic.ts";
import handmadeJson from "./handmade_cpu_bound.json";

setDefaultTimeout(60_000); // per file: see test/preload.ts

const handmade = handmadeJson as unknown as Report;
const XSS = "<script>alert(1)</script>";

function clone<T>(x: T): T {
  return structuredClone(x);
}

describe("Markdown", () => {
  const md = renderReport(handmade, "md");
  test("golden", () => golden("handmade_cpu_bound.md", md));
  test("starts with the one-sentence verdict", () => {
    const lines = md.split("\n");
    expect(lines[0]).toBe("# InferScope report");
    expect(lines[2]).toBe(
      "**CPU-bound (confidence 0.86): the GPU is idle 71 % of the time, mostly while the CPU runs `tokenize` (app/preprocess.py:41).**",
    );
  });
  test("findings are ranked by impact, ties by severity then confidence", () => {
    const titles = [...md.matchAll(/^### (\d+)\. (.*)$/gm)].map((m) => m[2]);
    expect(titles).toEqual([
      "Every step copies 256 MiB from pageable memory at 7.2 GB/s",
      "GPU idle 71 % of the time while the host runs `tokenize`",
      "12,480 kernels, 88 % shorter than 10 µs: launch-bound",
    ]);
  });
  test("null metrics read 'not measured'", () => {
    expect(md).toContain("- swap used: not measured");
    expect(md).toContain("| `pt_autograd_0` | 4250 | 1.500 | not measured | not measured | 12 |");
    const r = clone(handmade);
    r.dropped = {};
    r.clock.error_bound_us = null;
    r.cpu.numa = { gpu_node: null, pages_mb_by_node: null, remote_pct: null };
    const md2 = renderReport(r, "md");
    expect(md2).toContain("- dropped events: not measured");
    expect(md2).toContain("- error bound: not measured");
    expect(md2).toContain("- process memory by node: not measured");
    expect(md2).toContain("- GPU's NUMA node: not measured");
  });
  test("trace strings cannot break the Markdown", () => {
    // the XSS kernel is in a code span, the pipe in a scope name does not split the table row
    expect(md).toContain("| `<script>alert(1)</script>` | 3 |");
    expect(md).toContain("| ``log\\|`odd` name`` | 2 |");
    // analyzer text with markup is escaped outside code spans
    expect(md).toContain("\\<b>not bold\\</b>");
    // every row of every table has as many cells as its header
    const cells = (l: string) => l.split(/(?<!\\)\|/).length;
    let header = 0;
    let tables = 0;
    for (const line of md.split("\n")) {
      if (!line.startsWith("|")) {
        header = 0;
        continue;
      }
      if (header === 0) {
        header = cells(line);
        tables++;
      } else expect(`${cells(line)} ${line}`).toBe(`${header} ${line}`);
    }
    expect(tables).toBe(7);
  });
  test("hot functions: after the CPU threads, by self time, names as code, locations escaped", () => {
    const at = md.indexOf("## Hot functions (self time)");
    expect(at).toBeGreaterThan(md.indexOf("## CPU threads"));
    expect(at).toBeLessThan(md.indexOf("## Memory and NUMA"));
    expect(md).toContain("| function | kind | calls | self ms | % of CPU busy | total ms |");
    expect(md).toContain("| `tokenize` (app/preprocess.py:41) | python | 40 | 610.3 | 52 % | 712.5 |");
    expect(md).toContain("| `aten::copy_` | cpu_op | 80 | 96.40 | 8.2 % | 98.00 |");
    expect(md).toContain("| `` <img src=x onerror=alert(5)>\\|`pipe` `` (\\<b>odd\\</b>.py:3) | python | 1,234,567 | 0.004 | < 0.1 % | 0.004 |");
  });
  test("hot functions: not measured (null) and absent (older reports) say so", () => {
    const r = clone(handmade);
    r.cpu.top_functions = null;
    expect(renderReport(r, "md")).toContain(
      "## Hot functions (self time)\n\nNot measured: the trace has no Python calls or torch ops (`inferscope run` records Python calls unless `--python-calls none`; torch.profiler records torch ops, and Python functions with `with_stack=True`).\n\n## Memory and NUMA",
    );
    expect(renderReport(r, "html")).toContain('<h2>Hot functions (self time)</h2>\n\n<p class="muted">Not measured: the trace has no Python calls or torch ops');
    delete r.cpu.top_functions;
    expect(renderReport(r, "md")).toContain("Not measured: the trace has no Python calls or torch ops");
  });
  test("no GPU: the analysis's reason is the verdict, no GPU sections", () => {
    const r = clone(handmade);
    r.gpu = null;
    r.collection = { gpuCollection: "no-driver" };
    r.bottleneck = {
      classification: "unknown",
      confidence: 0,
      reason: "no GPU activity was recorded (GPU collection: no-driver); on the CPU, `tokenize` (app/preprocess.py:41) took the most self time: 51.7 % of `MainThread`'s busy time",
    };
    const out = renderReport(r, "md");
    expect(out.split("\n").slice(2, 5)).toEqual([
      "**Unknown (confidence 0.00): no GPU activity was recorded (GPU collection: no-driver); on the CPU, `tokenize` (app/preprocess.py:41) took the most self time: 51.7 % of `MainThread`'s busy time.**",
      "",
      "- **Trace:** `inferscope-runs/2026-11-23T05-30-00/trace.json` (inferscope, 184,523 events)",
    ]); // the reason is not repeated under the verdict
    // one line says there is no GPU data; no GPU section, no GPU column
    expect(out).toContain("- **GPU:** no GPU data (no NVIDIA driver on this machine): this report covers the CPU side only\n");
    expect(out).not.toContain("## GPU");
    expect(out).not.toMatch(/blocked on GPU|GPU idle ms|compute ms/);
    expect(out).not.toContain("## Top kernels");
    expect(out).toContain("## Hot functions (self time)");
    // a report without a reason still reads
    r.bottleneck.reason = "";
    expect(renderReport(r, "md")).toContain("**Unknown (confidence 0.00): no GPU activity was recorded.**");
  });
  test("start-up: the window line and the section say whether the diagnosis covers it (--window all) or not", () => {
    const r = clone(handmade);
    r.startup = { total_ms: 420, interpreter_ms: 410, imports_ms: 0, other_ms: 10, pct_of_run: 99.8, top_importers: [] };
    r.window = { mode: "auto", how: "the run after start-up", start_ms: 420, end_ms: 421, duration_ms: 1, run_ms: 421 };
    const auto = renderReport(r, "md");
    expect(auto).toContain("- **Steady state:** 1.000 ms, 420.0 ms → 421.0 ms of a 421.0 ms run: the run after start-up; the diagnosis, hot functions and waits cover it (--window all for the whole run)\n");
    expect(auto).toContain("## Start-up\n\nBefore the steady state: interpreter start, imports and model construction (not in the diagnosis above).\n");
    r.window = { mode: "all", how: "the whole run (--window all)", start_ms: 0, end_ms: 421, duration_ms: 421, run_ms: 421 };
    const all = renderReport(r, "md");
    // it suggested --window all under --window all, and said start-up was not diagnosed
    expect(all).toContain("- **Window:** 421.0 ms, 0 ms → 421.0 ms of a 421.0 ms run: the whole run (--window all); the diagnosis, hot functions and waits cover it\n");
    expect(all).toContain("## Start-up\n\nBefore the steady state: interpreter start, imports and model construction (--window all: the diagnosis above covers it from the tracer's start).\n");
  });
  test("no GPU: the largest saving, already in the reason, is named once", () => {
    const r = clone(handmade);
    r.gpu = null;
    for (const [i, f] of r.findings.entries()) {
      const ms = 6.681 / (i + 1);
      f.estimated_saving = { ms, window_ms: ms, pct_of_window: 89.5 / (i + 1), per: "step", scope: "step", steps: 1, basis: "" };
    }
    r.bottleneck = { classification: "cpu_bound", confidence: 0.95, reason: "on the CPU, `f` took the most running time; largest estimated saving: 6.681 ms per `step` (89.5 % of the window), from launch_bound" };
    const verdict = renderReport(r, "md").split("\n")[2]!;
    expect(verdict).toBe("**CPU-bound (confidence 0.95): on the CPU, `f` took the most running time; largest estimated saving: 6.681 ms per `step` (89.5 % of the window), from launch_bound.**");
  });
});

describe("verdict sentences", () => {
  const sentence = (r: Report) => buildView(r).verdict.sentence.map((s) => (s.code ? `\`${s.t}\`` : s.t)).join("");
  test("GPU-bound names the top kernel", () => {
    const r = clone(handmade);
    r.bottleneck = { classification: "gpu_bound", confidence: 0.9, reason: "" };
    r.gpu!.utilization_pct = 97.4;
    expect(sentence(r)).toBe("GPU-bound (confidence 0.90): the GPU is busy 97 % of the time; the top kernel `at::native::vectorized_elementwise_kernel<…>` takes 35 % of it.");
  });
  test("memory-bound counts copies and pageable ones", () => {
    const r = clone(handmade);
    r.bottleneck = { classification: "memory_bound", confidence: 0.8, reason: "" };
    expect(sentence(r)).toBe("Memory-bound (confidence 0.80): copies take 1.49 s, 121 % of the 1.23 s GPU window; 80 of them from pageable memory.");
  });
  test("CPU-bound with a minor top function gives its share", () => {
    const r = clone(handmade);
    r.gpu!.idle.top[0]!.pct_of_idle = 23;
    expect(sentence(r)).toContain("idle 71 % of the time, the largest share (23 %) while the CPU runs `tokenize` (app/preprocess.py:41).");
  });
});

describe("JSON", () => {
  test("golden, and the Report round-trips unchanged", () => {
    const json = renderReport(handmade, "json");
    golden("handmade_cpu_bound.json", json);
    expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(handmade)));
  });
});

describe("HTML", () => {
  const trace = syntheticTrace(20);
  trace.gpu[3]!.name = XSS;
  trace.threadNames.set(4243, `<img src=x onerror=alert(2)>`);
  const r = clone(handmade);
  r.cpu.threads[1]!.name = `<img src=x onerror=alert(3)>`;
  r.scopes[0]!.name = `"><svg onload=alert(4)>`;
  r.cpu.top_functions![1]!.file = `"><svg onload=alert(6)>`;
  const analysis = analysisContext(trace);
  const out = renderReport(r, "html", analysis);

  test("trace strings are escaped everywhere: no markup from the trace survives", () => {
    expect(out).not.toContain(XSS);
    expect(out).not.toContain("<img src=x");
    expect(out).not.toContain("<svg onload");
    expect(out).toContain("<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>");
    expect(out).toContain("&lt;img src=x onerror=alert(3)&gt;");
    // the hot-function table: names, files
    expect(out).toContain("<code>&lt;img src=x onerror=alert(5)&gt;|`pipe`</code>");
    expect(out).toContain("&quot;&gt;&lt;svg onload=alert(6)&gt;");
    // only our own two inline scripts plus the JSON data blocks (timeline, flame graphs)
    const scripts = [...out.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
    expect(scripts).toEqual(["<script>", '<script type="application/json" id="inferscope-timeline">', '<script type="application/json" id="inferscope-flame">', "<script>"]);
  });
  test("embedded timeline JSON escapes '<' and parses back to the names", () => {
    const m = out.match(/<script type="application\/json" id="inferscope-timeline">([\s\S]*?)<\/script>/);
    expect(m).not.toBeNull();
    const raw = m![1]!;
    expect(raw).not.toContain("<");
    expect(raw).toContain("\\u003cscript\\u003ealert(1)\\u003c/script\\u003e");
    const tl = JSON.parse(raw);
    expect(tl.names).toContain(XSS);
    expect(tl.lanes.map((l: { label: string }) => l.label)).toContain("<img src=x onerror=alert(2)>");
  });
  test("self-contained: a CSP that allows only our scripts, no network URL", () => {
    expect(out).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-[A-Za-z0-9+/=]+' 'sha256-[A-Za-z0-9+/=]+'">/);
    expect(out).not.toMatch(/\b(src|href)=["']?(https?:)?\/\//i);
    expect(out).not.toMatch(/@import|url\((?!data:)/i);
    // the hashes are those of the inline scripts as written
    const hashes = [...out.matchAll(/'sha256-([A-Za-z0-9+/=]+)'/g)].map((m) => m[1]);
    const bodies = [...out.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => new Bun.CryptoHasher("sha256").update(m[1]!).digest("base64"));
    expect(bodies).toEqual(hashes as string[]);
  });
  test("readable without JavaScript: verdict, findings and tables are plain HTML", () => {
    const text = out.replace(/<script[\s\S]*?<\/script>/g, "").replace(/<style[\s\S]*?<\/style>/g, "");
    expect(text).toContain("CPU-bound");
    expect(text).toContain('id="finding-1"');
    expect(text).toContain('<table class="sortable" id="tbl-kernels">');
    // hot functions: a sortable table after the CPU threads
    expect(text).toContain('<section id="hot-functions">\n<h2>Hot functions (self time)</h2>');
    expect(text.indexOf('id="tbl-hot-functions"')).toBeGreaterThan(text.indexOf('id="tbl-threads"'));
    expect(text).toMatch(/<tr><td title="\/home\/me\/app\/preprocess.py:41"><code>tokenize<\/code><div class="sub">app\/preprocess.py:41<\/div><\/td><td>python<\/td><td data-v="40" class="num">40<\/td><td data-v="610.25" class="num">610.3<\/td>/);
    expect(text).toContain('<svg class="util-svg"');
    expect(text).toContain('data-v="120.3"');
  });
  test("without a trace there is no timeline, and it says so", () => {
    const noTl = renderReport(handmade, "html");
    expect(noTl).toContain("No trace was given to the renderer, so there is no timeline.");
    expect(noTl).toContain('<script type="application/json" id="inferscope-timeline">null</script>');
  });
  test("deterministic", () => {
    expect(renderReport(r, "html", analysis)).toBe(out);
  });
});
