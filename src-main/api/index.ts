// THE contract: every service the renderer, the CLI and web mode can call. Adding a method means
// editing its `<service>.api.ts`, implementing it in the service, and calling it; no transport
// changes.
import type { ServiceClient, ServiceImpl, ServiceSpec } from './contract.ts';
import { projectApi } from './project.api.ts';
import { modelApi } from './model.api.ts';
import { dataApi } from './data.api.ts';
import { trainingApi } from './training.api.ts';
import { toolchainApi } from './toolchain.api.ts';
import { deviceApi } from './device.api.ts';

export const contract = {
  project: projectApi,
  model: modelApi,
  data: dataApi,
  training: trainingApi,
  toolchain: toolchainApi,
  device: deviceApi,
} as const satisfies Record<string, ServiceSpec>;

export type Contract = typeof contract;
export type ServiceName = keyof Contract;
export const serviceNames = Object.keys(contract) as ServiceName[];

/** What the renderer holds: a typed client per service. */
export type Services = { [K in ServiceName]: ServiceClient<Contract[K]> };
/** What the main side provides: one implementation per service. */
export type ServiceImpls = { [K in ServiceName]: ServiceImpl<Contract[K]> };

export * from './contract.ts';
