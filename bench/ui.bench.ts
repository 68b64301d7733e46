// UI speed in web mode, measured in headless Chromium against a real `qatwb serve`:
//  - first paint: navigation start → first contentful paint, and → the shell connected (the
//    "Web · 127.0.0.1" badge), over fresh browser contexts; baseline in the same run: the first
//    contentful paint of a one-line static page from the same server process's origin;
//  - graph render: the Model view's `qatwb:graph-render` measure (layout — direct for a chain, ELK
//    in the worker when there are branches — then Vue Flow rendering the nodes near the view, to the
//    next frame) for 128-layer models, a chain and one with residual skips (goal < 300 ms), with the
//    5-layer MNIST network measured in the same run as the baseline; also route click → graph shown.
// The first visit of each graph is printed too (later visits reuse layouts cached in the session).
// Prints figures, ratios to the goals and to the baselines. Run: npm run bench:ui
// Needs the built renderer (out/renderer); builds it when missing.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import type { Browser, Page } from 'playwright-core';
import type { Layer, Model } from '../src-main/ir/graph.ts';
import { serializeModel } from '../src-main/ir/schema.ts';
import { planModel } from '../src-main/planner/plan.ts';
import { createRpcClient } from '../src-main/rpc/client.ts';
import { socketTransport, type SocketLike } from '../src-renderer/api/socket-transport.ts';
import { startServe, type ServeProcess } from '../test/server/serve-process.ts';
import { launchBrowser } from '../test/e2e/browser.ts';

const GRAPH_GOAL_MS = 300;
const PAINT_GOAL_MS = 1500;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (v: number) => `${v.toFixed(0)} ms`;

/** 127 conv2d 3×3 (16→16 channels, 16×16) and a flattening linear layer: 128 layers, fits the MAX78002. */
function deepModel(): Model {
  const conv = (i: number): Layer => ({
    name: `conv${i}`, op: 'conv2d', inChannels: 16, outChannels: 16, kernel: [3, 3], pad: 1, stride: 1,
    flatten: false, activation: 'relu', weightBits: 8, outputShift: 0, outputWidth: 8, hasBias: false,
  });
  const layers = Array.from({ length: 127 }, (_, i) => conv(i + 1));
  layers.push({
    name: 'fc', op: 'linear', inChannels: 16, outChannels: 10, kernel: [1, 1], pad: 0, stride: 1, flatten: true,
    activation: 'none', weightBits: 8, outputShift: 0, outputWidth: 32, hasBias: true,
  });
  return { arch: 'deep128', dataset: 'synthetic', device: 'MAX78002', input: { channels: 16, dims: [16, 16], format: 'HWC' }, layers };
}

/** The same 128 layers with a residual add every fourth layer (skip over two convs): ELK lays it out. */
function residualModel(): Model {
  const m = deepModel();
  m.arch = 'residual128';
  m.layers = m.layers.map((l, i) => (i % 4 === 3 && i < m.layers.length - 1
    ? { ...l, name: `add${i}`, op: 'add', kernel: [1, 1], pad: 0, activation: 'none', operands: 2, inputs: [i - 3, i - 1] }
    : l));
  return m;
}

/** Parallel branches (inception-like: two convs side by side, then their sum): only ELK can lay it out. */
function parallelModel(): Model {
  const m = deepModel();
  m.arch = 'parallel128';
  m.layers = m.layers.map((l, i) => {
    if (i === m.layers.length - 1 || i < 2) return l;
    if (i % 4 === 2) return { ...l, inputs: [i - 2] };
    if (i % 4 === 3) return { ...l, name: `add${i}`, op: 'add', kernel: [1, 1], pad: 0, activation: 'none', operands: 2, inputs: [i - 2, i - 1] };
    return l;
  });
  return m;
}

