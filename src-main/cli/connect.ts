// How a CLI command reaches the app: the same service implementations and RPC server as web mode
// and the desktop, called through the typed client over the in-memory transport. So a command gets
// the contract's validation, the services' worker budgets, their progress and their errors, and
// there is no second front door into the capabilities.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServiceName, Services } from '../api/index.ts';
import { createDisposer } from '../platform/disposer.ts';
import { createRpcClient, type RpcClient } from '../rpc/client.ts';
import { memoryTransport } from '../rpc/memory-transport.ts';
import { createRpcServer, type RpcServer } from '../rpc/serve.ts';
import { createServices, type ServiceEnv } from '../services.ts';

export interface CliServices {
  api: Services;
  on: RpcClient['on'];
}

export interface ConnectOptions {
  /**
   * App state folder (saved tool settings); default a fresh private folder, removed afterwards, so
   * nothing is read from it (never the shared temp folder itself: anyone can put a
   * toolchain-settings.json naming a program there).
   */
  stateDir?: string;
  toolOverrides?: ServiceEnv['toolOverrides'];
}

/**
 * Starts the named services behind an RPC server, runs `body` with a client of them, and stops
 * what the services started (link and virtual-device processes) however `body` ends.
 */
export async function withServices<T>(names: readonly ServiceName[], options: ConnectOptions, body: (s: CliServices) => Promise<T>): Promise<T> {
  const disposer = createDisposer();
  const ownState = options.stateDir === undefined ? await mkdtemp(join(tmpdir(), 'qatwb-cli-')) : undefined;
  try {
    let rpc: RpcServer | undefined;
    const env: ServiceEnv = {
      stateDir: options.stateDir ?? ownState!,
      emit: (s, e, p) => rpc?.emit(s, e, p),
      onDispose: disposer.onDispose,
      ...(options.toolOverrides ? { toolOverrides: options.toolOverrides } : {}),
    };
    rpc = createRpcServer(await createServices(env, names));
    const client = createRpcClient(memoryTransport(rpc));
    try {
      return await body({ api: client.services, on: client.on });
    } finally {
      client.dispose();
      await disposer.dispose();
    }
  } finally {
    if (ownState) await rm(ownState, { recursive: true, force: true });
  }
}
