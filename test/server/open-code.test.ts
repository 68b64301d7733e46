// `qatwb serve --open` hands the browser launcher a one-time code, not the token (a command line is
// visible to every local user): the first visit redirects to the page with the token, a second
// visit of the same link is refused, and the code itself opens nothing else.
import { afterAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRpcServer } from '../../src-main/rpc/serve.ts';
import { startWebServer, type WebServer } from '../../src-main/server/web-server.ts';

let server: WebServer;
afterAll(() => server?.close());

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; location?: string }> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => { res.resume(); resolve({ status: res.statusCode ?? 0, ...(res.headers.location ? { location: res.headers.location } : {}) }); })
      .on('error', reject).end();
  });
}

describe('the one-time open link', () => {
  it('redirects once to the tokened page, then refuses; the code is not the token', async () => {
    server = await startWebServer({ stateDir: mkdtempSync(join(tmpdir(), 'qatwb-open-')), rpc: createRpcServer({}) });
    const link = server.openUrl();
    expect(link).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/\\?code=[A-Za-z0-9_-]{20,}$`));
    expect(link).not.toContain(server.token);
    const code = new URL(link).searchParams.get('code')!;
    // The code is no API credential.
    const api = await new Promise<number>((resolve, reject) => {
      request(`http://127.0.0.1:${server.port}/api/project/current`, { method: 'POST', headers: { 'x-qatwb-token': code } }, (res) => { res.resume(); resolve(res.statusCode ?? 0); })
        .on('error', reject).end('{}');
    });
    expect(api).toBe(401);
    const first = await get(link);
    expect(first).toEqual({ status: 302, location: `/?token=${server.token}` });
    expect((await get(link)).status).toBe(403);
    expect((await get(`http://127.0.0.1:${server.port}/?code=made-up`)).status).toBe(403);
    // Only under this server's own Host name (DNS rebinding).
    const other = server.openUrl();
    expect((await get(other, { host: `rebind.example:${server.port}` })).status).toBe(403);
  });
});