function projectWith(model: Model): string {
  const dir = mkdtempSync(join(tmpdir(), 'qatwb-bench-ui-'));
  mkdirSync(join(dir, 'artifacts'));
  writeFileSync(join(dir, 'artifacts', 'model.json'), JSON.stringify(serializeModel(model)));
  const now = new Date().toISOString();
  writeFileSync(join(dir, 'project.json'), JSON.stringify({
    schemaVersion: 1, name: `bench ${model.arch}`, device: model.device, data: null,
    model: { kind: 'file', path: 'artifacts/model.json' }, createdAt: now, updatedAt: now, sections: {},
  }));
  return dir;
}

async function openProject(serve: ServeProcess, path: string | 'example'): Promise<void> {
  const transport = socketTransport(() => new WebSocket(`ws://127.0.0.1:${serve.port}/rpc?token=${serve.token}`, { origin: serve.origin }) as unknown as SocketLike);
  const client = createRpcClient(transport);
  try {
    if (path === 'example') await client.services.project.openExample({ name: 'mnist' });
    else await client.services.project.open({ path });
  } finally {
    client.dispose();
    transport.close();
  }
}

async function firstPaint(browser: Browser, url: string, ready: ((p: Page) => Promise<unknown>) | null): Promise<{ fcp: number; ready: number }> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  const page = await context.newPage();
  await page.goto(url);
  let readyMs = 0;
  if (ready) {
    await ready(page);
    readyMs = await page.evaluate(() => performance.now());
  }
  await page.waitForFunction(() => performance.getEntriesByName('first-contentful-paint').length > 0);
  const fcp = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]!.startTime);
  await context.close();
  return { fcp, ready: readyMs };
}

/** Visits the Model view `RUNS` times; returns the graph-render measures and route → rendered times. */
async function graphRender(page: Page, layers: number, shot: string): Promise<{ render: number[]; route: number[]; layout: number[] }> {
  const render: number[] = [];
  const route: number[] = [];
  const layout: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    await page.locator('nav a[data-step="project"]').click();
    await page.locator('main[data-view="project"]').waitFor();
    await page.evaluate(() => performance.clearMeasures('qatwb:graph-render'));
    const t0 = await page.evaluate(() => performance.now());
    await page.locator('nav a[data-step="model"]').click();
    await page.waitForFunction(() => performance.getEntriesByName('qatwb:graph-render').length > 0, undefined, { timeout: 60_000 });
    const m = await page.evaluate(() => {
      const e = performance.getEntriesByName('qatwb:graph-render')[0]!;
      const l = performance.getEntriesByName('qatwb:graph-layout').at(-1)!;
      return { d: e.duration, end: e.startTime + e.duration, layout: l.duration };
    });
    layout.push(m.layout);
    // Large graphs render only the nodes near the view; the side panel lists every layer.
    const listed = await page.getByTestId('layer-select').locator('option').count();
    const shown = await page.getByTestId('layer-node').count();
    if (listed !== layers || shown === 0) throw new Error(`expected ${layers} layers, found ${listed} (${shown} nodes shown)`);
    if (i === 0) {
      console.log(`  ${shot}: ${shown} of ${layers} nodes rendered near the view; first visit ${ms(m.d)}`);
      mkdirSync('test-results/screenshots', { recursive: true });
      await page.getByTestId('model-graph').screenshot({ path: `test-results/screenshots/bench-${shot}.png` });
    }
    render.push(m.d);
    route.push(m.end - t0);
  }
  return { render, route, layout };
}

if (!existsSync('out/renderer/index.html')) {
  console.log('building the renderer (out/renderer missing)…');
  execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--config', 'vite.renderer.config.ts', '--logLevel', 'warn'], { stdio: 'inherit' });
}
const deep = deepModel();
const planned = planModel(deep);
const errors = planned.diagnostics.filter((d) => d.severity === 'error');
if (errors.length) throw new Error(`the 128-layer bench model breaks a rule: ${errors[0]!.message}`);

