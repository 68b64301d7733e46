// Builds every service implementation for one app instance (Electron main, web mode, CLI, tests).
// The one place that knows which capability implements which contract.
import type { ServiceImpls } from './api/index.ts';
import { createProjectService } from './project/project.service.ts';
import { createModelService } from './model/model.service.ts';
import { createDataService } from './data/data.service.ts';
import { createTrainingService } from './training/training.service.ts';
import { createToolchainService } from './toolchain/toolchain.service.ts';
import { createDeviceService } from './device/device.service.ts';

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
}

export interface ToolPathChange {
  field: string;
  from?: string;
  to?: string;
}


export function createServices(env: ServiceEnv): ServiceImpls {
  return {
    project: createProjectService(env),
    model: createModelService(env),
    data: createDataService(env),
    training: createTrainingService(env),
    toolchain: createToolchainService(env),
    device: createDeviceService(env),
  };
}
