// Contract of the toolchain service. Owned by the toolchain capability; see api/contract.ts for the pattern.
import { z } from 'zod';
import { call, service } from './contract.ts';

export const toolchainApi = service(
  {
    ping: call('Checks that the toolchain service answers.', z.strictObject({}), z.object({ ok: z.literal(true) })),
  },
  {},
);
