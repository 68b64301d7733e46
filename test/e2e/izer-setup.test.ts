// Deploy with ai8x-synthesis missing (web mode, chromium): the Toolchain card offers "Install ai8x-synthesis" and "Use an
// existing checkout", and in web mode both are refused with the way to do it (they run git/pip or
// change program paths, which only the desktop app may confirm).
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApp } from './browser.ts';
import { gate, izerDir, need } from '../support/fixtures.ts';

const ui = gate(need.renderer());

describe.skipIf(ui.skip)('Deploy without ai8x-synthesis (chromium)' + ui.note, () => {
  const { page, serve, errors: consoleErrors, shot } = openApp({
    out: 'test-results/izer-setup',
    viewport: { width: 1280, height: 900 },
    prepare: (s) => writeFileSync(join(s.stateDir, 'toolchain-settings.json'), JSON.stringify({ izerDir: join(s.stateDir, 'no-izer-here') })),
  });

  it('says the toolchain is not ready and offers the set-up', async () => {
    await page.goto(serve.url);
    await page.getByTestId('open-example').click();
    await page.locator('nav a[data-step="deploy"]').click();
    await page.getByTestId('izer-setup').waitFor({ timeout: 60_000 });
    await expect(page.getByTestId('doctor-ready').textContent()).resolves.toMatch(/Not ready/);
    await shot('01-missing');
  }, 90_000);

  it('refuses the install in web mode with the command that does it', async () => {
    await page.getByTestId('install-izer').click();
    await page.getByTestId('izer-setup').getByText(/qatwb sdk install ai8x-synthesis/).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Use an existing checkout…' }).click();
    await page.getByTestId('izer-checkout-dir').fill(izerDir());
    await page.getByRole('button', { name: 'Use this folder' }).click();
    await page.getByText(/cannot be changed from here/).waitFor({ timeout: 30_000 });
    await shot('02-refused');
    expect(consoleErrors.filter((e) => !/403|forbidden/i.test(e))).toEqual([]);
  }, 60_000);
});
