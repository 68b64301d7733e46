// The Electron IPC transport without Electron (its binary cannot run here): `electron` is replaced
// by a minimal ipcMain, and the real RPC server with the real project service answers. Checks the
// senderFrame guard, message validation, replies to the sending window, and cancel on close.
import { describe, expect, it, vi } from 'vitest';
import { EventEmitter } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ipcMain = new EventEmitter();
vi.mock('electron', () => ({ ipcMain }));

const { installIpcTransport, RPC_CHANNEL } = await import('./ipc-transport.ts');
const { createRpcServer } = await import('../rpc/serve.ts');
const { createProjectService } = await import('../project/project.service.ts');

const APP_URL = 'file:///opt/qatwb/out/renderer/index.html';

function fakeWindow(id: number) {
  const sent: unknown[] = [];
  const contents = Object.assign(new EventEmitter(), {
    id,
    isDestroyed: () => false,
    send: (channel: string, m: unknown) => channel === RPC_CHANNEL && sent.push(m),
  });
  return { contents, sent };
}

function setup() {
  let rpc: ReturnType<typeof createRpcServer> | undefined;
  const stateDir = mkdtempSync(join(tmpdir(), 'qatwb-ipc-'));
  rpc = createRpcServer({ project: createProjectService({ stateDir, emit: (s, e, p) => rpc?.emit(s, e, p) }) });
  const uninstall = installIpcTransport(rpc, (url) => url.split('#')[0] === APP_URL);
  const send = (win: ReturnType<typeof fakeWindow>, frame: { url: string; parent: unknown } | null, message: unknown) =>
    ipcMain.emit(RPC_CHANNEL, { sender: win.contents, senderFrame: frame }, message);
  return { rpc, uninstall, send };
}

const settle = () => new Promise((r) => setTimeout(r, 20));

describe('Electron IPC transport', () => {
  it('answers our renderer main frame, on the sending window only', async () => {
    const { send, uninstall } = setup();
    const a = fakeWindow(1);
    const b = fakeWindow(2);
    send(a, { url: `${APP_URL}#/model`, parent: null }, { kind: 'call', id: 7, service: 'project', method: 'current', request: {} });
    await settle();
    expect(a.sent).toEqual([{ kind: 'result', id: 7, response: { project: null, dirty: false } }]);
    expect(b.sent).toEqual([]);
    uninstall();
  });

  it('ignores messages from a foreign page or a sub-frame (senderFrame check)', async () => {
    const { send, uninstall } = setup();
    const w = fakeWindow(3);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    send(w, { url: 'https://evil.example/', parent: null }, { kind: 'call', id: 1, service: 'project', method: 'current', request: {} });
    send(w, { url: APP_URL, parent: {} }, { kind: 'call', id: 2, service: 'project', method: 'current', request: {} });
    send(w, null, { kind: 'call', id: 3, service: 'project', method: 'current', request: {} });
    await settle();
    expect(w.sent).toEqual([]);
    expect(warn).toHaveBeenCalledTimes(3);
    warn.mockRestore();
    uninstall();
  });

  it('rejects malformed messages and requests naming the field', async () => {
    const { send, uninstall } = setup();
    const w = fakeWindow(4);
    const frame = { url: APP_URL, parent: null };
    send(w, frame, { kind: 'call', id: 1, service: 'project', method: 'open', request: { path: 3 } });
    send(w, frame, { kind: 'call', id: 'x', service: 'project', method: 'current', request: {} });
    await settle();
    expect(w.sent).toContainEqual(expect.objectContaining({ kind: 'error', id: 1, error: expect.objectContaining({ field: 'path' }) }));
    expect(w.sent).toContainEqual(expect.objectContaining({ kind: 'error', error: expect.objectContaining({ field: 'id' }) }));
    uninstall();
  });

  it('pushes service events to every window and forgets a closed one', async () => {
    const { send, rpc, uninstall } = setup();
    const a = fakeWindow(5);
    const b = fakeWindow(6);
    const frame = { url: APP_URL, parent: null };
    send(a, frame, { kind: 'call', id: 1, service: 'project', method: 'ping', request: {} });
    send(b, frame, { kind: 'call', id: 1, service: 'project', method: 'ping', request: {} });
    await settle();
    b.contents.emit('destroyed');
    rpc.emit('project', 'changed', { project: null, dirty: false });
    expect(a.sent.at(-1)).toEqual({ kind: 'event', service: 'project', event: 'changed', payload: { project: null, dirty: false } });
    expect(b.sent.at(-1)).toEqual({ kind: 'result', id: 1, response: { ok: true } });
    uninstall();
  });
});
