import { describe, expect, setDefaultTimeout, test } from "bun:test";
import {
  bytes,
  dur,
  html,
  int,
  location,
  mdCode,
  mdRich,
  mdText,
  ms,
  pct,
  rich,
  shortKernel,
  us,
  value,
} from "../../src/report/format.ts";
import { reportJson, scriptJson } from "../../src/report/json.ts";
import type { Report } from "../../src/analyze/report-types.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

describe("numbers", () => {
  test("null is 'not measured', never 0", () => {
    for (const f of [int, ms, us, dur, pct, bytes]) {
      expect(f(null)).toBe("not measured");
      expect(f(undefined)).toBe("not measured");
      expect(f(Number.NaN)).toBe("not measured");
    }
    expect(value(null)).toBe("not measured");
    expect(ms(0)).toBe("0.000");
    expect(pct(0)).toBe("0 %");
  });
  test("fixed precision, grouping, no -0", () => {
    expect(int(1234567)).toBe("1,234,567");
    expect(int(-1234)).toBe("-1,234");
    expect(ms(1.23456)).toBe("1.235");
    expect(ms(12.3456)).toBe("12.35");
    expect(ms(123.456)).toBe("123.5");
    expect(ms(123456.7)).toBe("123,457");
    expect(ms(-0.0000001)).toBe("0.000");
    expect(us(4)).toBe("4.0");
    expect(us(130.5)).toBe("131");
    expect(dur(0.012)).toBe("12.0 µs");
    expect(dur(1234.5)).toBe("1.23 s");
    expect(dur(45.6)).toBe("45.60 ms");
    expect(pct(71.2)).toBe("71 %");
    expect(pct(4.57)).toBe("4.6 %");
    expect(pct(0.0035)).toBe("< 0.1 %");
    expect(bytes(268435456)).toBe("256 MiB");
    expect(bytes(1536)).toBe("1.5 KiB");
    expect(bytes(12)).toBe("12 B");
  });
  test("locations keep the last two path components", () => {
    expect(location("/home/me/app/preprocess.py", 41)).toBe("app/preprocess.py:41");
    expect(location("infer.py", 3)).toBe("infer.py:3");
    expect(location(undefined, 3)).toBe("");
  });
});

describe("kernel names", () => {
  test("C++ signatures are shortened", () => {
    expect(
      shortKernel(
        "void at::native::vectorized_elementwise_kernel<4, at::native::CUDAFunctor_add<c10::Half>, std::array<char*, 3ul> >(int, at::native::CUDAFunctor_add<c10::Half>, std::array<char*, 3ul>)",
      ),
    ).toBe("at::native::vectorized_elementwise_kernel<…>");
  });
  test("other names are kept, even when they look like markup", () => {
    expect(shortKernel("<script>alert(1)</script>")).toBe("<script>alert(1)</script>");
    expect(shortKernel("ampere_sgemm_128x64_tn")).toBe("ampere_sgemm_128x64_tn");
    expect(shortKernel("x".repeat(200)).length).toBe(80);
  });
});

