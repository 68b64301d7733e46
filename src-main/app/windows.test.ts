// The main window's security settings, checked without Electron (its binary cannot run here):
// `electron` is replaced by a BrowserWindow that records its options.
import { describe, expect, it, vi } from 'vitest';

const created: { options: Record<string, unknown>; url?: string }[] = [];
const app = { isPackaged: true };
vi.mock('electron', () => ({
  app,
  nativeTheme: { shouldUseDarkColors: false },
  BrowserWindow: class {
    private entry: { options: Record<string, unknown>; url?: string };
    constructor(options: Record<string, unknown>) {
      this.entry = { options };
      created.push(this.entry);
    }
    once() {}
    loadURL(url: string) {
      this.entry.url = url;
      return Promise.resolve();
    }
  },
}));

const { createMainWindow, isRendererUrl, rendererUrl } = await import('./windows.ts');
const externalUrl = await import('./external-url.ts');

describe('main window', () => {
  it('is sandboxed, isolated, without Node, with our CJS preload only', () => {
    createMainWindow();
    const prefs = created[0]!.options.webPreferences as Record<string, unknown>;
    expect(prefs).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false });
    expect(String(prefs.preload)).toMatch(/[\\/]preload[\\/]index\.cjs$/);
    expect(created[0]!.url).toBe(rendererUrl());
    expect(rendererUrl()).toMatch(/^file:.*\/renderer\/index\.html$/);
  });

  it('accepts only our renderer document as a navigation target', () => {
    expect(isRendererUrl(`${rendererUrl()}#/deploy`)).toBe(true);
    expect(isRendererUrl('https://example.com/')).toBe(false);
    expect(isRendererUrl('file:///etc/passwd')).toBe(false);
  });

  it('honours ELECTRON_RENDERER_URL only unpackaged, only on loopback, by exact origin', () => {
    const { isAllowedExternalUrl } = externalUrl;
    process.env.ELECTRON_RENDERER_URL = 'http://localhost:5173/';
    try {
      app.isPackaged = true;
      expect(rendererUrl()).toMatch(/^file:/);
      expect(isRendererUrl('http://localhost:5173/')).toBe(false);
      app.isPackaged = false;
      expect(rendererUrl()).toBe('http://localhost:5173/');
      expect(isRendererUrl('http://localhost:5173/#/deploy')).toBe(true);
      expect(isRendererUrl('http://localhost:5173.evil.example/')).toBe(false);
      expect(isRendererUrl('http://localhost:51730/')).toBe(false);
      process.env.ELECTRON_RENDERER_URL = 'https://evil.example/';
      expect(rendererUrl()).toMatch(/^file:/);
    } finally {
      delete process.env.ELECTRON_RENDERER_URL;
      app.isPackaged = true;
    }
    expect(isAllowedExternalUrl('https://www.analog.com/en/products/max78002.html')).toBe(true);
    expect(isAllowedExternalUrl('https://github.com/analogdevicesinc/ai8x-synthesis')).toBe(true);
    for (const bad of ['https://evil.example/', 'http://www.analog.com/', 'https://www.analog.com.evil.example/', 'https://user@github.com/', 'file:///etc/passwd', 'javascript:alert(1)', 'not a url']) {
      expect(isAllowedExternalUrl(bad), bad).toBe(false);
    }
  });
});
