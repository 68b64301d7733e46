// The Node side of the desktop app: the RPC server over every service, exactly as web mode builds
// it. Electron's main loads this file from source through tsx (see main.ts), so the capabilities
// run unbundled, the same code as the CLI and web mode, and their .ts worker files resolve.
// Must not import electron.
import { createRpcServer, type RpcServer } from '../rpc/serve.ts';
import { createServices, type ToolPathChange } from '../services.ts';
import type { ServiceImpls } from '../api/index.ts';
import { createDisposer } from '../platform/disposer.ts';

export interface AppRuntime {
  rpc: RpcServer;
  services: ServiceImpls;
  /** Stops what the services started (child processes, ports); call on quit. */
  dispose(): Promise<void>;
}

export async function createAppRuntime(stateDir: string, approveToolPaths?: (changes: ToolPathChange[]) => Promise<boolean>): Promise<AppRuntime> {
  let rpc: RpcServer | undefined;
  const disposer = createDisposer();
  const services = await createServices({
    stateDir, emit: (s, e, p) => rpc?.emit(s, e, p), onDispose: disposer.onDispose, ...(approveToolPaths ? { approveToolPaths } : {}),
  });
  rpc = createRpcServer(services);
  return { rpc, services, dispose: disposer.dispose };
}
