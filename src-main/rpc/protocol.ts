// Wire messages between a client (renderer, CLI, test) and the services, the same on every
// transport (Electron IPC, loopback WebSocket, in-memory). JSON-safe objects only.
//   client → server: call {id, service, method, request} | cancel {id}
//   server → client: progress {id, progress} | result {id, response} | error {id, error}
//                    | event {service, event, payload}   (pushed to every connected client)
// Every call ends with exactly one result or error; a cancelled call ends with error code 'cancelled'.
import type { Progress } from '../api/contract.ts';

export interface WireError {
  code: string;
  message: string;
  field?: string;
  details?: Record<string, unknown>;
}

export type ClientMessage =
  | { kind: 'call'; id: number; service: string; method: string; request: unknown }
  | { kind: 'cancel'; id: number };

export type ServerMessage =
  | { kind: 'progress'; id: number; progress: Progress }
  | { kind: 'result'; id: number; response: unknown }
  | { kind: 'error'; id: number; error: WireError }
  | { kind: 'event'; service: string; event: string; payload: unknown };

/** A transport: send a message, and receive the other side's; onMessage returns its disposer. */
export interface Transport<Out, In> {
  send(message: Out): void;
  onMessage(listener: (message: In) => void): () => void;
}
