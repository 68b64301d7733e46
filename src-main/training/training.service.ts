// The training service: implements api/training.api.ts over the training capability (Node edge; no Electron).
import type { ServiceImpl } from '../api/contract.ts';
import type { trainingApi } from '../api/training.api.ts';
import type { ServiceEnv } from '../services.ts';

export function createTrainingService(_env: ServiceEnv): ServiceImpl<typeof trainingApi> {
  return {
    async ping() {
      return { ok: true as const };
    },
  };
}
