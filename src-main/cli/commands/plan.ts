// `qatwb plan`: placeholder until its capability lands; replaced by the owner.
import type { Command } from '../command.ts';

export const command: Command = {
  name: 'plan',
  summary: 'Not available yet.',
  usage: 'qatwb plan',
  async run(_args, io) {
    io.err('qatwb plan is not available in this build yet.');
    return 2;
  },
};
