// Web-mode access control. The server binds to 127.0.0.1 only, but any local program or web page
// could still reach it, so every API request must carry the per-launch token, and the Host and
// Origin headers must name this server (blocks DNS rebinding and cross-site pages).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const TOKEN_HEADER = 'x-qatwb-token';

/** A fresh random token for one server launch (192 bits, URL-safe). */
export function createToken(): string {
  return randomBytes(24).toString('base64url');
}

export function tokenMatches(expected: string, given: string | null | undefined): boolean {
  if (!given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export type AccessDecision = { ok: true } | { ok: false; status: 401 | 403; reason: string };

/** Host must be this server; Origin, when a browser sends one, must be this server too. */
export function checkSite(req: IncomingMessage, port: number): AccessDecision {
  const allowedHosts = [`127.0.0.1:${port}`, `localhost:${port}`];
  const host = req.headers.host ?? '';
  if (!allowedHosts.includes(host)) return { ok: false, status: 403, reason: `Host "${host}" is not this server.` };
  const origin = req.headers.origin;
  if (origin !== undefined && !allowedHosts.some((h) => origin === `http://${h}`)) {
    return { ok: false, status: 403, reason: `Origin "${origin}" is not allowed.` };
  }
  return { ok: true };
}

/**
 * The token from the header, or from `?token=` for the WebSocket handshake only (a browser cannot
 * set headers there). The HTTP API refuses it in the query: URLs end up in logs, history and
 * Referer headers.
 */
export function requestToken(req: IncomingMessage, url: URL): string | null {
  const header = req.headers[TOKEN_HEADER];
  if (typeof header === 'string') return header;
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7);
  return req.headers.upgrade?.toLowerCase() === 'websocket' ? url.searchParams.get('token') : null;
}

export function checkAccess(req: IncomingMessage, url: URL, port: number, token: string): AccessDecision {
  const site = checkSite(req, port);
  if (!site.ok) return site;
  if (!tokenMatches(token, requestToken(req, url))) {
    return { ok: false, status: 401, reason: 'Missing or wrong token; use the URL printed by `qatwb serve`.' };
  }
  return { ok: true };
}
