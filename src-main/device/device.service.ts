// The device service: implements api/device.api.ts over the device capability (Node edge; no Electron).
import type { ServiceImpl } from '../api/contract.ts';
import type { deviceApi } from '../api/device.api.ts';
import type { ServiceEnv } from '../services.ts';

export function createDeviceService(_env: ServiceEnv): ServiceImpl<typeof deviceApi> {
  return {
    async ping() {
      return { ok: true as const };
    },
  };
}
