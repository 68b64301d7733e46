// Headless Debian chromium through playwright-core, with the flags this machine needs.
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** Collects the page's console errors and uncaught exceptions into `into` (tests expect none). */
export function collectPageErrors(page: Page, into: string[]): void {
  page.on('console', (m) => m.type() === 'error' && into.push(m.text()));
  page.on('pageerror', (e) => into.push(String(e)));
}
