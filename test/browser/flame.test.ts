// The flame graphs in a real browser (Debian's Chromium through playwright-core), on the report of
// the largest real GPU fixture with its busiest torch op renamed to markup: no console errors, the
// name shown as text, zoom on click, search with the matched time.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext } from "playwright-core";
import { renderReport } from "../../src/report/render.ts";
import type { Trace } from "../../src/trace/model.ts";
import type { AnalysisContext } from "../../src/analyze/rules/common.ts";
import { chromiumMissing, launch, openReport, type Opened } from "./chromium.ts";
import { fixtureAnalysis, LARGEST_FIXTURE } from "../report/fixtures.ts";

setDefaultTimeout(60_000);

// The callbacks given to page.evaluate run in the page; the project compiles without the DOM lib.
declare const window: any, document: any;

const XSS = "<img src=x onerror=alert(1)>";
const missing = chromiumMissing();
if (missing) console.log(`SKIP real-browser flame graph test: ${missing}`);

/** The trace with its torch op of most total time renamed to the XSS string (a wide frame). */
function withXssOp(trace: Trace): void {
  const byName = new Map<string, number>();
  for (const s of trace.spans) if (s.cat === "cpu_op") byName.set(s.name, (byName.get(s.name) ?? 0) + s.end - s.start);
  const top = [...byName.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]![0];
  for (const s of trace.spans) if (s.name === top) s.name = XSS;
}

describe.skipIf(missing !== null)("flame graphs in Chromium", () => {
  let dir = "";
  let context: BrowserContext;
  let close: () => Promise<void>;
  let o: Opened;
  let analysis: AnalysisContext;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "inferscope-flame-"));
    const a = await fixtureAnalysis(LARGEST_FIXTURE, withXssOp);
    analysis = a.analysis;
    const file = join(dir, "report.html");
    writeFileSync(file, renderReport(a.report, "html", analysis));
    ({ context, close } = await launch());
    o = await openReport(context, file);
    await o.page.waitForSelector("#flame-gpu[data-ready='1']", { state: "attached", timeout: 60_000 });
  }, 120_000);

  afterAll(async () => {
    await close?.();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("both graphs drawn, without console errors or dialogs", async () => {
    expect(o.errors).toEqual([]);
    expect(o.dialogs).toEqual([]);
    for (const id of ["#flame-cpu", "#flame-gpu"]) expect(await o.page.getAttribute(id, "data-ready")).toBe("1");
    const totals = await o.page.evaluate(() => {
      const g = (window as any).__inferscopeFlame.graphs;
      return [g.cpu.total, g.gpu.total];
    });
    const t = analysis.callTree();
    expect(totals).toEqual([t.cpuTotal[0], t.gpuTotal[0]]);
  });

  /** Moves the mouse over frame `name` of graph `id`; returns its index. */
  async function hover(id: "cpu" | "gpu", name: string): Promise<number> {
    const { page } = o;
    await page.locator(`#flame-${id} canvas`).scrollIntoViewIfNeeded();
    const hit = await page.evaluate(([gid, n]: string[]) => {
      const g = (window as any).__inferscopeFlame.graphs[gid!];
      const i = g.find(n);
      return i < 0 ? null : { i, box: g.box(i) };
    }, [id, name]);
    expect(hit).not.toBeNull();
    const c = (await page.locator(`#flame-${id} canvas`).boundingBox())!;
    await page.mouse.move(c.x + hit!.box.x + Math.min(hit!.box.w / 2, 40), c.y + hit!.box.y + hit!.box.h / 2);
    return hit!.i;
  }

  test("a frame named <img src=x onerror=alert(1)> is shown as text, in both graphs", async () => {
    for (const id of ["cpu", "gpu"] as const) {
      await hover(id, XSS);
      const tip = o.page.locator(`#flame-${id} .tl-tip`);
      await tip.waitFor({ state: "visible", timeout: 2000 });
      expect(await tip.locator(".tn").textContent()).toBe(XSS);
      expect(await tip.innerHTML()).toContain("&lt;img src=x onerror=alert(1)&gt;");
    }
    expect(await o.page.evaluate(() => document.querySelectorAll("img").length)).toBe(0);
    expect(o.dialogs).toEqual([]);
    expect(o.errors).toEqual([]);
  });

  test("a click zooms into the frame (it then spans the width); Reset zooms out", async () => {
    const { page } = o;
    const i = await hover("gpu", "aten::mm");
    await page.mouse.down();
    await page.mouse.up();
    expect(await page.getAttribute("#flame-gpu", "data-focus")).toBe(String(i));
    const box = await page.evaluate((n: number) => (window as any).__inferscopeFlame.graphs.gpu.box(n), i);
    const width = (await page.locator("#flame-gpu canvas").boundingBox())!.width;
    expect(box.x).toBe(0);
    expect(Math.abs(box.w - width)).toBeLessThan(1);
    expect(await page.locator("#flame-gpu .fl-status").textContent()).toContain("zoomed into aten::mm");
    await page.click("#flame-gpu button[data-act=reset]");
    expect(await page.getAttribute("#flame-gpu", "data-focus")).toBe("0");
  });

  test("search highlights the matching frames and gives their time, counted once", async () => {
    const { page } = o;
    await page.fill("#flame-cpu input[type=search]", "aten::mm");
    const status = await page.locator("#flame-cpu .fl-status").textContent();
    expect(status).toMatch(/^\d+ frames? match: /);
    const matched = await page.evaluate(() => (window as any).__inferscopeFlame.graphs.cpu.search("aten::mm"));
    // the hot-function table's total for aten::mm (recursion counted once) is the same time
    const mm = analysis.hot.functions.find((f) => f.function === "aten::mm")!;
    expect(matched).toBe(mm.totalNs);
    await page.fill("#flame-cpu input[type=search]", "");
    expect(await page.locator("#flame-cpu .fl-status").textContent()).toBe("");
    expect(o.errors).toEqual([]);
  });
});
