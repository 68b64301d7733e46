// Contract of the training service. Owned by the training capability; see api/contract.ts for the pattern.
import { z } from 'zod';
import { call, service } from './contract.ts';

export const trainingApi = service(
  {
    ping: call('Checks that the training service answers.', z.strictObject({}), z.object({ ok: z.literal(true) })),
  },
  {},
);
