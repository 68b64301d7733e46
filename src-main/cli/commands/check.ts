// `qatwb check`: placeholder until its capability lands; replaced by the owner.
import type { Command } from '../command.ts';

export const command: Command = {
  name: 'check',
  summary: 'Not available yet.',
  usage: 'qatwb check',
  async run(_args, io) {
    io.err('qatwb check is not available in this build yet.');
    return 2;
  },
};
