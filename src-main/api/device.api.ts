// Contract of the device service. Owned by the device capability; see api/contract.ts for the pattern.
import { z } from 'zod';
import { call, service } from './contract.ts';

export const deviceApi = service(
  {
    ping: call('Checks that the device service answers.', z.strictObject({}), z.object({ ok: z.literal(true) })),
  },
  {},
);
