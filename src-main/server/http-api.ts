// The HTTP face of the API: POST /api/<service>/<method> with a JSON request body answers
// 200 {result} or an error status with {error: {code, message, field?}}. Jobs run to completion
// (no progress over plain HTTP; use the WebSocket for progress and cancel).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RpcServer } from '../rpc/serve.ts';
import type { ServerMessage, WireError } from '../rpc/protocol.ts';

const MAX_BODY_BYTES = 16 * 1024 * 1024;

const STATUS: Record<string, number> = {
  'bad-request': 400,
  'invalid-model': 400,
  'invalid-data': 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  cancelled: 409,
  internal: 500,
};

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' }).end(text);
}

export function sendError(res: ServerResponse, status: number, error: WireError): void {
  json(res, status, { error });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw Object.assign(new Error('too large'), { tooLarge: true });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

let nextId = 1;

export async function handleApiRequest(req: IncomingMessage, res: ServerResponse, pathname: string, server: RpcServer): Promise<void> {
  if (req.method !== 'POST') {
    res.setHeader('Allow', 'POST');
    return sendError(res, 405, { code: 'bad-request', message: 'Use POST /api/<service>/<method> with a JSON body.' });
  }
  const parts = pathname.split('/').filter(Boolean); // ['api', service, method]
  if (parts.length !== 3) {
    return sendError(res, 404, { code: 'not-found', message: `No API route ${pathname}; expected /api/<service>/<method>.` });
  }
  const [, service, method] = parts as [string, string, string];
  let request: unknown = {};
  try {
    const text = await readBody(req);
    if (text.trim()) request = JSON.parse(text);
  } catch (error) {
    if ((error as { tooLarge?: boolean }).tooLarge) {
      return sendError(res, 413, { code: 'bad-request', message: `Request body is over ${MAX_BODY_BYTES} bytes.` });
    }
    return sendError(res, 400, { code: 'bad-request', message: `Request body is not valid JSON (${(error as Error).message}).` });
  }
  const id = nextId++;
  const abort = () => server.handle({ kind: 'cancel', id }, reply);
  function reply(m: ServerMessage): void {
    if (m.kind === 'result') json(res, 200, { result: m.response });
    else if (m.kind === 'error') sendError(res, STATUS[m.error.code] ?? 422, m.error);
    else return;
    res.off('close', onClose);
  }
  // A client that hangs up cancels its call.
  function onClose(): void {
    if (!res.writableEnded) abort();
  }
  res.on('close', onClose);
  server.handle({ kind: 'call', id, service, method, request }, reply);
}
