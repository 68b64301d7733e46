// A stand-in for the `electron` module, just enough for src-main/app/main.ts to boot under Node.
// It records what main asks for (window options, menu, IPC handlers) and then plays the renderer:
// it sends rpc messages through the registered 'rpc' handler and prints what comes back, one JSON
// line per observation, for test/e2e/electron-main.test.ts to check.
import { EventEmitter } from 'node:events';

const report = (kind, data) => process.stdout.write(`${JSON.stringify({ kind, data })}\n`);
const ipcHandlers = new Map();
let nextId = 1;

// Answers of the close dialog in turn (button indices), e.g. STUB_CLOSE_ANSWERS=2,1: Cancel, then close.
const closeAnswers = (process.env.STUB_CLOSE_ANSWERS ?? '').split(',').filter(Boolean).map(Number);
let edited = false;

class WebContents extends EventEmitter {
  constructor(win) {
    super();
    this.id = nextId++;
    this.url = '';
    this.win = win;
  }
  isDestroyed() { return false; }
  send(channel, message) {
    report('ipc-out', { channel, message });
    // With close answers to give: once the example is open, change it (unsaved), then close the window twice.
    if (!closeAnswers.length || message.kind !== 'result') return;
    if (!edited && message.response?.project?.doc?.name === 'MNIST digits') {
      edited = true;
      ipcHandlers.get('rpc')?.({ sender: this, senderFrame: { url: this.url, parent: null } }, { kind: 'call', id: nextId++, service: 'project', method: 'update', request: { device: 'MAX78000' } });
    } else if (message.response?.dirty === true && message.response?.project?.doc?.device === 'MAX78000' && !this.win.closing) {
      this.win.closing = true;
      this.win.close();
      setTimeout(() => this.win.close(), 1500);
    }
  }
  setWindowOpenHandler(handler) { this.windowOpenHandler = handler; }
}

const windows = [];
export class BrowserWindow extends EventEmitter {
  constructor(options) {
    super();
    this.webContents = new WebContents(this);
    windows.push(this);
    report('window', { webPreferences: options.webPreferences });
    app.emit('web-contents-created', {}, this.webContents);
  }
  static getAllWindows() { return windows; }
  static getFocusedWindow() { return windows[0] ?? null; }
  loadURL(url) {
    this.webContents.url = url;
    report('load', { url });
    return Promise.resolve();
  }
  isMinimized() { return false; }
  /** As Electron: 'close' (preventable) first, then the window goes. */
  close() {
    let prevented = false;
    report('close-requested', true);
    this.emit('close', { preventDefault: () => (prevented = true) });
    if (prevented) return;
    windows.splice(windows.indexOf(this), 1);
    report('window-closed', true);
  }
}

class App extends EventEmitter {
  isPackaged = false;
  enableSandbox() { report('sandbox', true); }
  requestSingleInstanceLock() { return true; }
  whenReady() { return Promise.resolve(); }
  getAppPath() { return process.env.STUB_APP_PATH; }
  getPath(name) { return name === 'userData' ? process.env.STUB_USER_DATA : '/tmp'; }
  getVersion() { return '0.0.0-stub'; }
  quit() { process.exit(0); }
}
export const app = new App();

export const ipcMain = {
  on(channel, handler) { ipcHandlers.set(channel, handler); },
  off(channel) { ipcHandlers.delete(channel); },
};
export const Menu = {
  buildFromTemplate(template) { report('menu', template.map((m) => m.label ?? m.role)); return { template }; },
  setApplicationMenu() {},
};
export const session = { defaultSession: { setPermissionRequestHandler() {}, setPermissionCheckHandler() {} } };
export const shell = { openExternal() {} };
export const dialog = { showErrorBox() {}, showOpenDialog: async () => ({ canceled: true, filePaths: [] }), showMessageBox: async (_win, options) => {
  report('message-box', { message: options.message, buttons: options.buttons });
  return { response: closeAnswers.shift() ?? options.cancelId ?? 0 };
} };
export const nativeTheme = { shouldUseDarkColors: false };
export const contextBridge = { exposeInMainWorld() {} };
export const ipcRenderer = { send() {}, on() {}, removeListener() {} };

// Play the renderer: once main has a window and an 'rpc' handler, send messages as its main frame.
const started = Date.now();
const timer = setInterval(() => {
  const win = windows[0];
  const handler = ipcHandlers.get('rpc');
  if (Date.now() - started > 20_000) {
    report('timeout', true);
    process.exit(3);
  }
  if (!win || !handler || !win.webContents.url) return;
  const frame = { url: `${win.webContents.url}#/project`, parent: null };
  const event = (senderFrame) => ({ sender: win.webContents, senderFrame });
  handler(event({ url: 'https://evil.example/', parent: null }), { kind: 'call', id: 99, service: 'project', method: 'current', request: {} });
  handler(event(frame), { kind: 'call', id: nextId++, service: 'project', method: 'current', request: {} });
  const will = new EventEmitter();
  win.webContents.emit('will-navigate', { preventDefault: () => report('navigation-blocked', true) }, 'https://evil.example/');
  const open = win.webContents.windowOpenHandler?.({ url: 'https://example.com/' });
  report('window-open', open);
  void will;
}, 300);

process.stdout.on('error', () => undefined);
export function stopStub() { clearInterval(timer); }
