// Deploy with ai8x-synthesis missing (web mode, chromium): the Toolchain card offers "Install ai8x-synthesis" and "Use an
// existing checkout", and in web mode both are refused with the way to do it (they run git/pip or
// change program paths, which only the desktop app may confirm).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startServe, type ServeProcess } from '../server/serve-process.ts';
import { launchBrowser, collectPageErrors } from './browser.ts';
import { gate, izerDir, need } from '../support/fixtures.ts';

const OUT = 'test-results/izer-setup';
const ui = gate(need.renderer());

describe.skipIf(ui.skip)('Deploy without ai8x-synthesis (chromium)' + ui.note, () => {
  let serve: ServeProcess;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    serve = await startServe();
    writeFileSync(join(serve.stateDir, 'toolchain-settings.json'), JSON.stringify({ izerDir: join(serve.stateDir, 'no-izer-here') }));
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
    collectPageErrors(page, consoleErrors);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
  });

  it('says the toolchain is not ready and offers the set-up', async () => {
    await page.goto(serve.url);
    await page.getByTestId('open-example').click();
    await page.locator('nav a[data-step="deploy"]').click();
    await page.getByTestId('izer-setup').waitFor({ timeout: 60_000 });
    await expect(page.getByTestId('doctor-ready').textContent()).resolves.toMatch(/Not ready/);
    await page.screenshot({ path: `${OUT}/01-missing.png`, fullPage: true });
  }, 90_000);

  it('refuses the install in web mode with the command that does it', async () => {
    await page.getByTestId('install-izer').click();
    await page.getByTestId('izer-setup').getByText(/qatwb sdk install ai8x-synthesis/).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Use an existing checkout…' }).click();
    await page.getByTestId('izer-checkout-dir').fill(izerDir());
    await page.getByRole('button', { name: 'Use this folder' }).click();
    await page.getByText(/cannot be changed from here/).waitFor({ timeout: 30_000 });
    await page.screenshot({ path: `${OUT}/02-refused.png`, fullPage: true });
    expect(consoleErrors.filter((e) => !/403|forbidden/i.test(e))).toEqual([]);
  }, 60_000);
});
