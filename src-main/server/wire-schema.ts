// Validates messages arriving from a web client before they reach the RPC server: a socket is
// untrusted input, so a malformed frame gets an error that names the bad field.
import { z } from 'zod';
import type { ClientMessage } from '../rpc/protocol.ts';

const Id = z.number().int().nonnegative();

export const ClientMessageSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('call'), id: Id, service: z.string().min(1), method: z.string().min(1), request: z.unknown() }),
  z.strictObject({ kind: z.literal('cancel'), id: Id }),
]) satisfies z.ZodType<ClientMessage>;
