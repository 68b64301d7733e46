// The main window: sandboxed renderer with context isolation and no Node, our preload only, and
// the built renderer (or the electron-vite dev server in development).
import { BrowserWindow, nativeTheme } from 'electron';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = (rel: string) => fileURLToPath(new URL(rel, import.meta.url));

/** The renderer's address: the dev server under `electron-vite dev`, else the built file. */
export function rendererUrl(): string {
  return process.env.ELECTRON_RENDERER_URL ?? pathToFileURL(here('../renderer/index.html')).href;
}

/** Is this page our renderer (same document, any hash)? */
export function isRendererUrl(url: string): boolean {
  const base = rendererUrl().split('#')[0]!.split('?')[0]!;
  const page = url.split('#')[0]!.split('?')[0]!;
  return process.env.ELECTRON_RENDERER_URL ? page.startsWith(base) : page === base;
}

export function createMainWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1320,
    height: 860,
    minWidth: 960,
    minHeight: 600,
    show: false,
    title: 'QAT Workbench',
    backgroundColor: nativeTheme.shouldUseDarkColors ? '#111418' : '#f6f7f9',
    webPreferences: {
      preload: here('../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      webviewTag: false,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  void win.loadURL(rendererUrl());
  return win;
}
