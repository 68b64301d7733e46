// Browser test of the Model view in web mode: a real `qatwb serve`, headless chromium. Opens the
// MNIST example, sees ai85net5 as a 5-node graph, changes a layer's weight bits on its node and sees
// the weight-memory total follow (re-planned by the model service), sees the data memory map, and
// checks the choice lands in project.json's training section. Screenshots under test-results/.
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import type { Page } from 'playwright-core';
import { zoo } from '../../src-main/ir/zoo.ts';
import { serializeModel } from '../../src-main/ir/schema.ts';
import { planModel } from '../../src-main/planner/plan.ts';
import { createRpcClient } from '../../src-main/rpc/client.ts';
import type { Services } from '../../src-main/api/index.ts';
import { socketTransport, type SocketLike } from '../../src-renderer/api/socket-transport.ts';
import type { ServeProcess } from '../server/serve-process.ts';
import { openApp } from './browser.ts';
import { CONFORMANCE, gate, need } from '../support/fixtures.ts';

const OUT = 'test-results/screenshots';
const ui = gate(need.renderer());
const bytes = (s: string | null) => Number((s ?? '').replace(/[^0-9]/g, ''));

/** Calls the services of a running `qatwb serve` over its WebSocket, as the page does. */
async function withClient<T>(serve: ServeProcess, fn: (api: Services) => Promise<T>): Promise<T> {
  const transport = socketTransport(() => new WebSocket(`ws://127.0.0.1:${serve.port}/rpc?token=${serve.token}`, { origin: serve.origin }) as unknown as SocketLike);
  const client = createRpcClient(transport);
  try {
    return await fn(client.services);
  } finally {
    client.dispose();
    transport.close();
  }
}

/** Layers whose in or out connector dot covers the node's text (the dots belong on its edges). */
function dotsOnText(page: Page): Promise<string[]> {
  return page.locator('.vue-flow__node').evaluateAll((nodes) => nodes.flatMap((n) => {
    const box = (q: string) => n.querySelector(q)?.getBoundingClientRect();
    const [into, out, head] = [box('.vue-flow__handle-top:not(.side)'), box('.vue-flow__handle-bottom:not(.side)'), box('header')];
    const texts = Array.from(n.querySelectorAll('dl, .diag')).map((e) => e.getBoundingClientRect().bottom);
    const last = Math.max(...texts);
    return (into && head && into.bottom > head.top + 1) || (out && out.top < last - 1) ? [n.getAttribute('data-id') ?? '?'] : [];
  }));
}

/** A project whose model.json places conv2 on 32 processors although it reads 60 channels, and overlaps conv3's data. */
function brokenProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'qatwb-broken-'));
  mkdirSync(join(dir, 'artifacts'));
  const planned = planModel(zoo.ai85net5('MAX78002')).model;
  planned.layers[1]!.placement = { ...planned.layers[1]!.placement!, processors: '0x00000000ffffffff' };
  // conv3 writes its output over its input (both at 0 in the same instances); the chain stays consistent.
  const at = (i: number, inOffset: number, outOffset: number) => (planned.layers[i]!.placement = { ...planned.layers[i]!.placement!, inOffset, outOffset });
  at(2, 0, 0);
  at(3, 0, 0xa000);
  at(4, 0xa000, 0);
  writeFileSync(join(dir, 'artifacts', 'model.json'), JSON.stringify(serializeModel(planned)));
  const now = new Date().toISOString();
  writeFileSync(join(dir, 'project.json'), JSON.stringify({
    schemaVersion: 1, name: 'Broken placement', device: 'MAX78002', data: null,
    model: { kind: 'file', path: 'artifacts/model.json' }, createdAt: now, updatedAt: now, sections: {},
  }));
  return dir;
}

