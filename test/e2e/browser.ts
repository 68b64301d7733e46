// Headless Debian chromium through playwright-core, with the flags this machine needs, and the one
// set-up every browser suite shares: a real `qatwb serve` child, a page on it, its errors collected.
import { afterAll, beforeAll } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServe, type ServeProcess } from '../server/serve-process.ts';
import { RENDERER_DIR } from '../support/fixtures.ts';

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

export interface AppOptions {
  viewport?: { width: number; height: number };
  theme?: 'light' | 'dark';
  /** Folder for `shot()`; made before the first test. */
  out?: string;
  acceptDownloads?: boolean;
  /** Runs once `qatwb serve` is up, before the browser starts: settings files, service calls. */
  prepare?: (serve: ServeProcess) => unknown;
  /** For the whole set-up, `prepare` included. */
  timeoutMs?: number;
}

export interface App {
  /** These three stand for the real objects once the suite's beforeAll has made them. */
  page: Page;
  browser: Browser;
  serve: ServeProcess;
  /** The page's console errors and uncaught exceptions. */
  errors: string[];
  /** Clicks a workflow step in the sidebar and waits for its view. */
  go(step: string): Promise<void>;
  /** Creates a project from the Project view (a fresh page load) and waits for its name in the header. */
  newProject(name: string, folder: string): Promise<void>;
  /** Imports `<project>/data/<file>` on the Data view, picked with the file chooser. */
  importCsv(file: string): Promise<void>;
  /** A screenshot `<out>/<name>.png` (full page unless told). */
  shot(name: string, options?: { fullPage?: boolean }): Promise<Buffer>;
  /** Stops `qatwb serve` and starts it again on the same state folder (a new port and token). */
  restartServe(): Promise<void>;
}

/**
 * Registers the suite's beforeAll/afterAll: `qatwb serve` on the built renderer, then chromium with
 * one page whose errors are collected. Call it at the top of a describe; use what it returns in tests.
 */
export function openApp(options: AppOptions = {}): App {
  const live: { page?: Page; browser?: Browser; serve?: ServeProcess } = {};
  const errors: string[] = [];
  const out = options.out ?? 'test-results/screenshots';
  const page = lateBound<Page>(() => live.page, 'page');
  const serveArgs = ['--renderer-dir', RENDERER_DIR];
  const go = async (step: string) => {
    await page.locator(`nav a[data-step="${step}"]`).click();
    await page.locator(`main[data-view="${step}"]`).waitFor();
  };

  beforeAll(async () => {
    mkdirSync(out, { recursive: true });
    live.serve = await startServe(serveArgs);
    await options.prepare?.(live.serve);
    live.browser = await launchBrowser();
    live.page = await live.browser.newPage({
      viewport: options.viewport ?? { width: 1440, height: 900 },
      colorScheme: options.theme ?? 'light',
      acceptDownloads: options.acceptDownloads ?? false,
    });
    collectPageErrors(live.page, errors);
  }, options.timeoutMs ?? 60_000);

  afterAll(async () => {
    await live.browser?.close();
    // A step that failed with the virtual device still running leaves children that keep qatwb
    // serve alive after SIGTERM; do not hang the run on that.
    await stopWithin(live.serve);
  }, 30_000);

  return {
    page,
    browser: lateBound<Browser>(() => live.browser, 'browser'),
    serve: lateBound<ServeProcess>(() => live.serve, 'serve'),
    errors,
    go,
    async newProject(name, folder) {
      await page.goto(live.serve!.url);
      await page.getByLabel('Name', { exact: true }).fill(name);
      await page.getByLabel(/^Folder/).fill(folder);
      await page.getByRole('button', { name: 'Create' }).click();
      await page.getByTestId('header-project').filter({ hasText: name }).waitFor();
    },
    async importCsv(file) {
      await go('data');
      await page.getByRole('radio', { name: 'CSV file' }).check();
      await page.getByTestId('browse-csv').click();
      const chooser = page.getByTestId('file-chooser');
      await chooser.getByRole('button', { name: /^data/ }).click();
      await chooser.getByRole('button', { name: file }).click();
      await page.getByTestId('import-data').click();
      await page.getByTestId('data-summary').waitFor({ timeout: 60_000 });
    },
    shot: (name, shotOptions) => page.screenshot({ path: join(out, `${name}.png`), fullPage: shotOptions?.fullPage ?? true }),
    async restartServe() {
      const stateDir = live.serve!.stateDir;
      await stopWithin(live.serve);
      live.serve = await startServe([...serveArgs, '--state-dir', stateDir]);
    },
  };
}

async function stopWithin(serve: ServeProcess | undefined): Promise<void> {
  await Promise.race([serve?.stop(), new Promise((r) => setTimeout(r, 15_000))]);
}

/** An object that forwards to what `current()` returns, so a suite can name it before beforeAll runs. */
function lateBound<T extends object>(current: () => T | undefined, name: string): T {
  const target = (): T => {
    const now = current();
    if (!now) throw new Error(`openApp(): ${name} is used before the suite's beforeAll made it`);
    return now;
  };
  return new Proxy({} as T, {
    get(_, key) {
      const real = target();
      const value: unknown = Reflect.get(real, key, real);
      return typeof value === 'function' ? value.bind(real) : value;
    },
    set: (_, key, value) => Reflect.set(target(), key, value),
    has: (_, key) => Reflect.has(target(), key),
  });
}
