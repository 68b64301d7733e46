// Contract of the model service. Owned by the model capability; see api/contract.ts for the pattern.
import { z } from 'zod';
import { call, service } from './contract.ts';

export const modelApi = service(
  {
    ping: call('Checks that the model service answers.', z.strictObject({}), z.object({ ok: z.literal(true) })),
  },
  {},
);
