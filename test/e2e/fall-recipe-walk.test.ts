// The fall-detection recipe in the browser against a real `qatwb serve`: a new project → a
// synthetic, imbalanced fall set (12 % falls) picked with the file chooser → ecgnet → a float phase
// with early stopping and class weights, then QAT at its own lower learning rate with its own
// patience and a bit schedule 8 → 4 (the 4-bit width at its own learning rate, kept in the project's
// network) → the comparison with fall recall per row → the run and the schedule are still there after
// `qatwb serve` restarts → continued at 2 bits from the run list, `qatwb serve` killed mid-run and
// restarted: the run shows as interrupted and Resume finishes it. Screenshots go to
// test-results/screenshots/fall/ for a person to look at.
import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openApp } from './browser.ts';
import { writeFallCsv } from '../support/fall-data.ts';
import { gate, need } from '../support/fixtures.ts';

const OUT = 'test-results/screenshots/fall';
const ui = gate(need.renderer());

describe.skipIf(ui.skip)('fall-detection recipe walk (chromium)' + ui.note, () => {
  const { page, serve, errors: consoleErrors, go, shot, newProject, importCsv, restartServe } = openApp({ out: OUT });

  /** Asks to open the MNIST example, declines the question the app asks first, and returns it; the project stays. */
  async function declineOpeningTheExample(): Promise<string> {
    await go('project');
    const asked: string[] = [];
    page.once('dialog', (d) => {
      asked.push(d.message());
      void d.dismiss();
    });
    await page.getByRole('button', { name: 'Open the MNIST example' }).click();
    await expect.poll(() => asked.length).toBe(1);
    await page.getByTestId('header-project').filter({ hasText: 'Falls' }).waitFor();
    return asked[0]!;
  }
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
    await page.getByTestId('epochs').fill('6');
    await page.getByTestId('qat-start').fill('3');
    await page.getByLabel('Batch size').fill('16');
    await page.getByTestId('patience').fill('2');
    await page.getByTestId('qat-lr').fill('0.0001');
    await page.getByTestId('qat-patience').fill('2');
    await page.getByTestId('lr-schedule').selectOption('cosine');
    await page.getByTestId('class-weights').check();
    // The bit schedule is the network's: 8-bit from the QAT start, 4-bit from QAT epoch 1 at its own lr.
    await page.getByTestId('bits-schedule-start').click();
    await expect.poll(() => page.getByTestId('bits-step').count()).toBe(2);
    await expect(page.getByTestId('step-lr').nth(1).getAttribute('placeholder')).resolves.toBe('0.0001');
    await page.getByTestId('step-lr').nth(1).fill('0.00005');
    await page.getByTestId('step-lr').nth(1).blur();
    const scheduleWords = 'Epoch 4: 8-bit, lr 0.0001; epochs 5–6: 4-bit, lr 0.00005. One comparison row per width; the last is exported.';
    await expect.poll(() => page.getByTestId('bits-schedule-words').textContent()).toBe(scheduleWords);
    // The table says the same run epochs (from 1) as the words and the hint, never QAT epochs from 0;
    // so does a problem with them.
    await expect(page.getByTestId('step-from').nth(0).inputValue()).resolves.toBe('4');
    await expect(page.getByTestId('step-from').nth(1).inputValue()).resolves.toBe('5');
    await page.getByTestId('step-from').nth(1).fill('7');
    await page.getByTestId('step-from').nth(1).blur();
    await expect.poll(() => page.getByTestId('bits-schedule-error').textContent()).toBe('Width 2: 4-bit from epoch 7, but QAT runs epochs 4–6.');
    await page.getByTestId('step-from').nth(1).fill('5');
    await page.getByTestId('step-from').nth(1).blur();
    await expect.poll(() => page.getByTestId('bits-schedule-words').textContent()).toBe(scheduleWords);
    await page.getByTestId('bits-editor').scrollIntoViewIfNeeded();
    await shot('01b-bits-schedule-light-1440x900');
    await page.getByTestId('qat-words').locator('summary').click();
    await expect(page.getByTestId('qat-words').textContent()).resolves.toMatch(/Per-channel and asymmetric scales are not available/);
    await shot('01-train-form-light-1440x900');
    await page.getByTestId('start-training').click();
    await page.getByTestId('train-result').waitFor({ timeout: 300_000 });
    const rows = await page.locator('[data-testid="comparison"] tr[data-cmp] td:first-child').allTextContents();
    expect(rows).toEqual(['Float baseline', 'PTQ 8-bit', 'QAT 8-bit', 'QAT 4-bit']);
    const recall = await page.locator('[data-testid="comparison"] tr[data-cmp="QAT 8-bit"] .recall').textContent();
    expect(recall).toMatch(/adl\s+[\d.]+%/);
    expect(recall).toMatch(/fall\s+[\d.]+%/);
    // Class weights keep the rare class: the QAT model finds falls.
    expect(Number(/fall\s+([\d.]+)%/.exec(recall!)![1])).toBeGreaterThan(50);
    await page.getByTestId('train-result').scrollIntoViewIfNeeded();
    await shot('02-train-result-light-1440x900');
    // The curves mark the QAT start and the width change at the epochs the schedule names.
    const marked = '; marked: QAT 8-bit from epoch 4, 4-bit from epoch 5';
    await expect(page.getByRole('img', { name: /^Training loss per batch/ }).first().getAttribute('aria-label')).resolves.toMatch(new RegExp(`${marked}$`));
    await expect(page.getByRole('img', { name: /^Train and validation accuracy/ }).first().getAttribute('aria-label')).resolves.toMatch(new RegExp(`${marked}$`));
    for (const scheme of ['light', 'dark'] as const) {
      for (const [w, h] of [[1440, 900], [1024, 768]] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        await page.setViewportSize({ width: w, height: h });
        await page.getByRole('img', { name: /^Training loss per batch/ }).first().scrollIntoViewIfNeeded();
        await page.screenshot({ path: `${OUT}/02b-width-marks-${scheme}-${w}x${h}.png` });
      }
    }
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 1440, height: 900 });
    // A collapsed row is named in the warning; the QAT row that finds falls is not one of them.
    const collapsed = await page.locator('[data-testid="comparison"] tr.collapsed td:first-child').allTextContents();
    expect(collapsed).not.toContain('QAT 8-bit');
    if (collapsed.length) await expect(page.getByTestId('collapse-warning').textContent()).resolves.toContain(collapsed[0]!);
  }, 330_000);

  it('after qatwb serve restarts, reopening the project brings the run and its comparison back', async () => {
    // Switching away with unsaved changes asks first; declining keeps the project.
    expect(await declineOpeningTheExample()).toBe('"Falls" has unsaved changes. Open the example without saving them?');
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
    expect(rows).toEqual(['Float baseline', 'PTQ 8-bit', 'QAT 8-bit', 'QAT 4-bit']);
    // The schedule came back with the project's network.
    await expect.poll(() => page.getByTestId('bits-step').count(), { timeout: 30_000 }).toBe(2);
    await expect.poll(() => page.getByTestId('step-lr').nth(1).inputValue()).toBe('0.00005');
    // The size-vs-accuracy plot across the project's runs: PTQ and both QAT widths of the one run.
    await expect(page.getByTestId('size-accuracy').locator('circle').count()).resolves.toBe(3);
    await page.getByTestId('size-accuracy').screenshot({ path: `${OUT}/04-size-vs-accuracy.png` });
    await shot('03-train-after-restart-light-1440x900');
    expect(consoleErrors).toEqual([]);
  }, 120_000);
  /** Opens the project after a restart of `qatwb serve` and shows the Train step. */
  const reopen = async () => {
    await page.goto(serve.url);
    await page.getByLabel('Project folder or its project.json').fill(projectDir);
    await page.getByRole('button', { name: 'Open', exact: true }).last().click();
    await page.getByTestId('header-project').filter({ hasText: 'Falls' }).waitFor();
    await go('train');
  };
  const statuses = () => page.locator('[data-testid="run-list"] li[data-run]').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-status')));
  const shots = async (name: string) => {
    for (const scheme of ['light', 'dark'] as const) {
      for (const [w, h] of [[1440, 900], [1024, 768]] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        await page.setViewportSize({ width: w, height: h });
        await page.getByTestId('run-list').scrollIntoViewIfNeeded();
        await page.screenshot({ path: `${OUT}/${name}-${scheme}-${w}x${h}.png` });
      }
    }
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 1440, height: 900 });
  };

  it('continues the run at 2 bits from the run list; killed mid-run, it is listed as interrupted after the restart and Resume finishes it', async () => {
    const list = page.getByTestId('run-list');
    await expect(statuses()).resolves.toEqual(['done']);
    const first = (await list.locator('li[data-run]').first().getAttribute('data-run'))!;
    await expect(list.locator('li[data-run]').first().textContent()).resolves.toMatch(/reference/);
    await page.getByTestId('continue-bits').selectOption('2');
    await page.getByTestId('continue-epochs').fill('12');
    await expect(page.getByTestId('continue-lr').getAttribute('placeholder')).resolves.toBe('0.0001'); // the run's own QAT rate
    await page.getByTestId('continue-start').click();
    // The new run is listed while it trains; it is killed once an epoch of it is on disk.
    await expect.poll(statuses, { timeout: 60_000 }).toEqual(['running', 'done']);
    const chained = (await list.locator('li[data-run]').first().getAttribute('data-run'))!;
    expect(chained).not.toBe(first);
    // Switching the project now would stop the run: it asks first; declining keeps the run training.
    const asked = await declineOpeningTheExample();
    expect(asked).toContain('A run is training; it will be interrupted and can be resumed from its last finished epoch.');
    expect(asked).toMatch(/Open the example( without saving them)?\?$/);
    await go('train');
    await expect(statuses()).resolves.toEqual(['running', 'done']);
    const runFile = () => JSON.parse(readFileSync(join(projectDir, 'runs', chained, 'run.json'), 'utf8')) as { epochsDone: number; epochsPlanned: number; status: string };
    await expect.poll(() => { try { const f = runFile(); return f.epochsDone > f.epochsPlanned - 12; } catch { return false; } }, { timeout: 120_000, interval: 100 }).toBe(true);
    await shots('05-run-list-running');
    await serve.kill('SIGKILL');
    const killed = runFile();
    expect(killed.status).toBe('running');
    expect(killed.epochsDone).toBeLessThan(killed.epochsPlanned);

    await restartServe(); // on the same state folder; the killed process is gone already
    consoleErrors.length = 0; // the old page lost its server: that is the crash, not an error
    await reopen();
    await expect.poll(statuses, { timeout: 30_000 }).toEqual(['interrupted', 'done']);
    const row = list.locator(`li[data-run="${chained}"]`);
    await expect(row.textContent()).resolves.toContain(`${killed.epochsDone} / ${killed.epochsPlanned} epochs`); // counted from the source's first, as the progress does
    await expect(row.textContent()).resolves.toContain(`after ${first.slice(0, 8)}'s ${killed.epochsPlanned - 12} epochs`);
    await expect(row.textContent()).resolves.toContain(`from ${first.slice(0, 8)}`);
    await row.click();
    await page.getByTestId('viewed-run').waitFor();
    await expect(page.getByTestId('viewed-run').textContent()).resolves.toMatch(/interrupted/);
    await shots('06-run-list-interrupted');

    await row.getByTestId('resume-run').click();
    await page.getByTestId('train-result').waitFor({ timeout: 300_000 });
    const rows = await page.locator('[data-testid="comparison"] tr[data-cmp] td:first-child').allTextContents();
    expect(rows).toEqual(['Float baseline', 'PTQ 8-bit', 'QAT 8-bit', 'QAT 4-bit', 'QAT 2-bit']);
    await expect.poll(statuses, { timeout: 30_000 }).toEqual(['done', 'done']);
    const done = runFile();
    expect(done.status).toBe('done');
    expect(done.epochsDone).toBeGreaterThan(killed.epochsDone);
    // The finished chain is the reference now; each width's size is below the wider one's.
    await expect(row.textContent()).resolves.toMatch(/reference/);
    const sizes = await page.locator('[data-testid="comparison"] tr[data-row="qat"] td:nth-child(5)').allTextContents();
    expect(sizes.map((t) => Number.parseFloat(t))).toHaveLength(3);
    expect(Number.parseFloat(sizes[1]!)).toBeLessThan(Number.parseFloat(sizes[0]!));
    expect(Number.parseFloat(sizes[2]!)).toBeLessThan(Number.parseFloat(sizes[1]!));
    // A collapse flag carried from the source run is named in the warning too.
    if (await page.getByTestId('collapse-warning').count()) await expect(page.getByTestId('collapse-warning').locator('li').count()).resolves.toBeGreaterThan(0);
    await shots('07-run-list-resumed');
    // Choosing the first run again shows its comparison (four rows) and makes it the reference.
    await list.locator(`li[data-run="${first}"] button.linkish`).click();
    await expect.poll(() => page.locator('[data-testid="comparison"] tr[data-cmp]').count()).toBe(4);
    await expect.poll(() => list.locator(`li[data-run="${first}"] .ref`).count()).toBe(1);
    await expect(list.locator('.ref').count()).resolves.toBe(1);
    // Quantize and Device check follow: the chosen run's ranges, its export as the reference.
    await go('quantize');
    await expect(page.locator('main[data-view="quantize"] h2').first().textContent()).resolves.toContain(first.slice(0, 8));
    await go('device-check');
    await expect(page.locator('main[data-view="device-check"] .ref').filter({ hasText: 'Reference:' }).textContent()).resolves.toContain(join('runs', first));
    await go('train');
    expect(consoleErrors).toEqual([]);
  }, 600_000);
});