describe("Markdown escaping", () => {
  test("code spans hold backticks and pipes", () => {
    expect(mdCode("tokenize")).toBe("`tokenize`");
    expect(mdCode("a`b")).toBe("``a`b``");
    expect(mdCode("`x`")).toBe("`` `x` ``");
    expect(mdCode("a|b")).toBe("`a\\|b`");
    expect(mdCode("line\nbreak")).toBe("`line break`");
  });
  test("plain text cannot open HTML, emphasis, links or table cells", () => {
    expect(mdText("<script>alert(1)</script>")).toBe("\\<script>alert(1)\\</script>");
    expect(mdText("p95 < 5 ms")).toBe("p95 < 5 ms");
    expect(mdText("a|b")).toBe("a\\|b");
    expect(mdText("*bold* [x](y)")).toBe("\\*bold\\* \\[x](y)");
    expect(mdText("host_wait_ms")).toBe("host_wait_ms");
    expect(mdText("__init__")).toBe("\\_\\_init\\_\\_");
    expect(mdText("&amp;")).toBe("\\&amp;");
  });
  test("control characters from a trace are shown as \\xNN, never reach the terminal", () => {
    expect(mdCode("aten::mm\u001b[2J")).toBe("`aten::mm\\x1b[2J`");
    expect(mdCode("a\u0000b\u000bc\u000cd\u001ee\u009bf")).toBe("`a\\x00b\\x0bc\\x0cd\\x1ee\\x9bf`");
    expect(mdText("k\u0007\u001b]0;title\u0007")).toBe("k\\x07\\x1b]0;title\\x07");
    expect(mdText("tab\tstays")).toBe("tab\tstays");
  });
  test("analyzer text keeps its code spans", () => {
    expect(rich("move `tokenize` out")).toEqual([{ t: "move " }, { t: "tokenize", code: true }, { t: " out" }]);
    expect(rich("unmatched ` tick")).toEqual([{ t: "unmatched ` tick" }]);
    expect(mdRich(rich("run `a|b` <b>x</b>"))).toBe("run `a\\|b` \\<b>x\\</b>");
  });
});

describe("HTML and script escaping", () => {
  test("html() escapes markup and quotes", () => {
    expect(html(`<script>alert("1")</script>&'`)).toBe("&lt;script&gt;alert(&quot;1&quot;)&lt;/script&gt;&amp;&#39;");
  });
  test("scriptJson() cannot close a <script> element and round-trips", () => {
    const v = { name: "</script><script>alert(1)</script>", ls: "\u2028\u2029", amp: "a&b" };
    const s = scriptJson(v);
    expect(s).not.toContain("<");
    expect(s).not.toContain(">");
    expect(s).not.toContain("\u2028");
    expect(s).toContain("\\u003c/script\\u003e");
    expect(JSON.parse(s)).toEqual(v);
  });
});

describe("JSON", () => {
  test("key order follows the contract whatever the input order; unknown keys sorted", () => {
    const a = {
      warnings: [],
      collection: { z: 1, a: 2 },
      dropped: { python: 0, cupti: 1 },
      clock: { error_bound_us: null, source: "CLOCK_MONOTONIC" },
      findings: [{ suggestions: ["x", "y"], evidence: { b: 1, a: -0 }, impact_ms: 1, confidence: 0.5, severity: "low", title: "t", rule: "r" }],
      scopes: [],
      cpu: { numa: { remote_pct: null, pages_mb_by_node: { "10": 1, "2": 3 }, gpu_node: null }, memory: { swap_used_mb: null, min_available_mb: null, peak_rss_mb: 1 }, threads: [] },
      gpu: null,
      bottleneck: { reason: "r", confidence: 0.1, classification: "unknown" },
      source: { events: 3, format: "kineto", path: "p" },
      schema: "inferscope.report/v1",
    } as unknown as Report;
    const s = reportJson(a);
    const keys = Object.keys(JSON.parse(s));
    expect(keys).toEqual(["schema", "source", "bottleneck", "gpu", "cpu", "scopes", "findings", "clock", "dropped", "collection", "warnings"]);
    expect(s).toContain('"rule": "r",\n      "title": "t",\n      "severity": "low"');
    expect(s).toContain('"evidence": {\n        "a": 0,\n        "b": 1\n      }');
    expect(s.indexOf('"cupti"')).toBeLessThan(s.indexOf('"python"'));
    expect(s.indexOf('"2"')).toBeLessThan(s.indexOf('"10"'));
    expect(s.indexOf('"gpu_node"')).toBeLessThan(s.indexOf('"pages_mb_by_node"'));
    expect(s.endsWith("}\n")).toBe(true);
    // the same object with keys in another order serializes identically
    const reversed = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(reversed)
        : v && typeof v === "object"
          ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reversed(x)]))
          : v;
    expect(reportJson(reversed(a) as Report)).toBe(s);
  });
});
