// Your own network in the browser against a real `qatwb serve`: a new project → a CSV of 1 × 128
// beats (5 classes) → import the PyTorch ECG CNN with BatchNorm (ONNX, picked with the file chooser)
// → the builder: a kernel too long for Conv1d breaks a rule, its fix is shown beside the layer and
// applied, the network is saved → 1 float + 1 QAT epoch → the checkpoint verification lines → the
// export folder; then a network uploaded from the browser. Screenshots go to test-results/screenshots/own-network/ for a person to look at.
import { describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openApp } from './browser.ts';
import { seededRng } from '../../src-main/data/random.ts';
import { FIXTURES, gate, need } from '../support/fixtures.ts';

const ui = gate(need.renderer());
const CLASSES = 5;
const LENGTH = 128;

/** 5 classes of 1 × 128 beats in [0, 1]: each class its own wave, plus noise; label last. */
function beatsCsv(): string {
  const rng = seededRng(13);
  const rows: string[] = [];
  for (let i = 0; i < 300; i++) {
    const c = i % CLASSES;
    const v = Array.from({ length: LENGTH }, (_, t) => 0.5 + 0.35 * Math.sin((2 * Math.PI * (c + 1) * t) / 64) + (rng() - 0.5) * 0.05);
    rows.push([...v.map((x) => x.toFixed(4)), String(c)].join(','));
  }
  return rows.join('\n') + '\n';
}