describe.skipIf(ui.skip)('Model view in web mode (chromium)' + ui.note, () => {
  const { page, serve, errors: consoleErrors, shot } = openApp({ out: OUT, viewport: { width: 1440, height: 1000 } });

  beforeAll(async () => {
    await page.goto(serve.url);
    await page.getByTestId('open-example').click();
    await page.getByTestId('header-project').filter({ hasText: 'MNIST digits' }).waitFor();
  });

  it('shows ai85net5 as a graph of 5 layer nodes with processors, shapes and weight memory', async () => {
    await page.locator('nav a[data-step="model"]').click();
    await page.getByTestId('layer-node').nth(4).waitFor();
    expect(await page.getByTestId('layer-node').count()).toBe(5);
    const names = await page.getByTestId('layer-node').evaluateAll((els) => els.map((e) => e.getAttribute('data-layer')));
    expect(names).toEqual(['conv1', 'conv2', 'conv3', 'conv4', 'fc']);
    const conv2 = page.locator('[data-testid="layer-node"][data-layer="conv2"]');
    await expect(conv2.textContent()).resolves.toContain('60 → 60');
    await expect(conv2.textContent()).resolves.toContain('60×28×28 → 60×16×16');
    // 60 input channels → 60 processors, 3×3×60×60 8-bit weights = 32,400 bytes.
    await expect(conv2.textContent()).resolves.toMatch(/proc\s*60/);
    await expect(conv2.textContent()).resolves.toContain('32,400 B');
    await expect(page.getByTestId('rule-ok').textContent()).resolves.toContain('fits the MAX78002');
    await page.waitForFunction(() => performance.getEntriesByName('qatwb:graph-render').length > 0);
    await expect(dotsOnText(page)).resolves.toEqual([]);
    await shot('model-graph');
  });

  it('changes a layer to 2-bit on its node and the weight-memory total follows', async () => {
    const total = page.getByTestId('weight-total');
    const before = bytes(await total.textContent());
    expect(before).toBeGreaterThan(60_000);
    await page.locator('[data-testid="layer-node"][data-layer="conv2"] [data-testid="node-bits"]').selectOption('2');
    // conv2's 32,400 bytes at 8 bits become 8,100 at 2 bits.
    await page.waitForFunction((b) => Number(document.querySelector('[data-testid="weight-total"]')?.textContent?.replace(/[^0-9]/g, '')) !== b, before);
    expect(bytes(await total.textContent())).toBe(before - 32_400 + 8_100);
    await expect(page.locator('[data-testid="layer-node"][data-layer="conv2"]').textContent()).resolves.toContain('8,100 B');
    // The choice is kept in the project's network (training reads it from there): it survives a reload.
    await page.reload();
    await page.locator('[data-testid="layer-node"][data-layer="conv2"] [data-testid="node-bits"]').waitFor();
    await expect(page.locator('[data-testid="layer-node"][data-layer="conv2"] [data-testid="node-bits"]').inputValue()).resolves.toBe('2');
    expect(bytes(await total.textContent())).toBe(before - 32_400 + 8_100);
    await page.getByTestId('all-bits-8').click();
    await page.waitForFunction((b) => Number(document.querySelector('[data-testid="weight-total"]')?.textContent?.replace(/[^0-9]/g, '')) === b, before);
  });

  it('selects a node from the keyboard', async () => {
    await page.locator('.vue-flow__node[data-id="L2"]').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('layer-select').inputValue()).toBe('2');
  });

  it('edits bits from the side panel with the keyboard', async () => {
    await page.getByTestId('layer-select').selectOption({ label: '4 · fc' });
    const before = bytes(await page.getByTestId('weight-total').textContent());
    await page.getByTestId('panel-bits-4').focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction((b) => Number(document.querySelector('[data-testid="weight-total"]')?.textContent?.replace(/[^0-9]/g, '')) < b, before);
    // fc: 12×4×4 = 192 inputs × 10 outputs; 1,920 bytes at 8 bits, 960 at 4 bits.
    expect(bytes(await page.getByTestId('weight-total').textContent())).toBe(before - 960);
  });

  it('shows the data memory map with each layer in and out of the ping-pong halves', async () => {
    const map = page.getByTestId('memory-map');
    await map.scrollIntoViewIfNeeded();
    for (const name of ['conv1', 'conv2', 'conv3', 'conv4', 'fc']) await expect(map.getByTestId(`memrow-${name}`).count()).resolves.toBe(1);
    await expect(map.textContent()).resolves.toContain('no overlap, no overflow');
    await expect(map.textContent()).resolves.toContain('0xa000');
    await map.screenshot({ path: `${OUT}/model-memory-map.png` });
    await page.getByTestId('weight-memory').screenshot({ path: `${OUT}/model-weight-memory.png` });
  });

  it('marks a rule violation on its node, with the fix, and counts it in the header', async () => {
    const dir = brokenProject();
    await withClient(serve, (api) => api.project.open({ path: dir }));
    await page.getByTestId('header-project').filter({ hasText: 'Broken placement' }).waitFor();
    const conv2 = page.locator('[data-testid="layer-node"][data-layer="conv2"]');
    await conv2.and(page.locator('.error')).waitFor();
    await expect(conv2.textContent()).resolves.toContain('Fix: Set processors: 0x0fffffffffffffff');
    const errorNodes = await page.locator('[data-testid="layer-node"].error').evaluateAll((els) => els.map((e) => e.getAttribute('data-layer')));
    expect(errorNodes).toEqual(['conv2', 'conv3']);
    await expect(page.locator('[data-testid="layer-node"][data-layer="conv3"]').textContent()).resolves.toContain('overwriting its input');
    await expect(page.getByTestId('rule-errors').textContent()).resolves.toMatch(/2 rule errors/);
    await expect(page.getByTestId('memory-problems').textContent()).resolves.toContain('1 layer(s)');
    await expect(page.getByTestId('memrow-conv3').getAttribute('class')).resolves.toContain('problem');
    await expect(dotsOnText(page)).resolves.toEqual([]);
    await page.getByTestId('rule-errors').click();
    await expect(page.getByTestId('layer-diagnostic').first().textContent()).resolves.toContain('processors-count');
    await shot('model-rule-error', { fullPage: false });
  });

  it('inspects the mnist-qat8 conformance model (checkpoint + YAML): weight memory as ai8xize reports it', async () => {
    const dir = join(CONFORMANCE, 'mnist-qat8');
    const izer = JSON.parse(readFileSync(`${dir}/resources.json`, 'utf8')) as { weightMemoryBytes: number };
    await page.getByTestId('import-toggle').click();
    await page.getByTestId('import-checkpoint').fill(`${dir}/checkpoint.pth.tar`);
    await page.getByTestId('import-yaml').fill(`${dir}/network.yaml`);
    await page.getByTestId('import-sample').fill(`${dir}/sample.input.npy`);
    await page.getByTestId('import-open').click();
    await page.getByTestId('imported-banner').waitFor();
    await page.getByTestId('layer-node').nth(4).waitFor();
    expect(await page.getByTestId('layer-node').count()).toBe(5);
    await page.waitForFunction((b) => Number(document.querySelector('[data-testid="weight-total"]')?.textContent?.replace(/[^0-9]/g, '')) === b, izer.weightMemoryBytes);
    // Trained shifts come from the checkpoint: not all zero as in the untrained built-in network.
    const shifts = await page.locator('[data-testid="layer-node"] .shift').allTextContents();
    expect(shifts.some((t) => t !== 'shift 0')).toBe(true);
    await shot('model-imported', { fullPage: false });
    await page.getByRole('button', { name: "Back to the project's network" }).click();
    await page.getByTestId('imported-banner').waitFor({ state: 'detached' });
  });

  it('renders in the dark theme', async () => {
    await page.getByTestId('theme-toggle').click();
    await expect(page.evaluate(() => document.documentElement.dataset.theme)).resolves.toBe('dark');
    await shot('model-graph-dark');
    await page.getByTestId('theme-toggle').click();
  });

  it('logged no console errors', () => {
    expect(consoleErrors).toEqual([]);
  });
});

