// The client half of the RPC: a typed proxy over any transport. `client.training.start(req,
// {signal, onProgress})` sends a call, streams progress, and resolves with the result; aborting
// the signal sends a cancel. Service events are received with `on(service, event, listener)`.
import { ApiError, type CallOptions } from '../api/contract.ts';
import type { Contract, Services } from '../api/index.ts';
import type { ClientMessage, ServerMessage, Transport } from './protocol.ts';

export interface RpcClient {
  services: Services;
  on<S extends keyof Contract & string, E extends keyof Contract[S]['events'] & string>(
    service: S,
    event: E,
    listener: (payload: unknown) => void,
  ): () => void;
  dispose(): void;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
  onProgress?: CallOptions['onProgress'];
}

export function createRpcClient(transport: Transport<ClientMessage, ServerMessage>): RpcClient {
  let nextId = 1;
  const pending = new Map<number, Pending>();
  const listeners = new Map<string, Set<(payload: unknown) => void>>();

  const stop = transport.onMessage((m) => {
    if (m.kind === 'event') {
      for (const l of listeners.get(`${m.service}.${m.event}`) ?? []) l(m.payload);
      return;
    }
    const p = pending.get(m.id);
    if (!p) return;
    if (m.kind === 'progress') p.onProgress?.(m.progress);
    else {
      pending.delete(m.id);
      if (m.kind === 'result') p.resolve(m.response);
      else p.reject(new ApiError(m.error.code, m.error.message, m.error.field, m.error.details));
    }
  });

  function invoke(service: string, method: string, request: unknown, options: CallOptions = {}): Promise<unknown> {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      if (options.signal?.aborted) return reject(new ApiError('cancelled', 'Cancelled.'));
      pending.set(id, { resolve, reject, onProgress: options.onProgress });
      options.signal?.addEventListener('abort', () => transport.send({ kind: 'cancel', id }), { once: true });
      transport.send({ kind: 'call', id, service, method, request: request ?? {} });
    });
  }

  const services = new Proxy({} as Services, {
    get(_t, service: string) {
      return new Proxy({}, {
        get(_s, method: string) {
          return (request: unknown, options?: CallOptions) => invoke(service, method, request, options);
        },
      });
    },
  });

  return {
    services,
    on(service, event, listener) {
      const key = `${service}.${event}`;
      if (!listeners.has(key)) listeners.set(key, new Set());
      listeners.get(key)!.add(listener);
      return () => listeners.get(key)?.delete(listener);
    },
    dispose() {
      stop();
      for (const p of pending.values()) p.reject(new ApiError('io', 'Connection closed.'));
      pending.clear();
    },
  };
}
