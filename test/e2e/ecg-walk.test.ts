// A new user's walk with a non-MNIST project, in the browser against a real `qatwb serve`: a new
// project → a MIT-BIH-layout CSV (187 samples + label, 5 classes, made here) picked with the file
// chooser → the 1-D network (ecgnet) → 1 float + 1 QAT epoch → Quantize → Deploy with the virtual
// MAX78002 → live check on the project's own test windows. Along the way it asserts what a new user
// tripped over (issue 15), and at the end it saves a screenshot of every view in both themes at
// 1440 × 900 and 1024 × 768 into test-results/screenshots/ecg/ for a person to look at.
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openApp } from './browser.ts';
import { seededRng } from '../../src-main/data/random.ts';
import { writeNpy } from '../../src-main/formats/npy.ts';
import { gate, need } from '../support/fixtures.ts';
import { pullCable } from '../support/pull-cable.ts';

const ui = gate(need.renderer());
const PER_CLASS = 80;
const CLASSES = 5;
const LENGTH = 187;
const WINDOWS = 40;
const VIEWS = ['project', 'data', 'model', 'train', 'quantize', 'deploy', 'device-check', 'settings'] as const;
const SIZES = [{ width: 1440, height: 900 }, { width: 1024, height: 768 }] as const;

/**
 * Heartbeat-like rows in the MIT-BIH (Kaggle) layout: 187 values in [0, 1] then the class, sorted
 * by class as that file is. Each class has its own QRS position, width and T wave, plus noise.
 */
function ecgCsv(): string {
  const rng = seededRng(15);
  const bump = (t: number, at: number, width: number) => Math.exp(-(((t - at) / width) ** 2));
  const rows: string[] = [];
  for (let c = 0; c < CLASSES; c++) {
    for (let i = 0; i < PER_CLASS; i++) {
      const shift = (rng() - 0.5) * 6;
      const v = Array.from({ length: LENGTH }, (_, t) => {
        const x = 0.9 * bump(t, 20 + c * 12 + shift, 3 + c) + 0.3 * bump(t, 70 + c * 15 + shift, 10) - 0.15 * bump(t, 28 + c * 12 + shift, 4);
        return Math.min(1, Math.max(0, 0.2 + x + (rng() - 0.5) * 0.05));
      });
      // The real file pads short beats with zeros at the end.
      for (let t = 150 + c * 5; t < LENGTH; t++) v[t] = 0;
      rows.push([...v.map((x) => x.toFixed(4)), String(c)].join(','));
    }
  }
  return rows.join('\n') + '\n';
}

