// The server half of the RPC: validates each call against the contract (strict zod schemas, so a
// malformed request is refused with the offending field named), runs the service with an
// AbortSignal and a progress reporter, and validates what the service returns.
import type { z } from 'zod';
import { ApiError, type CallContext } from '../api/contract.ts';
import { createThrottle } from '../platform/throttle.ts';
import { contract, type ServiceImpls } from '../api/index.ts';
import type { ClientMessage, ServerMessage, WireError } from './protocol.ts';

/** Turns a zod failure into an ApiError naming the first offending field. */
export function validationError(error: z.ZodError, where: string): ApiError {
  const issue = error.issues[0];
  const path = issue?.path.map(String) ?? [];
  const keys = issue && 'keys' in issue ? (issue.keys as string[]) : [];
  const field = [...path, ...keys.slice(0, 1)].join('.');
  const what = field ? `field "${field}"` : 'the value';
  return new ApiError('bad-request', `${where}: ${what}: ${issue?.message ?? 'invalid'}`, field || undefined);
}

export function toWireError(error: unknown): WireError {
  if (error instanceof ApiError) return error.toJSON();
  if (error instanceof Error && error.name === 'AbortError') return { code: 'cancelled', message: 'Cancelled.' };
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'internal', message };
}

export interface RpcServer {
  /** Handle one message from one client; replies go to `reply`. */
  handle(message: ClientMessage, reply: (m: ServerMessage) => void): void;
  /** Push a service event to every client registered with `addClient`. */
  emit(service: string, event: string, payload: unknown): void;
  addClient(send: (m: ServerMessage) => void): () => void;
}

export function createRpcServer(impls: Partial<ServiceImpls>): RpcServer {
  const running = new Map<string, AbortController>();
  const clients = new Set<(m: ServerMessage) => void>();
  let nextClient = 0;
  const clientIds = new WeakMap<object, number>();

  async function run(
    message: Extract<ClientMessage, { kind: 'call' }>,
    reply: (m: ServerMessage) => void,
    key: string,
  ): Promise<void> {
    // Own properties only: `__proto__`, `constructor` or `toString` as a name is no method.
    const own = <T>(o: Record<string, T> | undefined, k: string): T | undefined => (o && Object.hasOwn(o, k) ? o[k] : undefined);
    const spec = own(contract as Record<string, { methods: Record<string, { request: z.ZodType; response: z.ZodType }> }>, message.service);
    const method = own(spec?.methods, message.method);
    const impl = own(own(impls as Record<string, Record<string, (r: unknown, c: unknown) => Promise<unknown>>>, message.service), message.method);
    if (!spec || !method || !impl) {
      throw new ApiError('not-found', `No method ${message.service}.${message.method}.`);
    }
    const parsed = method.request.safeParse(message.request);
    if (!parsed.success) throw validationError(parsed.error, `${message.service}.${message.method} request`);
    const controller = new AbortController();
    running.set(key, controller);
    // ~20 a second, so a tight training loop cannot flood the transport.
    const pass = createThrottle(50);
    const ctx: CallContext = {
      signal: controller.signal,
      progress(progress, options) {
        if (pass(options?.mustDeliver || progress.fraction === 1)) reply({ kind: 'progress', id: message.id, progress });
      },
    };
    const result = await impl(parsed.data, ctx);
    if (controller.signal.aborted) throw new ApiError('cancelled', 'Cancelled.');
    const out = method.response.safeParse(result);
    if (!out.success) throw validationError(out.error, `${message.service}.${message.method} response`);
    reply({ kind: 'result', id: message.id, response: out.data });
  }

  return {
    handle(message, reply) {
      let cid = clientIds.get(reply);
      if (cid === undefined) clientIds.set(reply, (cid = nextClient++));
      const key = `${cid}:${message.id}`;
      if (message.kind === 'cancel') {
        running.get(key)?.abort(new ApiError('cancelled', 'Cancelled.'));
        return;
      }
      run(message, reply, key)
        .catch((error: unknown) => reply({ kind: 'error', id: message.id, error: toWireError(error) }))
        .finally(() => running.delete(key));
    },
    emit(service, event, payload) {
      for (const send of clients) send({ kind: 'event', service, event, payload });
    },
    addClient(send) {
      clients.add(send);
      return () => clients.delete(send);
    },
  };
}
