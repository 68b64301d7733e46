// Contract of the data service. Owned by the data capability; see api/contract.ts for the pattern.
import { z } from 'zod';
import { call, service } from './contract.ts';

export const dataApi = service(
  {
    ping: call('Checks that the data service answers.', z.strictObject({}), z.object({ ok: z.literal(true) })),
  },
  {},
);
