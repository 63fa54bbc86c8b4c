// Headless Debian Chromium driven by playwright-core (no browser download), with the flags that keep it
// quiet on a machine without internet (shared/docs/e2e-notes.md).
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { onCleanup } from './processes.mjs';

export const CHROMIUM = process.env.UNLEARN_E2E_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (or set UNLEARN_E2E_CHROMIUM)`);
  let lastError;
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      // Our own signal handlers stop everything in order; Playwright's would exit the process half-way.
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ARGS,
        timeout: 60_000,
        handleSIGINT: false,
        handleSIGTERM: false,
        handleSIGHUP: false,
      });
      onCleanup(() => Promise.race([browser.close().catch(() => {}), new Promise((r) => setTimeout(r, 10_000))]), { beforeStop: true });
      return browser;
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

/**
 * Opens the workbench and waits until it is interactive (activity bar and status bar drawn). A first
 * load that stalls (a busy machine, a socket race while the server warms up) gets one more try.
 */
export async function openWorkbench(page, url, timeoutMs = 90_000) {
  let lastError;
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      await page.goto(url, { waitUntil: 'domcontentloaded', timeout: timeoutMs });
      await page.waitForSelector('.monaco-workbench .part.activitybar', { timeout: timeoutMs });
      await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: timeoutMs });
      return;
    } catch (error) {
      lastError = error;
      console.error(
        `e2e: the workbench did not load (attempt ${attempt}/2): ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
      );
    }
  }
  throw lastError;
}
