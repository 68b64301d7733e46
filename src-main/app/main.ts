// Electron main entry: thin. Loads the Node-side runtime (the same services web mode and the CLI
// use), connects it to windows through the IPC transport, and locks the renderer down (sandbox,
// no navigation, no new windows, no permissions).
import { app, BrowserWindow, Menu, session, shell } from 'electron';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';
import type { AppRuntime } from './runtime.ts';
import { installIpcTransport } from './ipc-transport.ts';
import { buildMenu } from './menu.ts';
import { isAllowedExternalUrl } from './external-url.ts';
import { confirmToolPaths } from './tool-path-dialog.ts';
import { createMainWindow, isRendererUrl } from './windows.ts';
import { guardClose } from './close-guard.ts';

/**
 * The services run from their TypeScript sources through tsx rather than from this bundle: they
 * start worker threads from .ts files beside them, which a bundle would not carry along.
 */
async function loadRuntime(): Promise<AppRuntime> {
  register();
  const entry = pathToFileURL(join(app.getAppPath(), 'src-main', 'app', 'runtime.ts')).href;
  const { createAppRuntime } = (await import(/* @vite-ignore */ entry)) as typeof import('./runtime.ts');
  return createAppRuntime(app.getPath('userData'), confirmToolPaths);
}

app.enableSandbox();

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('web-contents-created', (_event, contents) => {
    // The app is one document; links to the web open in the user's browser, never inside the app.
    contents.on('will-navigate', (event, url) => {
      if (!isRendererUrl(url)) event.preventDefault();
    });
    contents.setWindowOpenHandler(({ url }) => {
      if (isAllowedExternalUrl(url)) void shell.openExternal(url);
      return { action: 'deny' };
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
  });

  app.on('second-instance', () => {
    const win = BrowserWindow.getAllWindows()[0];
    if (win?.isMinimized()) win.restore();
    win?.focus();
  });

  void app.whenReady().then(async () => {
    session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
    session.defaultSession.setPermissionCheckHandler(() => false);
    const { rpc, services, dispose } = await loadRuntime();
    // Child processes (device link, virtual device) must not outlive the window.
    app.on('will-quit', () => void dispose());
    installIpcTransport(rpc, isRendererUrl);
    // Closing the last window with unsaved project changes asks first.
    const openWindow = () => guardClose(createMainWindow(), services.project);
    Menu.setApplicationMenu(buildMenu(services, openWindow));
    openWindow();
    // `npm start` passes --example=mnist so a first run shows the built-in example.
    if (process.argv.includes('--example=mnist')) {
      await services.project.openExample({ name: 'mnist' }, { signal: new AbortController().signal, progress: () => undefined });
    }
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) openWindow();
    });
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
}
