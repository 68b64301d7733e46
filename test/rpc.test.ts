import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRpcServer } from '../src-main/rpc/serve.ts';
import { createRpcClient } from '../src-main/rpc/client.ts';
import { memoryTransport } from '../src-main/rpc/memory-transport.ts';
import { createServices } from '../src-main/services.ts';

async function connect() {
  const stateDir = mkdtempSync(join(tmpdir(), 'qatwb-rpc-'));
  let server: ReturnType<typeof createRpcServer>;
  const impls = await createServices({ stateDir, emit: (s, e, p) => server.emit(s, e, p) });
  server = createRpcServer(impls);
  return createRpcClient(memoryTransport(server));
}

describe('rpc over the memory transport', () => {
  it('answers a valid call', async () => {
    const { services } = await connect();
    await expect(services.project.ping({})).resolves.toEqual({ ok: true });
  });
  it('rejects an unknown request field, naming it', async () => {
    const { services } = await connect();
    await expect(services.project.ping({ bogus: 1 } as never)).rejects.toMatchObject({ code: 'bad-request', field: 'bogus' });
  });
  it('rejects an unknown method', async () => {
    const { services } = await connect();
    await expect((services.project as unknown as Record<string, (r: unknown) => Promise<unknown>>).nope!({})).rejects.toMatchObject({ code: 'not-found' });
  });
});
