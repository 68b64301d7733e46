// The data service: implements api/data.api.ts over the data capability (Node edge; no Electron).
import type { ServiceImpl } from '../api/contract.ts';
import type { dataApi } from '../api/data.api.ts';
import type { ServiceEnv } from '../services.ts';

export function createDataService(_env: ServiceEnv): ServiceImpl<typeof dataApi> {
  return {
    async ping() {
      return { ok: true as const };
    },
  };
}
