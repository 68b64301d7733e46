// Serves the built renderer (out/renderer) read-only, with security headers. The page itself is not
// secret (the API behind it is), but paths are confined to the folder.
import { readFile, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

export function contentSecurityPolicy(port: number): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}`,
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function securityHeaders(port: number): Record<string, string> {
  return {
    'Content-Security-Policy': contentSecurityPolicy(port),
    'X-Content-Type-Options': 'nosniff',
    // The page URL carries the token: never send it on in a Referer.
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
  };
}

const MISSING_BUILD = `<!doctype html><meta charset="utf-8"><title>QAT Workbench</title>
<p>The user interface is not built yet. Run <code>npm run build:renderer</code> (or <code>npm start</code>), then reload.</p>`;

export async function serveStatic(rootDir: string, pathname: string, res: ServerResponse, port: number): Promise<void> {
  const root = resolve(rootDir);
  let rel: string;
  try {
    rel = decodeURIComponent(pathname);
  } catch {
    res.writeHead(400).end('Bad path');
    return;
  }
  if (rel === '/' || rel === '') rel = '/index.html';
  const file = normalize(join(root, rel));
  if (file !== root && !file.startsWith(root + sep)) {
    res.writeHead(403).end('Forbidden');
    return;
  }
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) {
    if (rel === '/index.html') {
      res.writeHead(503, { 'Content-Type': TYPES['.html']!, ...securityHeaders(port) }).end(MISSING_BUILD);
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not found');
    return;
  }
  const body = await readFile(file);
  const isHtml = extname(file) === '.html';
  res.writeHead(200, {
    'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
    'Content-Length': body.length,
    // Hashed asset names never change content; the HTML must always be fresh.
    'Cache-Control': isHtml ? 'no-cache' : 'public, max-age=31536000, immutable',
    ...securityHeaders(port),
  });
  res.end(body);
}
