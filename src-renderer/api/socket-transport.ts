// The web-mode transport: rpc/protocol.ts messages as JSON text frames over a WebSocket to
// `qatwb serve`'s /rpc. Queues messages until the socket opens, reconnects after a drop, and fails
// the calls that were in flight when the connection was lost (they cannot be answered any more).
// Works with the browser WebSocket and with the `ws` package (tests), through this small interface.
import type { ClientMessage, ServerMessage, Transport } from '../../src-main/rpc/protocol.ts';

export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(): void;
  addEventListener(type: 'open' | 'close' | 'error', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
}

export type ConnectionState = 'connecting' | 'open' | 'closed';

export interface SocketTransport extends Transport<ClientMessage, ServerMessage> {
  /** Current state and a listener for changes (returns its disposer). */
  state(): ConnectionState;
  onState(listener: (state: ConnectionState) => void): () => void;
  close(): void;
}

const OPEN = 1;

export function socketTransport(connect: () => SocketLike, options: { reconnectMs?: number } = {}): SocketTransport {
  const listeners = new Set<(m: ServerMessage) => void>();
  const stateListeners = new Set<(s: ConnectionState) => void>();
  const queue: string[] = [];
  const inFlight = new Set<number>();
  let state: ConnectionState = 'connecting';
  let closedByUser = false;
  let socket: SocketLike;

  const deliver = (m: ServerMessage) => {
    if (m.kind === 'result' || m.kind === 'error') inFlight.delete(m.id);
    for (const l of listeners) l(m);
  };
  const setState = (s: ConnectionState) => {
    state = s;
    for (const l of stateListeners) l(s);
  };

  function open(): void {
    setState('connecting');
    socket = connect();
    socket.addEventListener('open', () => {
      setState('open');
      for (const text of queue.splice(0)) socket.send(text);
    });
    socket.addEventListener('message', (event) => {
      if (typeof event.data !== 'string') return;
      deliver(JSON.parse(event.data) as ServerMessage);
    });
    socket.addEventListener('close', () => {
      setState('closed');
      for (const id of [...inFlight]) {
        deliver({ kind: 'error', id, error: { code: 'io', message: 'The connection to QAT Workbench was lost; try again.' } });
      }
      if (!closedByUser) setTimeout(open, options.reconnectMs ?? 1000);
    });
  }
  open();

  return {
    send(message) {
      if (message.kind === 'call') inFlight.add(message.id);
      const text = JSON.stringify(message);
      if (socket.readyState === OPEN) socket.send(text);
      else queue.push(text);
    },
    onMessage(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    state: () => state,
    onState(listener) {
      stateListeners.add(listener);
      return () => stateListeners.delete(listener);
    },
    close() {
      closedByUser = true;
      socket.close();
    },
  };
}
