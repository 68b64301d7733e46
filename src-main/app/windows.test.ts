// The main window's security settings, checked without Electron (its binary cannot run here):
// `electron` is replaced by a BrowserWindow that records its options.
import { describe, expect, it, vi } from 'vitest';

const created: { options: Record<string, unknown>; url?: string }[] = [];
vi.mock('electron', () => ({
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
});
