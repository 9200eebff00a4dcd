// Golden Markdown and JSON reports of the real Kineto fixtures (recorded on an H100), analyzed by
// src/analyze. A change in the analysis or in the templates shows up here as a diff: review it, then
// rewrite the goldens with `UPDATE_GOLDEN=1 bun test test/report/fixtures.test.ts`.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { renderReport } from "../../src/report/render.ts";
import { FIXTURES, fixtureAnalysis } from "./fixtures.ts";
import { golden } from "./golden.ts";

// Real traces, a real browser, millions of events: slower than a unit test, on a busy machine too.
setDefaultTimeout(60_000);

for (const name of FIXTURES) {
  const base = name.replace(/\.kineto\.json\.gz$/, "");
  describe(base, () => {
    test("Markdown and JSON match their goldens, and rendering is stable", async () => {
      const a = await fixtureAnalysis(name);
      const md = renderReport(a.report, "md");
      const json = renderReport(a.report, "json");
      golden(`${base}.md`, md);
      golden(`${base}.json`, json);
      // a second read + analysis of the same file gives byte-identical reports
      const b = await fixtureAnalysis(name);
      expect(renderReport(b.report, "md")).toBe(md);
      expect(renderReport(b.report, "json")).toBe(json);
      expect(JSON.parse(json).schema).toBe("inferscope.report/v1");
      // the verdict sentence leads, and every finding is there, ranked by estimated saving
      expect(md.split("\n")[2]).toMatch(/^\*\*(CPU-bound|GPU-bound|Memory-bound|Balanced|Unknown) \(confidence \d\.\d\d\): .+\.\*\*$/);
      const savings = a.report.findings.map((f) => f.estimated_saving!.window_ms ?? -1);
      expect(savings).toEqual([...savings].sort((x, y) => y - x));
      expect([...md.matchAll(/^### \d+\. /gm)].length).toBe(a.report.findings.length);
      const shown = [...md.matchAll(/^\*\w+ severity · estimated saving (.+?) · impact (.+?) ·/gm)].length;
      expect(shown).toBe(a.report.findings.length);
    }, 60_000);
  });
}

describe("HTML of a GPU-bound fixture (sync_stall)", () => {
  test("the kernel-class bars, each finding's estimated saving, and kernel names escaped in the class table", async () => {
    const a = await fixtureAnalysis("sync_stall.kineto.json.gz");
    const html = renderReport(a.report, "html", a.analysis);
    expect(html).toContain('<a href="#kernel-classes">Kernel classes</a>');
    expect(html).toContain('<div>GEMM</div>\n<div class="bar" title="GEMM: 27.04 ms"><span class="c" style="width:92.7%"></span></div>\n<div class="muted">27.04 ms · 93 % of busy</div>');
    expect(html).toContain("estimated saving 5.844 ms per <code>step</code> (72 % of the window) · impact <b>27.04 ms</b> · confidence 0.95 · rule <code>fp32_gemm</code>");
    // a kernel name is trace data: escaped where the class table shows it
    const r = structuredClone(a.report);
    r.gpu!.kernels.by_class![0]!.top_kernel = "<script>alert(1)</script>";
    const bad = renderReport(r, "html", a.analysis);
    expect(bad).not.toContain("<script>alert(1)</script>");
    expect(bad).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
  });
});
