// The HTML diff in a real browser (Debian's Chromium through playwright-core, as report.test.ts):
// it opens without console errors or CSP violations, shows the verdict and the tables, and a
// kernel named <script>alert(1)</script> stays text.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext } from "playwright-core";
import { runDiff } from "../../src/cli/diff-command.ts";
import { renderDiffHtml } from "../../src/diff/render.ts";
import { ROOT } from "../helpers.ts";
import { chromiumMissing, launch } from "./chromium.ts";

setDefaultTimeout(60_000);
declare const document: any;

const missing = chromiumMissing();
if (missing) console.log(`SKIP real-browser diff test: ${missing}`);

describe.skipIf(missing !== null)("HTML diff in Chromium", () => {
  let context: BrowserContext;
  let close: () => Promise<void>;
  const dir = mkdtempSync(join(tmpdir(), "inferscope-diff-html-"));
  beforeAll(async () => {
    ({ context, close } = await launch());
  });
  afterAll(async () => {
    await close?.();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the edited vit pair: no console errors, verdict and tables shown, trace strings escaped", async () => {
    const d = await runDiff({ base: join(ROOT, "test/fixtures/kineto/vit_fp16.kineto.json.gz"), next: join(ROOT, "test/fixtures/diff/vit_fp16_edited_topkernel_slow20.kineto.json.gz") });
    d.kernels[0]!.name = "<script>alert(1)</script>";
    const file = join(dir, "diff.html");
    writeFileSync(file, renderDiffHtml(d));
    const page = await context.newPage();
    const errors: string[] = [];
    const dialogs: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
    page.on("dialog", (dlg) => {
      dialogs.push(dlg.message());
      void dlg.dismiss();
    });
    await page.goto(`file://${file}`, { waitUntil: "load" });
    const seen = await page.evaluate(() => ({
      verdict: document.querySelector("#verdict").textContent,
      headings: [...document.querySelectorAll("h2")].map((h: any) => h.textContent),
      firstKernel: document.querySelectorAll("table")[3].querySelector("tr:nth-child(2) td code").textContent,
      scripts: document.querySelectorAll("script").length,
    }));
    expect(errors).toEqual([]);
    expect(dialogs).toEqual([]);
    expect(seen.verdict).toStartWith("Per step: p50 6.25 → 6.25 ms");
    expect(seen.headings).toEqual(["Inputs", "Latency per scope (ms)", "GPU per step", "Kernel classes per step", "Kernels by |Δ time| per step", "Hot functions by |Δ self time| per step", "Findings"]);
    expect(seen.firstKernel).toBe("<script>alert(1)</script>");
    expect(seen.scripts).toBe(0);
    await page.close();
  });
});
