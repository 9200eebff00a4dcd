// Writes docs/report-screenshot.png: the HTML report of the largest real fixture, from the top to
// the end of the per-scope latency section (verdict, findings, timeline). Run it by hand:
//   bun test/browser/screenshot.ts
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderReport } from "../../src/report/render.ts";
import { fixtureAnalysis, LARGEST_FIXTURE } from "../report/fixtures.ts";
import { chromiumMissing, launch } from "./chromium.ts";

const missing = chromiumMissing();
if (missing) {
  console.error(missing);
  process.exit(1);
}
const out = join(import.meta.dir, "..", "..", "docs", "report-screenshot.png");
const dir = mkdtempSync(join(tmpdir(), "inferscope-shot-"));
const { report, analysis } = await fixtureAnalysis(LARGEST_FIXTURE);
const file = join(dir, "report.html");
writeFileSync(file, renderReport(report, "html", analysis));
const { context, close } = await launch({ viewport: { width: 1280, height: 900 } });
try {
  const page = await context.newPage();
  await page.goto(`file://${file}`);
  await page.waitForSelector("#tl[data-ready='1']");
  // open the first finding's evidence, so the picture shows it
  await page.evaluate(() => {
    const d = (globalThis as unknown as { document: { querySelector(s: string): { open: boolean } | null } }).document.querySelector("details.evidence");
    if (d) d.open = true;
  });
  const end = await page.evaluate(() => {
    const el = (globalThis as unknown as { document: { getElementById(s: string): { getBoundingClientRect(): { bottom: number } } | null } }).document.getElementById("scopes");
    return el ? el.getBoundingClientRect().bottom + 12 : 1800;
  });
  await page.screenshot({ path: out, fullPage: true, clip: { x: 0, y: 0, width: 1280, height: Math.ceil(end) } });
  console.error(`wrote ${out}`);
} finally {
  await close();
  rmSync(dir, { recursive: true, force: true });
}
