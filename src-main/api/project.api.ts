// Contract of the project service. Owned by the project capability; see api/contract.ts for the pattern.
import { z } from 'zod';
import { call, service } from './contract.ts';

export const projectApi = service(
  {
    ping: call('Checks that the project service answers.', z.strictObject({}), z.object({ ok: z.literal(true) })),
  },
  {},
);
