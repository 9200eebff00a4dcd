// Launches Debian's Chromium (apt-get install chromium) through playwright-core. No browser is
// downloaded: playwright-core only drives the one at CHROMIUM_PATH.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";

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
