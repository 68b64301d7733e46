// Subscribes to a service event for the lifetime of the current effect scope (component or store).
import { getCurrentScope, onScopeDispose } from 'vue';
import type { Contract } from '@contract';
import { onEvent } from '../api/client.ts';

export function useEvent<S extends keyof Contract & string, E extends keyof Contract[S]['events'] & string>(
  service: S,
  event: E,
  listener: (payload: unknown) => void,
): () => void {
  const stop = onEvent(service, event, listener);
  if (getCurrentScope()) onScopeDispose(stop);
  return stop;
}
