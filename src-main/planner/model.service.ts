// The model service: implements api/model.api.ts over the planner capability (Node edge; no Electron).
import type { ServiceImpl } from '../api/contract.ts';
import type { modelApi } from '../api/model.api.ts';
import type { ServiceEnv } from '../services.ts';

export function createModelService(_env: ServiceEnv): ServiceImpl<typeof modelApi> {
  return {
    async ping() {
      return { ok: true as const };
    },
  };
}
