// Web mode against a real `qatwb serve` child process: loopback only, the token and the Host /
// Origin checks on HTTP and WebSocket, and malformed requests refused with the field named.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request as httpRequest } from 'node:http';
import { networkInterfaces } from 'node:os';
import { WebSocket } from 'ws';
import { startServe, type ServeProcess } from './serve-process.ts';

let serve: ServeProcess;
beforeAll(async () => {
  serve = await startServe();
});
afterAll(async () => {
  await serve?.stop();
});

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: string }

/** node:http rather than fetch, because the tests must set Host and Origin freely. */
function post(path: string, body: string, headers: Record<string, string> = {}, host = '127.0.0.1'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host, port: serve.port, path, method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
const withToken = () => ({ 'x-qatwb-token': serve.token });

/** Opens /rpc; resolves with the socket, or with the HTTP status the handshake was refused with. */
function openSocket(query: string, headers: Record<string, string> = {}): Promise<WebSocket | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${serve.port}/rpc${query}`, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', reject);
  });
}
function nextMessage(ws: WebSocket): Promise<Record<string, unknown>> {
  return new Promise((resolve) => ws.once('message', (data) => resolve(JSON.parse(String(data)))));
}

describe('qatwb serve', () => {
  it('prints one line with the loopback URL and its token', () => {
    const lines = serve.output().split('\n').filter((l) => l.includes('http://'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{20,}/);
  });

  it('listens on 127.0.0.1 only', async () => {
    const external = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal);
    if (!external) return; // no other interface on this machine: nothing else to try
    await expect(post('/api/project/current', '{}', withToken(), external.address)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('serves the built page with a content security policy', async () => {
    const res = await new Promise<Reply>((resolve, reject) =>
      httpRequest({ host: '127.0.0.1', port: serve.port, path: '/' }, (r) => {
        let body = '';
        r.on('data', (d) => (body += d));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, headers: r.headers, body }));
      }).on('error', reject).end(),
    );
    expect([200, 503]).toContain(res.status); // 503 = renderer not built, which says so in the page
    expect(String(res.headers['content-security-policy'])).toContain("script-src 'self'");
    expect(res.headers['referrer-policy']).toBe('no-referrer');
  });
});

describe('HTTP API', () => {
  it('answers a call that carries the token', async () => {
    const res = await post('/api/project/current', '{}', withToken());
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ result: { project: null, dirty: false } });
  });

  it('refuses a request without the token, or with a wrong one (401)', async () => {
    expect((await post('/api/project/current', '{}')).status).toBe(401);
    expect((await post('/api/project/current', '{}', { 'x-qatwb-token': serve.token.slice(1) + 'x' })).status).toBe(401);
    // The HTTP API takes the token in a header only (the query is for the WebSocket handshake).
    expect((await post(`/api/project/current?token=${serve.token}`, '{}')).status).toBe(401);
  });

  it('refuses a foreign Origin or Host even with the token (403)', async () => {
    const foreign = await post('/api/project/current', '{}', { ...withToken(), origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    expect(JSON.parse(foreign.body).error.message).toContain('evil.example');
    expect((await post('/api/project/current', '{}', { ...withToken(), origin: 'null' })).status).toBe(403);
    expect((await post('/api/project/current', '{}', { ...withToken(), host: `rebind.example:${serve.port}` })).status).toBe(403);
    expect((await post('/api/project/current', '{}', { ...withToken(), origin: serve.origin })).status).toBe(200);
  });

  it('rejects a malformed request with an error naming the field', async () => {
    const wrongType = await post('/api/project/open', JSON.stringify({ path: 42 }), withToken());
    expect(wrongType.status).toBe(400);
    expect(JSON.parse(wrongType.body).error).toMatchObject({ code: 'bad-request', field: 'path' });
    expect(JSON.parse(wrongType.body).error.message).toMatch(/"path".*expected string/);

    const unknownKey = await post('/api/project/create', JSON.stringify({ path: '/tmp/x', name: 'x', colour: 'red' }), withToken());
    expect(JSON.parse(unknownKey.body).error).toMatchObject({ code: 'bad-request', field: 'colour' });

    const notJson = await post('/api/project/open', '{path:', withToken());
    expect(notJson.status).toBe(400);
    expect(JSON.parse(notJson.body).error.message).toContain('not valid JSON');

    const noMethod = await post('/api/project/explode', '{}', withToken());
    expect(noMethod.status).toBe(404);
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const r = await post(`/api/project/${name}`, '{}', withToken());
      expect(r.status, name).toBe(404);
      expect(JSON.parse(r.body).error.code).toBe('not-found');
      expect((await post(`/api/${name}/current`, '{}', withToken())).status, name).toBe(404);
    }
  });

  it('cannot change program paths or pass code-running environment to the izer', async () => {
    const paths = await post('/api/toolchain/setSettings', JSON.stringify({ python: '/tmp/evil' }), withToken());
    expect(paths.status).toBe(403);
    expect(JSON.parse(paths.body).error).toMatchObject({ code: 'forbidden', field: 'python' });
    const env = await post('/api/toolchain/setSettings', JSON.stringify({ izerEnv: { BROWSER: 'id' } }), withToken());
    expect(env.status).toBe(400);
    expect(JSON.parse(env.body).error).toMatchObject({ code: 'bad-request', field: 'izerEnv.BROWSER' });
  });
});

describe('WebSocket /rpc', () => {
  it('refuses a handshake without the token (401) and from a foreign Origin (403)', async () => {
    expect(await openSocket('')).toBe(401);
    expect(await openSocket('?token=wrong')).toBe(401);
    expect(await openSocket(`?token=${serve.token}`, { origin: 'http://evil.example' })).toBe(403);
  });

  it('carries calls and rejects malformed ones naming the field', async () => {
    const ws = await openSocket(`?token=${serve.token}`, { origin: serve.origin });
    expect(ws).toBeInstanceOf(WebSocket);
    const socket = ws as WebSocket;
    try {
      socket.send(JSON.stringify({ kind: 'call', id: 1, service: 'project', method: 'current', request: {} }));
      expect(await nextMessage(socket)).toEqual({ kind: 'result', id: 1, response: { project: null, dirty: false } });

      socket.send(JSON.stringify({ kind: 'call', id: 2, service: 'project', method: 'open', request: { path: ['a'] } }));
      expect(await nextMessage(socket)).toMatchObject({ kind: 'error', id: 2, error: { code: 'bad-request', field: 'path' } });

      socket.send(JSON.stringify({ kind: 'call', id: 'three', service: 'project', method: 'current', request: {} }));
      expect(await nextMessage(socket)).toMatchObject({ kind: 'error', error: { code: 'bad-request', field: 'id' } });

      socket.send('not json');
      expect(await nextMessage(socket)).toMatchObject({ kind: 'error', error: { code: 'bad-request' } });
    } finally {
      socket.close();
    }
  });
});
