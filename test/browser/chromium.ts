// Launches Debian's Chromium (apt-get install chromium) through playwright-core. No browser is
// downloaded: playwright-core only drives the one at CHROMIUM_PATH.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";

/** Debian's chromium; INFERSCOPE_TEST_CHROMIUM overrides it (e.g. to check the skip path). */
export const CHROMIUM_PATH = process.env.INFERSCOPE_TEST_CHROMIUM || "/usr/bin/chromium";

export function chromiumMissing(): string | null {
  return existsSync(CHROMIUM_PATH)
    ? null
    : `${CHROMIUM_PATH} not found: install Debian's chromium (apt-get install -y chromium) to run the real-browser report test`;
}

export interface LaunchOptions {
  javaScriptEnabled?: boolean;
  viewport?: { width: number; height: number };
}

/** A fresh profile (--user-data-dir) every time; playwright passes it through launchPersistentContext. */
export async function launch(opts: LaunchOptions = {}): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const userDataDir = mkdtempSync(join(tmpdir(), "inferscope-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    javaScriptEnabled: opts.javaScriptEnabled ?? true,
    viewport: opts.viewport ?? { width: 1400, height: 1000 },
  });
  return {
    context,
    close: async () => {
      await context.close().catch(() => {});
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

// The callbacks given to page.evaluate run in the page; the project compiles without the DOM lib.
declare const window: any;

export interface Opened {
  page: Page;
  errors: string[];
  dialogs: string[];
  wallMs: number;
  readyMs: number;
}

/** Opens a report file and waits until its timeline is drawn; collects console errors and dialogs. */
export async function openReport(context: BrowserContext, file: string): Promise<Opened> {
  const page = await context.newPage();
  const errors: string[] = [];
  const dialogs: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  const t0 = performance.now();
  await page.goto(`file://${file}`, { waitUntil: "load" });
  await page.waitForSelector("#tl[data-ready='1']", { state: "attached", timeout: 60_000 }); // generous: a loaded CI box
  const wallMs = performance.now() - t0;
  const readyMs = await page.evaluate(() => (window as unknown as { __inferscopeTimeline: { ready: number } }).__inferscopeTimeline.ready);
  return { page, errors, dialogs, wallMs, readyMs };
}