describe.skipIf(ui.skip)('own network walk: new project → import ONNX → builder fix → train → verification → export (chromium)' + ui.note, () => {
  const { page, serve, errors: consoleErrors, go, shot, importCsv } = openApp({ out: 'test-results/screenshots/own-network' });
  const projectDir = join(mkdtempSync(join(tmpdir(), 'qatwb-own-walk-')), 'my-ecg');

  it('creates a project with a CSV and the exported PyTorch model in it, and imports the CSV', async () => {
    await page.goto(serve.url);
    await page.getByLabel('Name', { exact: true }).fill('My ECG');
    await page.getByLabel(/^Folder/).fill(projectDir);
    // The new project asks for its data and its network; importing one's own is the default.
    await expect(page.getByTestId('new-data').inputValue()).resolves.toBe('files');
    await expect(page.getByTestId('new-network').inputValue()).resolves.toBe('import');
    await shot('0-new-project');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByTestId('header-project').filter({ hasText: 'My ECG' }).waitFor();
    await expect(page.getByTestId('next-step').textContent()).resolves.toMatch(/import your data set in Data, then import your network \(ONNX/);
    mkdirSync(join(projectDir, 'data'));
    writeFileSync(join(projectDir, 'data', 'beats.csv'), beatsCsv());
    copyFileSync(join(FIXTURES, 'networks', 'ecg-bn.onnx'), join(projectDir, 'data', 'ecg-bn.onnx'));
    await importCsv('beats.csv');
  }, 120_000);

  it('imports the ONNX model picked with the file chooser: BatchNorm layers, the pool before the classifier as its own layer', async () => {
    await go('model');
    await page.getByTestId('choose-import').click();
    await page.getByTestId('import-network-browse').click();
    const chooser = page.getByTestId('file-chooser');
    await chooser.getByRole('button', { name: /^data/ }).click();
    await chooser.getByRole('button', { name: /ecg-bn\.onnx/ }).click();
    await expect(page.getByTestId('import-network-path').inputValue()).resolves.toBe(join(projectDir, 'data', 'ecg-bn.onnx'));
    await page.getByTestId('import-network-open').click();
    await page.getByTestId('rule-ok').waitFor({ timeout: 60_000 });
    await expect(page.locator('main .title h2').textContent()).resolves.toBe('ecg_bn');
    await expect(page.locator('main .title p').textContent()).resolves.toContain(`5 layers · input 1×${LENGTH}`);
    await expect(page.getByTestId('import-network').count()).resolves.toBe(0);
    const saved = JSON.parse(readFileSync(join(projectDir, 'network.model.json'), 'utf8'));
    expect(saved.layers.map((l: { op: string }) => l.op)).toEqual(['conv1d', 'conv1d', 'conv1d', 'passthrough', 'linear']);
    expect(saved.layers.filter((l: { batchNorm?: boolean }) => l.batchNorm)).toHaveLength(2);
    await shot('1-imported');
  }, 120_000);

  it('edits a layer in the builder: the broken rule and its fix appear beside it, Apply fix resolves it, Save re-plans', async () => {
    await page.getByTestId('builder-toggle').click();
    const builder = page.getByTestId('network-builder');
    await builder.waitFor();
    await expect(builder.getByTestId('builder-ok').count()).resolves.toBe(1);
    const kernel = builder.getByTestId('kernel-c3');
    await kernel.fill('11');
    await kernel.press('Enter');
    await builder.getByTestId('builder-errors').waitFor();
    const problem = builder.getByTestId('builder-problem').first();
    await expect(problem.textContent()).resolves.toMatch(/c3.*Conv1d kernel size 11 is not supported; it must be 1 to 9\..*Fix: Use a kernel size between 1 and 9\./);
    await shot('2-rule-broken');
    await builder.getByTestId('apply-fix-c3').click();
    await builder.getByTestId('builder-ok').waitFor();
    await expect(builder.getByTestId('kernel-c3').inputValue()).resolves.toBe('9');
    await expect(builder.textContent()).resolves.toContain('start from fresh weights: c3');
    // Undo goes back to the broken kernel, redo to the fix.
    await builder.getByTestId('builder-undo').click();
    await builder.getByTestId('builder-errors').waitFor();
    await builder.getByTestId('builder-redo').click();
    await builder.getByTestId('builder-ok').waitFor();
    await builder.getByTestId('builder-save').click();
    await builder.waitFor({ state: 'detached', timeout: 60_000 });
    await page.getByTestId('rule-ok').waitFor({ timeout: 60_000 });
    const saved = JSON.parse(readFileSync(join(projectDir, 'network.model.json'), 'utf8'));
    expect(saved.layers[2].kernel).toEqual([9, 1]);
    expect(saved.layers[2].init).toBeUndefined();
    expect(saved.layers[0].init.bn).toBeDefined();
  }, 120_000);

  it('trains 1 float + 1 QAT epoch on it; the verification lines and the export folder appear', async () => {
    await go('train');
    await expect(page.getByTestId('train-network').textContent()).resolves.toMatch(/network\.model\.json.*edit in the builder/);
    await page.getByTestId('epochs').fill('2');
    await page.getByTestId('qat-start').fill('1');
    await page.getByTestId('start-training').click();
    await page.getByTestId('train-result').waitFor({ timeout: 300_000 });
    const lines = await page.getByTestId('verification').locator('li').allTextContents();
    expect(lines).toEqual([
      '✓ No BatchNorm layers left (folded at the QAT start)',
      '✓ QAT parameters present on 4 layers (weight_bits, bias_bits, output_shift, …)',
      '✓ Weights on each layer\'s bit grid',
    ]);
    const dir = (await page.getByTestId('export-dir').textContent())!.trim();
    expect(existsSync(join(dir, 'checkpoint.pth.tar'))).toBe(true);
    const q = JSON.parse(readFileSync(join(dir, 'quantization.json'), 'utf8'));
    expect(q.verification).toEqual({ batchNormLeft: 0, qatParameters: 4, onGrid: true });
    await shot('3-trained');
  }, 330_000);

  it('web mode: a network uploaded from the browser\'s computer is kept in the project; one that does not fit the data says so', async () => {
    await go('model');
    await page.getByTestId('import-network-toggle').click();
    await page.getByTestId('import-network-upload').setInputFiles(join(FIXTURES, 'networks', 'fall-3axis.onnx'));
    await page.getByTestId('import-network-open').click();
    await page.locator('main .title h2').filter({ hasText: 'fall_3axis' }).waitFor({ timeout: 60_000 });
    expect(existsSync(join(projectDir, 'imports', 'fall-3axis.onnx'))).toBe(true);
    await expect(page.getByTestId('plan-wrong-data').textContent()).resolves.toMatch(/takes 3 × 64 samples and gives 2 outputs; the data set has 1 × 128 samples in 5 classes/);
    await shot('4-uploaded');
    expect(consoleErrors).toEqual([]);
  }, 120_000);
});
