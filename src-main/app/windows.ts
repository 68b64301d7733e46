// The main window: sandboxed renderer with context isolation and no Node, our preload only, and
// the built renderer (or the electron-vite dev server in development).
import { app, BrowserWindow, nativeTheme } from 'electron';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = (rel: string) => fileURLToPath(new URL(rel, import.meta.url));

/**
 * The electron-vite dev server, only in an unpackaged (development) run and only on loopback: a
 * packaged app must never load its UI, with the IPC bridge, from an address the environment names.
 */
function devServerUrl(): URL | undefined {
  const raw = process.env.ELECTRON_RENDERER_URL;
  if (!raw || app.isPackaged) return undefined;
  try {
    const u = new URL(raw);
    return u.protocol === 'http:' && (u.hostname === 'localhost' || u.hostname === '127.0.0.1') ? u : undefined;
  } catch {
    return undefined;
  }
}

/** The renderer's address: the dev server under `electron-vite dev`, else the built file. */
export function rendererUrl(): string {
  return devServerUrl()?.href ?? pathToFileURL(here('../renderer/index.html')).href;
}

/** Is this page our renderer (same document, any hash; under the dev server: the same origin)? */
export function isRendererUrl(url: string): boolean {
  const dev = devServerUrl();
  if (dev) {
    try {
      return new URL(url).origin === dev.origin;
    } catch {
      return false;
    }
  }
  const base = rendererUrl().split('#')[0]!.split('?')[0]!;
  const page = url.split('#')[0]!.split('?')[0]!;
  return page === base;
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
