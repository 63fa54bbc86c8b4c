import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium: playwright-core drives it, no browser is downloaded. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Headless Chromium with the flags that keep it quiet on a machine without internet (as
 * scripts/e2e/browser.mjs launches it for the end-to-end run).
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
