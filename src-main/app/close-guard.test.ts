// Closing the desktop window with unsaved changes, without Electron (its binary cannot run here):
// `electron` is replaced by windows that emit 'close' as Electron does and a dialog that answers
// from a queue; the real project service (a real project folder) says whether anything is unsaved.
import { describe, expect, it, vi } from 'vitest';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const open: FakeWindow[] = [];
const answers: number[] = [];
const asked: { message: string; buttons: string[] }[] = [];
const errors: string[] = [];

class FakeWindow extends EventEmitter {
  closed = false;
  constructor() {
    super();
    open.push(this);
  }
  /** Electron: 'close' first (preventable), then the window goes. */
  close(): void {
    let prevented = false;
    this.emit('close', { preventDefault: () => (prevented = true) });
    if (prevented) return;
    this.closed = true;
    open.splice(open.indexOf(this), 1);
  }
}

const app = Object.assign(new EventEmitter(), { quits: 0, quit: () => void app.quits++ });

vi.mock('electron', () => ({
  app,
  BrowserWindow: { getAllWindows: () => [...open] },
  dialog: {
    showMessageBox: async (_win: unknown, o: { message: string; buttons: string[] }) => {
      asked.push({ message: o.message, buttons: o.buttons });
      return { response: answers.shift() ?? 2 };
    },
    showErrorBox: (title: string, text: string) => errors.push(`${title}: ${text}`),
  },
}));

const { guardClose, CLOSE_BUTTONS } = await import('./close-guard.ts');
const { createProjectService } = await import('../project/project.service.ts');

const ctx = () => ({ signal: new AbortController().signal, progress: () => undefined });
const settle = () => new Promise((r) => setTimeout(r, 50));
/** Waits (up to 10 s: saving is real file I/O on a busy machine) until `ok()` holds, then settles. */
async function until(ok: () => boolean): Promise<void> {
  const t0 = Date.now();
  while (!ok() && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 10));
  await settle();
}

async function project() {
  const service = createProjectService({ stateDir: mkdtempSync(join(tmpdir(), 'qatwb-close-')), emit() {} });
  const dir = join(mkdtempSync(join(tmpdir(), 'qatwb-close-project-')), 'p');
  await service.create({ path: dir, name: 'Falls' }, ctx());
  return { service, dir };
}

describe('closing the window with unsaved changes', () => {
  it('closes at once when everything is saved, and asks when the project has unsaved changes', async () => {
    const { service } = await project();
    const saved = guardClose(new FakeWindow() as never, service) as unknown as FakeWindow;
    saved.close();
    await until(() => saved.closed);
    expect(saved.closed).toBe(true);
    expect(asked).toEqual([]);

    await service.update({ device: 'MAX78000' }, ctx());
    const win = guardClose(new FakeWindow() as never, service) as unknown as FakeWindow;
    answers.push(CLOSE_BUTTONS.indexOf('Cancel'));
    win.close();
    await until(() => asked.length === 1);
    expect(win.closed).toBe(false);
    expect(asked).toEqual([{ message: '"Falls" has unsaved changes.', buttons: ['Save', 'Close without saving', 'Cancel'] }]);
    expect((await service.current({}, ctx())).dirty).toBe(true);

    answers.push(CLOSE_BUTTONS.indexOf('Close without saving'));
    win.close();
    await until(() => win.closed);
    expect(win.closed).toBe(true);
    expect(asked.length).toBe(2);
    expect((await service.current({}, ctx())).dirty).toBe(true); // dropped, not saved
    asked.length = 0;
  });

  it('Save writes project.json, then closes; a second window closes without asking', async () => {
    const { service, dir } = await project();
    await service.update({ device: 'MAX78000' }, ctx());
    const first = guardClose(new FakeWindow() as never, service) as unknown as FakeWindow;
    const second = guardClose(new FakeWindow() as never, service) as unknown as FakeWindow;
    second.close();
    await settle();
    expect(second.closed).toBe(true);
    expect(asked).toEqual([]);

    answers.push(CLOSE_BUTTONS.indexOf('Save'));
    first.close();
    first.close(); // a second click while the question is open asks once
    await until(() => first.closed);
    expect(first.closed).toBe(true);
    expect(asked.length).toBe(1);
    expect((await service.current({}, ctx())).dirty).toBe(false);
    expect(JSON.parse(readFileSync(join(dir, 'project.json'), 'utf8')).device).toBe('MAX78000');
    expect(errors).toEqual([]);
  });

  it('a quit stopped by the question goes on once the person closes; a cancelled one does not', async () => {
    const { service } = await project();
    await service.update({ device: 'MAX78000' }, ctx());
    const win = guardClose(new FakeWindow() as never, service) as unknown as FakeWindow;
    app.emit('before-quit');
    const before = asked.length;
    answers.push(CLOSE_BUTTONS.indexOf('Cancel'));
    win.close();
    await until(() => asked.length === before + 1);
    expect([win.closed, app.quits]).toEqual([false, 0]);
    answers.push(CLOSE_BUTTONS.indexOf('Close without saving'));
    win.close(); // closing the window later, not quitting
    await until(() => win.closed);
    expect([win.closed, app.quits]).toEqual([true, 0]);

    const again = guardClose(new FakeWindow() as never, service) as unknown as FakeWindow;
    app.emit('before-quit');
    answers.push(CLOSE_BUTTONS.indexOf('Close without saving'));
    again.close();
    await until(() => again.closed);
    expect([again.closed, app.quits]).toEqual([true, 1]);
  });
});
