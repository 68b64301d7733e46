// Builds every service implementation for one app instance (Electron main, web mode, CLI, tests).
// The one place that knows which capability implements which contract.
import type { ServiceImpls, ServiceName } from './api/index.ts';
import type { ToolchainSettings } from './api/toolchain.api.ts';

export interface ServiceEnv {
  /** Folder for app state (settings, recent projects); tests pass a temp dir. */
  stateDir: string;
  /** Push a service event to every connected client. */
  emit(service: string, event: string, payload: unknown): void;
  /**
   * Register cleanup to run when the app instance shuts down (child processes, ports): without it
   * a live child's IPC channel keeps `qatwb serve` from exiting on Ctrl+C.
   */
  onDispose?(dispose: () => Promise<void> | void): void;
  /**
   * Asks the person at the computer to confirm new program paths in the tool settings (the desktop
   * shows a native dialog the renderer cannot answer). Absent (web mode): the API cannot change
   * them at all, since whoever holds the token could otherwise make the app run any program.
   */
  approveToolPaths?(changes: ToolPathChange[]): Promise<boolean>;
  /**
   * Tool paths and options for this instance's runs over the saved ones, never saved (the CLI's
   * --izer, --maxim-path, --jobs ... flags). Only a front door run by the person at the computer
   * sets it; the API cannot.
   */
  toolOverrides?: Partial<ToolchainSettings>;
}

export interface ToolPathChange {
  field: string;
  from?: string;
  to?: string;
}


type Factories = { [K in ServiceName]: () => Promise<(env: ServiceEnv) => ServiceImpls[K]> };

// Loaded when asked for, so a front door that uses two services (a CLI command) does not load
// every capability (training pulls in TensorFlow).
const factories: Factories = {
  project: async () => (await import('./project/project.service.ts')).createProjectService,
  model: async () => (await import('./model/model.service.ts')).createModelService,
  data: async () => (await import('./data/data.service.ts')).createDataService,
  training: async () => (await import('./training/training.service.ts')).createTrainingService,
  toolchain: async () => (await import('./toolchain/toolchain.service.ts')).createToolchainService,
  device: async () => (await import('./device/device.service.ts')).createDeviceService,
};

/** Every service (the desktop app, web mode), or only the named ones (a CLI command). */
export async function createServices(env: ServiceEnv): Promise<ServiceImpls>;
export async function createServices<K extends ServiceName>(env: ServiceEnv, names: readonly K[]): Promise<Pick<ServiceImpls, K>>;
export async function createServices(env: ServiceEnv, names: readonly ServiceName[] = Object.keys(factories) as ServiceName[]): Promise<Partial<ServiceImpls>> {
  const made = await Promise.all(names.map(async (name) => [name, (await factories[name]())(env)] as const));
  return Object.fromEntries(made);
}
