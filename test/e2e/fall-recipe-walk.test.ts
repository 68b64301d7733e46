// The fall-detection recipe in the browser against a real `qatwb serve`: a new project → a
// synthetic, imbalanced fall set (12 % falls) picked with the file chooser → ecgnet → a float phase
// with early stopping and class weights, then QAT at its own lower learning rate with its own
// patience → the comparison with fall recall per row → the run is still there after `qatwb serve`
// restarts. Screenshots go to test-results/screenshots/fall/ for a person to look at.
import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openApp } from './browser.ts';
import { writeFallCsv } from '../support/fall-data.ts';
import { gate, need } from '../support/fixtures.ts';

const OUT = 'test-results/screenshots/fall';
const ui = gate(need.renderer());

describe.skipIf(ui.skip)('fall-detection recipe walk (chromium)' + ui.note, () => {
  const { page, serve, errors: consoleErrors, go, shot, newProject, importCsv, restartServe } = openApp({ out: OUT });
  const projectDir = join(mkdtempSync(join(tmpdir(), 'qatwb-fall-walk-')), 'falls');

  it('creates the project and imports the imbalanced fall set', async () => {
    await newProject('Falls', projectDir);
    mkdirSync(join(projectDir, 'data'));
    copyFileSync(writeFallCsv({ count: 400, fallShare: 0.12, seed: 7 }), join(projectDir, 'data', 'falls.csv'));
    await importCsv('falls.csv');
    await go('model');
    await page.getByTestId('choose-ecgnet').click();
    await page.getByTestId('rule-ok').waitFor({ timeout: 60_000 });
  }, 120_000);

  it('sets the two phases, shows defaults as numbers and the QAT words, and trains', async () => {
    await go('train');
    // Defaults are numbers, never "engine default".
    await expect(page.getByTestId('lr').getAttribute('placeholder')).resolves.toBe('0.001');
    await expect(page.getByTestId('qat-lr').getAttribute('placeholder')).resolves.toBe('0.0003');
    await expect(page.locator('main').textContent()).resolves.not.toContain('engine default');
    await page.getByTestId('epochs').fill('5');
    await page.getByTestId('qat-start').fill('3');
    await page.getByLabel('Batch size').fill('16');
    await page.getByTestId('patience').fill('2');
    await page.getByTestId('qat-lr').fill('0.0001');
    await page.getByTestId('qat-patience').fill('2');
    await page.getByTestId('lr-schedule').selectOption('cosine');
    await page.getByTestId('class-weights').check();
    await page.getByTestId('qat-words').locator('summary').click();
    await expect(page.getByTestId('qat-words').textContent()).resolves.toMatch(/Per-channel and asymmetric scales are not available/);
    await shot('01-train-form-light-1440x900');
    await page.getByTestId('start-training').click();
    await page.getByTestId('train-result').waitFor({ timeout: 300_000 });
    const rows = await page.locator('[data-testid="comparison"] tr[data-cmp] td:first-child').allTextContents();
    expect(rows).toEqual(['Float baseline', 'PTQ 8-bit', 'QAT 8-bit']);
    const recall = await page.locator('[data-testid="comparison"] tr[data-cmp="QAT 8-bit"] .recall').textContent();
    expect(recall).toMatch(/adl\s+[\d.]+%/);
    expect(recall).toMatch(/fall\s+[\d.]+%/);
    // Class weights keep the rare class: the QAT model finds falls.
    expect(Number(/fall\s+([\d.]+)%/.exec(recall!)![1])).toBeGreaterThan(50);
    await page.getByTestId('train-result').scrollIntoViewIfNeeded();
    await shot('02-train-result-light-1440x900');
    // A collapsed row is named in the warning; the QAT row that finds falls is not one of them.
    const collapsed = await page.locator('[data-testid="comparison"] tr.collapsed td:first-child').allTextContents();
    expect(collapsed).not.toContain('QAT 8-bit');
    if (collapsed.length) await expect(page.getByTestId('collapse-warning').textContent()).resolves.toContain(collapsed[0]!);
  }, 330_000);

  it('after qatwb serve restarts, reopening the project brings the run and its comparison back', async () => {
    // Switching away with unsaved changes asks first; declining keeps the project.
    await go('project');
    const asked: string[] = [];
    page.once('dialog', (d) => {
      asked.push(d.message());
      void d.dismiss();
    });
    await page.getByRole('button', { name: 'Open the MNIST example' }).click();
    await expect.poll(() => asked.length).toBe(1);
    expect(asked[0]).toBe('"Falls" has unsaved changes. Open the example without saving them?');
    await page.getByTestId('header-project').filter({ hasText: 'Falls' }).waitFor();
    // The project is saved (data, network, settings); the run itself is kept in its folder as it trains.
    await page.getByRole('button', { name: 'Save', exact: true }).first().click();
    await page.getByText('Unsaved', { exact: true }).waitFor({ state: 'detached' });
    expect(consoleErrors).toEqual([]);
    await restartServe();
    // The old page saw its server go away; that is the restart, not an error.
    consoleErrors.length = 0;
    await page.goto(serve.url);
    await page.getByLabel('Project folder or its project.json').fill(projectDir);
    await page.getByRole('button', { name: 'Open', exact: true }).last().click();
    await page.getByTestId('header-project').filter({ hasText: 'Falls' }).waitFor();
    await go('train');
    await page.getByTestId('train-result').waitFor({ timeout: 60_000 }).catch(async (e) => {
      await shot('03-failed');
      throw e;
    });
    const rows = await page.locator('[data-testid="comparison"] tr[data-cmp] td:first-child').allTextContents();
    expect(rows).toEqual(['Float baseline', 'PTQ 8-bit', 'QAT 8-bit']);
    // The size-vs-accuracy plot across the project's runs: PTQ and QAT of the one run.
    await expect(page.getByTestId('size-accuracy').locator('circle').count()).resolves.toBe(2);
    await page.getByTestId('size-accuracy').screenshot({ path: `${OUT}/04-size-vs-accuracy.png` });
    await shot('03-train-after-restart-light-1440x900');
    expect(consoleErrors).toEqual([]);
  }, 120_000);
});