describe.skipIf(ui.skip)('ECG walk: new project → CSV → ecgnet → train → quantize → virtual device → check (chromium)' + ui.note, () => {
  const { page, errors: consoleErrors, go, shot, newProject } = openApp({ out: 'test-results/screenshots/ecg', viewport: SIZES[0] });
  const projectDir = join(mkdtempSync(join(tmpdir(), 'qatwb-ecg-walk-')), 'ecg-beats');
  const done = (id: string) => page.locator(`nav a[data-step="${id}"] .num.done`).count();
  /** Cards with something (a table, a long path) reaching past their padding, outside any scroll box. */
  const pastCardEdge = () => page.locator('main .card').evaluateAll((cards) => cards.flatMap((card) => {
    const s = getComputedStyle(card);
    const edge = card.getBoundingClientRect().right - parseFloat(s.borderRightWidth) - parseFloat(s.paddingRight) + 1;
    const scrolls = (e: Element) => {
      for (let p = e.parentElement; p && p !== card; p = p.parentElement) if (getComputedStyle(p).overflowX !== 'visible') return true;
      return false;
    };
    const out = Array.from(card.querySelectorAll('*')).find((e) => e.getBoundingClientRect().right > edge && !scrolls(e));
    return out ? [`${card.querySelector('h1, h2, h3')?.textContent?.trim() ?? card.className}: ${out.tagName.toLowerCase()} ${out.getAttribute('class') ?? ''}`] : [];
  }));

  it('creates a project and puts a MIT-BIH-layout CSV in it', async () => {
    await newProject('ECG beats', projectDir);
    mkdirSync(join(projectDir, 'data'));
    writeFileSync(join(projectDir, 'data', 'mitbih_train.csv'), ecgCsv());
  }, 60_000);

  it('imports the CSV picked with the file chooser; the preview shows every class on its first page', async () => {
    await go('data');
    // Nothing is done yet: a named but unloaded data set is not a done step.
    expect(await done('data')).toBe(0);
    await page.getByRole('radio', { name: 'CSV file' }).check();
    // Before anything is typed, the missing path is a hint, not an error.
    await expect(page.getByTestId('import-missing').isVisible()).resolves.toBe(true);
    await expect(page.locator('main .error-text').count()).resolves.toBe(0);
    // One min-max entry in the scaling list.
    const scalings = await page.locator('main select.select').first().locator('option').allTextContents();
    expect(scalings.filter((s) => /min–max over the file/.test(s))).toHaveLength(1);
    await page.getByTestId('browse-csv').click();
    const chooser = page.getByTestId('file-chooser');
    await chooser.getByRole('button', { name: /^data/ }).click();
    await chooser.getByRole('button', { name: /mitbih_train\.csv/ }).waitFor();
    await shot('02b-data-file-chooser-light-1440x900', { fullPage: false });
    await chooser.getByRole('button', { name: /mitbih_train\.csv/ }).click();
    await expect(page.getByTestId('csv-file').inputValue()).resolves.toBe(join(projectDir, 'data', 'mitbih_train.csv'));
    await page.getByTestId('import-data').click();
    await page.getByTestId('data-summary').waitFor({ timeout: 60_000 });
    await page.locator('[data-testid="sample-grid"] li').nth(CLASSES - 1).waitFor();
    const captions = await page.locator('[data-testid="sample-grid"] .cap').allTextContents();
    const classesShown = new Set(captions.map((c) => c.trim().split(/\s+/).pop()));
    expect(classesShown.size).toBe(CLASSES);
    expect(await done('data')).toBe(1);
  }, 90_000);

  it('chooses ecgnet and plans it for the data\'s 1 × 187 samples', async () => {
    await go('model');
    await page.getByTestId('choose-ecgnet').click();
    await page.getByTestId('rule-ok').waitFor({ timeout: 60_000 });
    await expect(page.locator('main .title p').textContent()).resolves.toContain(`input 1×${LENGTH}`);
    await expect(page.getByTestId('plan-default-shape').count()).resolves.toBe(0);
    expect(await done('model')).toBe(1);
  }, 90_000);

  it('trains 1 float + 1 QAT epoch; the form, the charts and the result speak the same epochs and names', async () => {
    await go('train');
    await page.getByTestId('epochs').fill('2');
    await page.getByTestId('qat-start').fill('1');
    // Small batches: 280 training beats give enough steps in two epochs to learn the five shapes.
    await page.getByLabel('Batch size').fill('8');
    await page.getByTestId('lr').fill('0.003');
    await expect(page.getByTestId('schedule-hint').textContent()).resolves.toMatch(/^Epoch 1 trains in float; epoch 2 runs quantization-aware training/);
    await expect(page.locator('main').textContent()).resolves.not.toContain('BatchNorm');
    await page.getByTestId('start-training').click();
    await page.getByTestId('train-result').waitFor({ timeout: 300_000 });
    const rows = await page.locator('[data-testid="train-result"] tr[data-row] td:first-child').allTextContents();
    expect(rows).toEqual(['Float baseline', 'PTQ 8-bit', 'QAT 8-bit']);
    await expect(page.getByTestId('model-legend').textContent()).resolves.toContain('Float baseline');
    const accs = await page.locator('[data-testid="train-result"] tr[data-row] td.strong').allTextContents();
    for (const a of accs) expect(Number.parseFloat(a)).toBeGreaterThan(30); // 5 classes: chance is 20 %
    expect(await page.locator('[data-testid="train-result"] .file').allTextContents()).toContain('test.windows.npy');
  }, 330_000);

  it('starts the virtual MAX78002 from Deploy on this project\'s export', async () => {
    await go('quantize');
    await page.locator('main[data-view="quantize"] h2').first().waitFor();
    await go('deploy');
    await page.getByTestId('deploy-virtual').waitFor();
    await expect(page.getByTestId('deploy-virtual').textContent()).resolves.toContain('test windows');
    await page.getByTestId('deploy-start-virtual').click();
    await page.getByTestId('deploy-virtual').getByText(/Running on .*connected/).waitFor({ timeout: 60_000 });
  }, 90_000);

  it('checks the device on the project\'s own test windows, and says what the saved windows disagree with', async () => {
    await go('device-check');
    await page.getByTestId('link-status').filter({ hasText: 'Connected' }).waitFor({ timeout: 30_000 });
    // The input list defaults to this project's data set; the MNIST digits are not offered here.
    const source = page.locator('main select.select').first();
    await expect(source.locator('option:checked').textContent()).resolves.toBe('Test set of mitbih_train');
    await expect(source.locator('option').allTextContents()).resolves.not.toContain(expect.stringContaining('MNIST'));
    await expect(page.locator('dd.mono').filter({ hasText: `1 × ${LENGTH}` }).count()).resolves.toBe(1);
    // The input scaling the export expects, from its model.json: the CSV was scaled min-max.
    await expect(page.getByTestId('input-scaling').textContent()).resolves.toMatch(/^Input scaling: raw \[[-\d.e]+, [-\d.e]+\] → int8 \(min-max of the training file\); raw windows are scaled the same way$/);
    await page.getByTestId('window-count').fill(String(WINDOWS));
    await page.getByTestId('start-check').click();
    await page.getByTestId('check-report').waitFor({ timeout: 120_000 });
    await expect(page.locator('[data-metric="exact"] .value').textContent()).resolves.toBe('100.0%');
    const saved = (await page.getByTestId('saved-windows').textContent())!;
    expect(saved).toMatch(/Windows saved for retraining\d+ \((the device agrees with every reference|.*differ from their labels.*)\)/);
    expect(saved).not.toMatch(/from the simulator/); // it is the simulator: never disagrees with itself
    await expect(page.getByTestId('model-legend').textContent()).resolves.toContain('Float twin of QAT');
  }, 180_000);

  it('checks an integer .npy of raw sensor values once it is marked raw, scaled as the model expects', async () => {
    // ADC-like counts, far outside int8: refused as int8 codes; marked raw, the host scales them with
    // model.json input.scaling (the report says so).
    const rawFile = join(projectDir, 'raw-counts.npy');
    const windows = 10;
    writeFileSync(rawFile, writeNpy({ dtype: 'int16', shape: [windows, LENGTH], data: Int16Array.from({ length: windows * LENGTH }, (_, i) => (i * 37) % 1000) }));
    await page.locator('main select.select').first().selectOption('file');
    await page.getByPlaceholder('/data/windows.npy or /data/raw.csv').fill(rawFile);
    // The scaling the model expects stands beside the file and the raw toggle.
    const controls = page.locator('section.controls');
    await expect(controls.getByTestId('input-scaling').count()).resolves.toBe(1);
    await expect(controls.getByTestId('input-scaling').textContent()).resolves.toMatch(/^Input scaling: raw \[[-\d.e]+, [-\d.e]+\] → int8 \(min-max of the training file\)/);
    await expect(page.getByTestId('raw-ints').isChecked()).resolves.toBe(false);
    await page.getByTestId('window-count').fill(String(windows));
    // Unmarked, the counts are taken for int8 codes and refused, naming the file and what to do.
    await page.getByTestId('start-check').click();
    await expect(controls.getByRole('alert').textContent({ timeout: 60_000 })).resolves.toMatch(/raw-counts\.npy.*mark raw values as raw/);
    await page.getByTestId('raw-ints').check();
    await page.getByTestId('start-check').click();
    await expect.poll(() => page.getByTestId('check-report').locator('.meta').textContent(), { timeout: 120_000 }).toMatch(new RegExp(`^${windows} windows · .*raw-counts\\.npy \\(raw values scaled to int8\\)`));
    await expect(page.locator('[data-metric="exact"] .value').textContent()).resolves.toBe('100.0%');
  }, 180_000);

  it('saves every view in both themes at 1440 × 900 and 1024 × 768; no card is wider than its box', async () => {
    const overflowing: string[] = [];
    for (const theme of ['light', 'dark'] as const) {
      if ((await page.evaluate(() => document.documentElement.dataset.theme)) !== theme) await page.getByTestId('theme-toggle').click();
      await expect(page.evaluate(() => document.documentElement.dataset.theme)).resolves.toBe(theme);
      for (const size of SIZES) {
        await page.setViewportSize(size);
        for (const [i, view] of VIEWS.entries()) {
          await go(view);
          await page.waitForTimeout(view === 'model' ? 1500 : 500); // the graph's layout runs in a worker
          const name = `${String(i + 1).padStart(2, '0')}-${view}-${theme}-${size.width}x${size.height}`;
          await shot(name, { fullPage: false });
          overflowing.push(...(await pastCardEdge()).map((w) => `${name}: ${w}`));
          // What lies below the fold, once, scrolled to the end of the view.
          const more = await page.locator('main').evaluate((m) => m.scrollHeight > m.clientHeight + 40);
          if (more) {
            await page.locator('main').evaluate((m) => m.scrollTo(0, m.scrollHeight));
            await page.waitForTimeout(200);
            await shot(`${name}-end`, { fullPage: false });
            await page.locator('main').evaluate((m) => m.scrollTo(0, 0));
          }
        }
      }
    }
    await page.setViewportSize(SIZES[0]);
    expect(overflowing).toEqual([]);
  }, 240_000);

  it('a link lost for good mid-check ends with the report so far, saying why', async () => {
    await go('device-check');
    const port = (await page.locator('dd.mono').first().textContent())!.trim();
    expect(port).toMatch(/\/max78002$/);
    await page.locator('main select.select').first().selectOption('device'); // live: the virtual sensor streams until stopped
    await page.getByTestId('window-count').fill('100000');
    await page.getByTestId('start-check').click();
    await page.getByText(/^([5-9]|\d\d+) windows$/).first().waitFor({ timeout: 60_000 });
    pullCable(port); // for good: socat SIGKILLed, its port gone
    const ended = page.getByTestId('check-ended');
    await ended.waitFor({ timeout: 60_000 });
    expect(await ended.getAttribute('data-status')).toBe('link-lost');
    const text = (await ended.textContent())!;
    expect(text).toMatch(/The link to the device was lost; the check ended early\..*has been gone for \d+ s.*The check ended after (\d+) of 100000 windows/);
    const kept = Number(/ended after (\d+) of/.exec(text)![1]);
    expect(kept).toBeGreaterThanOrEqual(5);
    await expect(page.getByTestId('check-report').locator('.meta').textContent()).resolves.toContain(`${kept} of 100000 windows`);
    await page.locator('main').evaluate((m) => m.scrollTo(0, m.scrollHeight));
    await shot('device-check-link-lost', { fullPage: false });
  }, 120_000);

  it('stops the virtual device', async () => {
    await go('device-check');
    if (await page.getByTestId('disconnect').count()) await page.getByTestId('disconnect').click();
    await page.getByRole('button', { name: 'Stop virtual device' }).click();
    await page.getByRole('button', { name: 'Stop virtual device' }).waitFor({ state: 'detached' });
  }, 30_000);

  it('logged no console errors', () => {
    expect(consoleErrors).toEqual([]);
  });
});