const serve = await startServe();
const browser = await launchBrowser();
try {
  // First paint: fresh contexts, the app vs a static one-liner (the server's 404 page is not HTML, so a data: URL).
  const app: { fcp: number; ready: number }[] = [];
  const base: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    app.push(await firstPaint(browser, serve.url, (p) => p.getByText('Web · 127.0.0.1').waitFor()));
    base.push((await firstPaint(browser, 'data:text/html,<!doctype html><h1>QAT Workbench</h1>', null)).fcp);
  }
  const fcp = median(app.map((a) => a.fcp));
  const ready = median(app.map((a) => a.ready));
  const fcpBase = median(base);

  const page = await (await browser.newContext({ viewport: { width: 1440, height: 1000 } })).newPage();
  await page.goto(serve.url);
  await page.getByText('Web · 127.0.0.1').waitFor();
  await openProject(serve, 'example');
  await page.getByTestId('header-project').filter({ hasText: 'MNIST digits' }).waitFor();
  const small = await graphRender(page, 5, 'mnist5');
  await openProject(serve, projectWith(deep));
  await page.getByTestId('header-project').filter({ hasText: 'bench deep128' }).waitFor();
  const big = await graphRender(page, 128, 'chain128');

  await openProject(serve, projectWith(residualModel()));
  await page.getByTestId('header-project').filter({ hasText: 'bench residual128' }).waitFor();
  const branched = await graphRender(page, 128, 'residual128');
  await openProject(serve, projectWith(parallelModel()));
  await page.getByTestId('header-project').filter({ hasText: 'bench parallel128' }).waitFor();
  const parallel = await graphRender(page, 128, 'parallel128');

  const verdict = (v: number, goal: number) => `${(v / goal).toFixed(2)} of goal${v < goal ? '' : ' — MISSED'}`;
  const line = (name: string, r: { render: number[]; layout: number[] }) =>
    console.log(`graph render, ${name.padEnd(22)} ${ms(median(r.render)).padStart(7)}   goal ${GRAPH_GOAL_MS} ms → ${verdict(median(r.render), GRAPH_GOAL_MS)}; layout ${ms(median(r.layout))}; ×${(median(r.render) / median(small.render)).toFixed(2)} the 5-layer graph`);
  console.log(`UI bench (headless Chromium, ${RUNS} runs each, medians)`);
  console.log(`first contentful paint              ${ms(fcp).padStart(7)}   goal ${PAINT_GOAL_MS} ms → ${verdict(fcp, PAINT_GOAL_MS)}; static page ${ms(fcpBase)} → ×${(fcp / fcpBase).toFixed(2)}`);
  console.log(`shell connected (usable)            ${ms(ready).padStart(7)}   goal ${PAINT_GOAL_MS} ms → ${verdict(ready, PAINT_GOAL_MS)}`);
  console.log(`graph render, 5 layers (baseline)   ${ms(median(small.render)).padStart(7)}   layout ${ms(median(small.layout))}`);
  line('128 chain', big);
  line('128 residual skips', branched);
  line('128 parallel (ELK)', parallel);
  console.log(`  parallel, first visit (ELK cold)   ${ms(parallel.render[0]!).padStart(7)}   goal ${GRAPH_GOAL_MS} ms → ${verdict(parallel.render[0]!, GRAPH_GOAL_MS)}; later visits reuse the session's layout`);
  console.log(`route → graph shown, 128 chain      ${ms(median(big.route)).padStart(7)}   (view chunk, load + plan over the API, layout, render); 5 layers ${ms(median(small.route))}`);
  console.log(`all runs (ms): chain [${big.render.map((v) => v.toFixed(0)).join(', ')}] residual [${branched.render.map((v) => v.toFixed(0)).join(', ')}] parallel [${parallel.render.map((v) => v.toFixed(0)).join(', ')}] fcp [${app.map((a) => a.fcp.toFixed(0)).join(', ')}]`);
  const all = [...[big, branched, parallel].map((r) => median(r.render)), parallel.render[0]!];
  console.log(all.every((v) => v < GRAPH_GOAL_MS) && fcp < PAINT_GOAL_MS ? 'all goals met' : 'SOME GOAL MISSED (see above)');
} finally {
  await browser.close();
  await serve.stop();
}
