// Web mode: one loopback HTTP server that serves the built renderer, the HTTP API and the /rpc
// WebSocket, all guarded by auth.ts. Plain Node (no Electron), used by `qatwb serve` and tests.
import { createServer, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import type { ServiceImpls } from '../api/index.ts';
import { createRpcServer, type RpcServer } from '../rpc/serve.ts';
import type { ServiceEnv } from '../services.ts';
import { createDisposer } from '../platform/disposer.ts';
import { checkAccess, createToken } from './auth.ts';
import { handleApiRequest, sendError } from './http-api.ts';
import { serveStatic } from './static-files.ts';
import { attachSocket } from './ws-transport.ts';

export const DEFAULT_RENDERER_DIR = fileURLToPath(new URL('../../out/renderer', import.meta.url));

export interface WebServerOptions {
  stateDir: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Folder of the built renderer; default out/renderer of this checkout. */
  rendererDir?: string;
  /** Fixed token (tests); default a fresh random one. */
  token?: string;
  /** Builds the services; default src-main/services.ts. */
  makeServices?: (env: ServiceEnv) => Partial<ServiceImpls> | Promise<Partial<ServiceImpls>>;
  /** A ready RPC server to expose instead of building one (transport tests). */
  rpc?: RpcServer;
}

export interface WebServer {
  port: number;
  token: string;
  /** The URL to open: http://127.0.0.1:<port>/?token=<token> */
  url: string;
  rpc: RpcServer;
  /**
   * A URL holding a one-time code instead of the token, for handing to another program (the
   * browser launcher's command line is visible to every local user): the first GET of it, within
   * a minute, redirects to the page with the token; every later one is refused.
   */
  openUrl(): string;
  close(): Promise<void>;
}

const OPEN_CODE_MS = 60_000;

const HOST = '127.0.0.1';

function refuseUpgrade(socket: Duplex, status: 401 | 403, reason: string): void {
  const text = status === 401 ? 'Unauthorized' : 'Forbidden';
  socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`);
}

export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const token = options.token ?? createToken();
  const rendererDir = options.rendererDir ?? DEFAULT_RENDERER_DIR;
  let rpc: RpcServer | undefined;
  const disposer = createDisposer();
  const env: ServiceEnv = { stateDir: options.stateDir, emit: (s, e, p) => rpc?.emit(s, e, p), onDispose: disposer.onDispose };
  // services.ts pulls in every capability; load it only when it is actually needed.
  rpc = options.rpc ?? createRpcServer(await (options.makeServices ?? (await import('../services.ts')).createServices)(env));
  const server = rpc;
  let port = 0;

  const openCodes = new Map<string, number>();
  const http = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${HOST}`);
    if (url.pathname === '/api' || url.pathname.startsWith('/api/')) {
      const access = checkAccess(req, url, port, token);
      if (!access.ok) return sendError(res, access.status, { code: 'unauthorized', message: access.reason });
      handleApiRequest(req, res, url.pathname, server).catch((error: unknown) => {
        if (!res.headersSent) sendError(res, 500, { code: 'internal', message: (error as Error).message });
      });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    // The page is public, but only under this server's own Host name (DNS rebinding).
    const host = req.headers.host ?? '';
    if (host !== `${HOST}:${port}` && host !== `localhost:${port}`) {
      res.writeHead(403, { 'Content-Type': 'text/plain' }).end('Forbidden host');
      return;
    }
    const code = url.searchParams.get('code');
    if (code !== null && url.pathname === '/') {
      const until = openCodes.get(code);
      openCodes.delete(code);
      if (until === undefined || Date.now() > until) {
        res.writeHead(403, { 'Content-Type': 'text/plain' }).end('This link was already used or has expired; open the URL `qatwb serve` printed.');
      } else {
        res.writeHead(302, { Location: `/?token=${token}`, 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' }).end();
      }
      return;
    }
    serveStatic(rendererDir, url.pathname, res, port).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end((error as Error).message);
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 });
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', `http://${HOST}`);
    if (url.pathname !== '/rpc') return refuseUpgrade(socket, 403, 'Only /rpc accepts WebSocket connections.');
    const access = checkAccess(req, url, port, token);
    if (!access.ok) return refuseUpgrade(socket, access.status, access.reason);
    wss.handleUpgrade(req, socket, head, (ws) => attachSocket(ws, server));
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, HOST, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const address = http.address();
  port = typeof address === 'object' && address ? address.port : 0;

  return {
    port,
    token,
    url: `http://${HOST}:${port}/?token=${token}`,
    rpc: server,
    openUrl() {
      const code = createToken();
      openCodes.set(code, Date.now() + OPEN_CODE_MS);
      return `http://${HOST}:${port}/?code=${code}`;
    },
    async close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await disposer.dispose();
    },
  };
}
