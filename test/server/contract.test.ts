// One contract suite, two transports: the same calls over the in-memory transport and over the
// web-mode WebSocket (the renderer's own socket transport on a `ws` client), with the same
// results, validation errors, pushed events, progress and cancellation.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { ApiError, type Progress } from '../../src-main/api/contract.ts';
import { createRpcClient, type RpcClient } from '../../src-main/rpc/client.ts';
import { memoryTransport } from '../../src-main/rpc/memory-transport.ts';
import type { ServerMessage } from '../../src-main/rpc/protocol.ts';
import { createRpcServer, type RpcServer } from '../../src-main/rpc/serve.ts';
import { createProjectService } from '../../src-main/project/project.service.ts';
import { startWebServer, type WebServer } from '../../src-main/server/web-server.ts';
import { socketTransport, type SocketLike } from '../../src-renderer/api/socket-transport.ts';

const servers: WebServer[] = [];
const clients: RpcClient[] = [];
afterAll(async () => {
  clients.forEach((c) => c.dispose());
  await Promise.all(servers.map((s) => s.close()));
});

type Connect = (rpc: RpcServer) => Promise<RpcClient>;

const transports: [string, Connect][] = [
  ['memory', async (rpc) => createRpcClient(memoryTransport(rpc))],
  [
    'websocket',
    async (rpc) => {
      const server = await startWebServer({ stateDir: mkdtempSync(join(tmpdir(), 'qatwb-ws-')), rpc });
      servers.push(server);
      const url = `ws://127.0.0.1:${server.port}/rpc?token=${server.token}`;
      const transport = socketTransport(() => new WebSocket(url, { origin: `http://127.0.0.1:${server.port}` }) as unknown as SocketLike);
      return createRpcClient(transport);
    },
  ],
];

function realServices(): RpcServer {
  const stateDir = mkdtempSync(join(tmpdir(), 'qatwb-contract-'));
  let rpc: RpcServer | undefined;
  // Only the project service: this suite is about the transports, not the other capabilities.
  rpc = createRpcServer({ project: createProjectService({ stateDir, emit: (s, e, p) => rpc?.emit(s, e, p) }) });
  return rpc;
}

/**
 * A hand-made RPC server with one long job (`lab.count`), since protocol behaviour must not depend on
 * which real service has a job today: it reports progress every 5 ms until cancelled or done.
 */
function jobServer(): RpcServer & { cancelled: number[] } {
  const clientsSet = new Set<(m: ServerMessage) => void>();
  const timers = new Map<string, ReturnType<typeof setInterval>>();
  const cancelled: number[] = [];
  return {
    cancelled,
    handle(m, reply) {
      const key = String(m.id);
      if (m.kind === 'cancel') {
        clearInterval(timers.get(key));
        timers.delete(key);
        cancelled.push(m.id);
        reply({ kind: 'error', id: m.id, error: { code: 'cancelled', message: 'Cancelled.' } });
        return;
      }
      const steps = (m.request as { steps?: number }).steps;
      if (m.service !== 'lab' || typeof steps !== 'number') {
        reply({ kind: 'error', id: m.id, error: { code: 'not-found', message: `No method ${m.service}.${m.method}.` } });
        return;
      }
      let i = 0;
      timers.set(key, setInterval(() => {
        i++;
        reply({ kind: 'progress', id: m.id, progress: { phase: 'count', fraction: i / steps } });
        if (i === steps) {
          clearInterval(timers.get(key));
          reply({ kind: 'result', id: m.id, response: { counted: i } });
        }
      }, 5));
    },
    emit(service, event, payload) {
      for (const send of clientsSet) send({ kind: 'event', service, event, payload });
    },
    addClient(send) {
      clientsSet.add(send);
      return () => clientsSet.delete(send);
    },
  };
}

type Lab = { count(req: { steps: number }, o?: { signal?: AbortSignal; onProgress?: (p: Progress) => void }): Promise<{ counted: number }> };

describe.each(transports)('contract over the %s transport', (_name, connect) => {
  it('runs the project calls with the same results, and pushes `changed` events', async () => {
    const client = await connect(realServices());
    clients.push(client);
    const { project } = client.services;
    const events: unknown[] = [];
    client.on('project', 'changed', (p) => events.push(p));

    expect(await project.ping({})).toEqual({ ok: true });
    expect(await project.current({})).toEqual({ project: null, dirty: false });
    const opened = await project.openExample({ name: 'mnist' });
    expect(opened.doc).toMatchObject({ name: 'MNIST digits', device: 'MAX78002', data: { kind: 'example', name: 'mnist' }, model: { kind: 'zoo', arch: 'ai85net5' } });
    expect(opened.isExample).toBe(true);

    const updated = await project.update({ name: 'Digits v2', device: 'MAX78000' });
    expect(updated.dirty).toBe(true);
    const saved = await project.save({});
    expect(saved.doc.name).toBe('Digits v2');
    expect((await project.current({})).dirty).toBe(false);
    expect((await project.listRecent({})).projects[0]).toMatchObject({ path: opened.path, name: 'Digits v2', exists: true });

    await expect.poll(() => events.length).toBeGreaterThanOrEqual(3);
    expect(events.at(-1)).toMatchObject({ project: { doc: { name: 'Digits v2' } }, dirty: false });
  });

  it('rejects a malformed request naming the field, and an unknown method', async () => {
    const client = await connect(realServices());
    clients.push(client);
    const err = await client.services.project.open({ path: 7 } as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 'bad-request', field: 'path' });
    await expect(client.services.project.update({ device: 'MAX99999' } as never)).rejects.toMatchObject({ field: 'device' });
    const missing = await (client.services.project as unknown as Record<string, (r: object) => Promise<unknown>>).nope!({}).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'not-found' });
  });

  it('streams progress of a job and finishes it', async () => {
    const client = await connect(jobServer());
    clients.push(client);
    const lab = (client.services as unknown as { lab: Lab }).lab;
    const seen: number[] = [];
    const res = await lab.count({ steps: 5 }, { onProgress: (p) => seen.push(p.fraction ?? -1) });
    expect(res).toEqual({ counted: 5 });
    expect(seen).toEqual([0.2, 0.4, 0.6, 0.8, 1]);
  });

  it('cancels a running job when its signal aborts', async () => {
    const server = jobServer();
    const client = await connect(server);
    clients.push(client);
    const lab = (client.services as unknown as { lab: Lab }).lab;
    const controller = new AbortController();
    let progressed = 0;
    const run = lab.count({ steps: 10_000 }, { signal: controller.signal, onProgress: () => ++progressed === 3 && controller.abort() });
    await expect(run).rejects.toMatchObject({ code: 'cancelled' });
    expect(server.cancelled).toHaveLength(1);
  });

  it('delivers events pushed by the server', async () => {
    const server = jobServer();
    const client = await connect(server);
    clients.push(client);
    const got = new Promise((resolve) => client.on('device', 'window' as never, resolve));
    await (client.services as unknown as { lab: Lab }).lab.count({ steps: 1 }); // the connection is up
    server.emit('device', 'window', { index: 3 });
    await expect(got).resolves.toEqual({ index: 3 });
  });
});
