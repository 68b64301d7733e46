// An in-process transport pair for tests and the CLI: a client wired straight to an RpcServer.
// Messages go through JSON so tests see exactly what a real wire would carry.
import type { ClientMessage, ServerMessage, Transport } from './protocol.ts';
import type { RpcServer } from './serve.ts';

export function memoryTransport(server: RpcServer): Transport<ClientMessage, ServerMessage> {
  const listeners = new Set<(m: ServerMessage) => void>();
  const deliver = (m: ServerMessage) => {
    const copy = JSON.parse(JSON.stringify(m)) as ServerMessage;
    queueMicrotask(() => listeners.forEach((l) => l(copy)));
  };
  server.addClient(deliver);
  return {
    send(message) {
      server.handle(JSON.parse(JSON.stringify(message)) as ClientMessage, deliver);
    },
    onMessage(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
