// The project service: implements api/project.api.ts over the project capability (Node edge; no Electron).
import type { ServiceImpl } from '../api/contract.ts';
import type { projectApi } from '../api/project.api.ts';
import type { ServiceEnv } from '../services.ts';

export function createProjectService(_env: ServiceEnv): ServiceImpl<typeof projectApi> {
  return {
    async ping() {
      return { ok: true as const };
    },
  };
}
