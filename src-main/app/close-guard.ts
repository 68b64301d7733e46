// Closing the last window with unsaved project changes asks first (Save / Close without saving /
// Cancel), as opening or closing a project does in the renderer and a browser tab does in web mode.
// The project service in this process owns the dirty flag, so the question needs no round trip to
// the renderer, and a renderer that hangs cannot keep the window open.
import { app, BrowserWindow, dialog } from 'electron';
import type { ServiceImpls } from '../api/index.ts';

export const CLOSE_BUTTONS = ['Save', 'Close without saving', 'Cancel'] as const;

// A quit (Cmd+Q, the menu) closes the windows first; the question stops it, so a quit the person
// then confirms has to be asked for again (on macOS the app would otherwise stay without windows).
let quitting = false;
app.on('before-quit', () => (quitting = true));

const context = () => ({ signal: new AbortController().signal, progress: () => undefined });

/** Name of the open project when it has unsaved changes, else null. */
async function unsavedProject(project: ServiceImpls['project']): Promise<string | null> {
  const { project: open, dirty } = await project.current({}, context());
  return open && dirty ? open.doc.name : null;
}

/** Asks before `win` closes while it is the last window and the project has unsaved changes. */
export function guardClose(win: BrowserWindow, project: ServiceImpls['project']): BrowserWindow {
  let allowed = false;
  let asking = false;
  win.on('close', (event) => {
    // Other windows show the same project: closing one of them loses nothing.
    if (allowed || BrowserWindow.getAllWindows().filter((w) => w !== win).length > 0) return;
    event.preventDefault();
    if (asking) return;
    asking = true;
    void decide(win, project)
      .then((go) => {
        if (!go) {
          quitting = false;
          return;
        }
        allowed = true;
        win.close();
        if (quitting) app.quit();
      })
      .finally(() => (asking = false));
  });
  return win;
}

async function decide(win: BrowserWindow, project: ServiceImpls['project']): Promise<boolean> {
  let name: string | null;
  try {
    name = await unsavedProject(project);
  } catch {
    return true; // the service cannot say: never trap the window
  }
  if (name === null) return true;
  const { response } = await dialog.showMessageBox(win, {
    type: 'warning',
    buttons: [...CLOSE_BUTTONS],
    defaultId: 0,
    cancelId: 2,
    noLink: true,
    message: `"${name}" has unsaved changes.`,
    detail: 'Save them before the window closes? Without saving they are lost.',
  });
  if (CLOSE_BUTTONS[response] === 'Cancel') return false;
  if (CLOSE_BUTTONS[response] === 'Save') {
    try {
      await project.save({}, context());
    } catch (e) {
      dialog.showErrorBox('The project was not saved', `${(e as Error).message}\n\nThe window stays open.`);
      return false;
    }
  }
  return true;
}
