// The toolchain service: implements api/toolchain.api.ts over the toolchain capability (Node edge; no Electron).
import type { ServiceImpl } from '../api/contract.ts';
import type { toolchainApi } from '../api/toolchain.api.ts';
import type { ServiceEnv } from '../services.ts';

export function createToolchainService(_env: ServiceEnv): ServiceImpl<typeof toolchainApi> {
  return {
    async ping() {
      return { ok: true as const };
    },
  };
}