describe.skipIf(ui.skip)('Quantize view in web mode (chromium, after a short real training run)' + ui.note, () => {
  // 300 MNIST digits, 2 float epochs then 1 QAT epoch: enough for every chart to have data.
  const { page, serve, errors: consoleErrors, shot } = openApp({
    out: OUT,
    viewport: { width: 1440, height: 1000 },
    timeoutMs: 300_000,
    prepare: (s) =>
      withClient(s, async (api) => {
        await api.project.openExample({ name: 'mnist' });
        await api.training.train({ data: { source: { kind: 'example', name: 'mnist' }, limit: 300 }, model: 'ai85net5', epochs: 3, qatStart: 2, batchSize: 32 });
      }),
  });

  it('shows the float / PTQ / QAT table and the ranges of the selected layer and epoch', async () => {
    await page.goto(`${serve.url}#/quantize`);
    await page.getByTestId('accuracy-table').waitFor();
    const table = await page.getByTestId('accuracy-table').textContent();
    expect(table).toContain('Float baseline');
    expect(table).toContain('PTQ INT8');
    expect(table).toContain('QAT INT8');
    expect(await page.locator('[role="tab"]').count()).toBe(5);
    // The last epoch is the QAT one; its layer statistics are on show.
    // Epochs count from 1, as on the Train step.
    await expect(page.getByTestId('epoch-value').textContent()).resolves.toBe('3');
    await expect(page.locator('main').textContent()).resolves.toContain('QAT from epoch 3');
    expect(await page.locator('main canvas').count()).toBeGreaterThanOrEqual(6);
    await shot('quantize');
  });

  it('moves through layers with the arrow keys and through epochs with the slider', async () => {
    await page.locator('[data-layer-tab="conv1"]').focus();
    await page.keyboard.press('ArrowRight');
    await expect(page.locator('[role="tab"][aria-selected="true"]').getAttribute('data-layer-tab')).resolves.toBe('conv2');
    await page.getByTestId('epoch-slider').focus();
    await page.keyboard.press('Home');
    await expect(page.getByTestId('epoch-value').textContent()).resolves.toBe('1');
    await expect(page.locator('.phase').first().textContent()).resolves.toBe('float');
  });

  it('estimates a bits sensitivity per layer, falling with fewer bits', async () => {
    const rows = page.getByTestId('sensitivity-table').locator('tbody tr');
    expect(await rows.count()).toBe(5);
    const cells = await rows.first().locator('td').allTextContents();
    const db = cells.slice(1, 5).map((c) => Number.parseFloat(c));
    expect(db.every(Number.isFinite)).toBe(true);
    expect(db[0]!).toBeGreaterThan(db[1]!);
    expect(db[1]!).toBeGreaterThan(db[2]!);
    // Choosing 4-bit for conv2 here re-plans the model: 32,400 → 16,200 weight bytes.
    const total = () => page.getByTestId('sens-weight-total').textContent().then(bytes);
    await page.waitForFunction(() => /\d/.test(document.querySelector('[data-testid="sens-weight-total"]')?.textContent ?? ''));
    const before = await total();
    await page.getByTestId('sens-conv2-4').click();
    await page.waitForFunction((b) => Number(document.querySelector('[data-testid="sens-weight-total"]')?.textContent?.replace(/[^0-9]/g, '')) !== b, before);
    expect(await total()).toBe(before - 16_200);
    await expect(page.getByTestId('sens-conv2-4').getAttribute('aria-pressed')).resolves.toBe('true');
    await page.getByTestId('sensitivity-table').scrollIntoViewIfNeeded();
    await shot('quantize-sensitivity', { fullPage: false });
    await page.getByTestId('theme-toggle').click();
    await page.locator('main').evaluate((m) => m.scrollTo(0, 0));
    await shot('quantize-dark', { fullPage: false });
    await page.getByTestId('theme-toggle').click();
  });

  it('logged no console errors', () => {
    expect(consoleErrors).toEqual([]);
  });
});
