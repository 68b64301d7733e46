// Connects one WebSocket (package `ws`) to the RPC server: JSON text frames carrying the messages of
// rpc/protocol.ts. Frames are validated first; calls still running when the socket closes are
// cancelled, so a closed browser tab stops its jobs.
import type { WebSocket } from 'ws';
import type { ServerMessage } from '../rpc/protocol.ts';
import { validationError, type RpcServer } from '../rpc/serve.ts';
import { ClientMessageSchema } from './wire-schema.ts';

export function attachSocket(socket: WebSocket, server: RpcServer): void {
  const inFlight = new Set<number>();
  const send = (m: ServerMessage) => {
    if (m.kind === 'result' || m.kind === 'error') inFlight.delete(m.id);
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(m));
  };
  const removeClient = server.addClient(send);

  socket.on('message', (data, isBinary) => {
    let raw: unknown;
    try {
      if (isBinary) throw new Error('binary frames are not used');
      raw = JSON.parse(data.toString());
    } catch (error) {
      send({ kind: 'error', id: 0, error: { code: 'bad-request', message: `message: not a JSON text frame (${(error as Error).message}).` } });
      return;
    }
    const parsed = ClientMessageSchema.safeParse(raw);
    if (!parsed.success) {
      const id = typeof (raw as { id?: unknown })?.id === 'number' ? (raw as { id: number }).id : 0;
      send({ kind: 'error', id, error: validationError(parsed.error, 'message').toJSON() });
      return;
    }
    if (parsed.data.kind === 'call') inFlight.add(parsed.data.id);
    server.handle(parsed.data, send);
  });

  socket.on('close', () => {
    removeClient();
    for (const id of inFlight) server.handle({ kind: 'cancel', id }, send);
    inFlight.clear();
  });
}
