// Electron main entry: thin. Builds the services (the same ones web mode and the CLI use), connects
// them to windows through the IPC transport, and locks the renderer down (sandbox, no navigation,
// no new windows, no permissions).
import { app, BrowserWindow, Menu, session, shell } from 'electron';
import { createRpcServer, type RpcServer } from '../rpc/serve.ts';
import { createServices } from '../services.ts';
import { installIpcTransport } from './ipc-transport.ts';
import { buildMenu } from './menu.ts';
import { createMainWindow, isRendererUrl } from './windows.ts';

app.enableSandbox();

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  let rpc: RpcServer | undefined;
  const services = createServices({ stateDir: app.getPath('userData'), emit: (s, e, p) => rpc?.emit(s, e, p) });
  rpc = createRpcServer(services);

  app.on('web-contents-created', (_event, contents) => {
    // The app is one document; links to the web open in the user's browser, never inside the app.
    contents.on('will-navigate', (event, url) => {
      if (!isRendererUrl(url)) event.preventDefault();
    });
    contents.setWindowOpenHandler(({ url }) => {
      if (/^https:\/\//.test(url)) void shell.openExternal(url);
      return { action: 'deny' };
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
  });

  app.on('second-instance', () => {
    const win = BrowserWindow.getAllWindows()[0];
    if (win?.isMinimized()) win.restore();
    win?.focus();
  });

  void app.whenReady().then(() => {
    session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
    session.defaultSession.setPermissionCheckHandler(() => false);
    installIpcTransport(rpc!, isRendererUrl);
    Menu.setApplicationMenu(buildMenu(services, createMainWindow));
    createMainWindow();
    // `npm start` passes --example=mnist so a first run shows the built-in example.
    if (process.argv.includes('--example=mnist')) {
      void services.project.openExample({ name: 'mnist' }, { signal: new AbortController().signal, progress: () => undefined });
    }
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) createMainWindow();
    });
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
}
