// The application menu. Project actions call the project service directly (the same
// implementation the renderer reaches over IPC); its `changed` event updates every window.
import { app, BrowserWindow, dialog, Menu, shell, type MenuItemConstructorOptions } from 'electron';
import { basename } from 'node:path';
import type { CallContext } from '../api/contract.ts';
import type { ServiceImpls } from '../api/index.ts';

const context = (): CallContext => ({ signal: new AbortController().signal, progress: () => undefined });

async function attempt(what: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (error) {
    dialog.showErrorBox(`Could not ${what}`, (error as Error).message);
  }
}

export function buildMenu(services: ServiceImpls, createWindow: () => void): Menu {
  const project = services.project;
  const pickFolder = async (title: string, create: boolean) => {
    const focused = BrowserWindow.getFocusedWindow();
    const options = { title, properties: create ? (['openDirectory', 'createDirectory'] as const) : (['openDirectory'] as const) };
    const res = focused ? await dialog.showOpenDialog(focused, { ...options, properties: [...options.properties] }) : await dialog.showOpenDialog({ ...options, properties: [...options.properties] });
    return res.canceled ? null : (res.filePaths[0] ?? null);
  };
  const isMac = process.platform === 'darwin';
  const template: MenuItemConstructorOptions[] = [
    ...(isMac ? [{ role: 'appMenu' as const }] : []),
    {
      label: 'File',
      submenu: [
        {
          label: 'New Project…',
          accelerator: 'CmdOrCtrl+N',
          click: () => attempt('create the project', async () => {
            const dir = await pickFolder('Choose an empty folder for the new project', true);
            if (dir) await project.create({ path: dir, name: basename(dir) }, context());
          }),
        },
        {
          label: 'Open Project…',
          accelerator: 'CmdOrCtrl+O',
          click: () => attempt('open the project', async () => {
            const dir = await pickFolder('Open a project folder', false);
            if (dir) await project.open({ path: dir }, context());
          }),
        },
        { label: 'Open MNIST Example', click: () => attempt('open the example', () => project.openExample({ name: 'mnist' }, context())) },
        { type: 'separator' },
        { label: 'Save Project', accelerator: 'CmdOrCtrl+S', click: () => attempt('save the project', () => project.save({}, context())) },
        { label: 'New Window', accelerator: 'CmdOrCtrl+Shift+N', click: createWindow },
        { type: 'separator' },
        isMac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [
        { role: 'reload' },
        ...(app.isPackaged ? [] : [{ role: 'toggleDevTools' as const }]),
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    {
      role: 'help',
      submenu: [
        { label: 'MAX78002 documentation', click: () => void shell.openExternal('https://www.analog.com/en/products/max78002.html') },
        { label: `About QAT Workbench ${app.getVersion()}`, click: () => void dialog.showMessageBox({ message: `QAT Workbench ${app.getVersion()}`, detail: 'Quantization-aware training and MAX78002 deployment.' }) },
      ],
    },
  ];
  return Menu.buildFromTemplate(template);
}
