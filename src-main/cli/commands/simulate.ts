// `qatwb simulate`: placeholder until its capability lands; replaced by the owner.
import type { Command } from '../command.ts';

export const command: Command = {
  name: 'simulate',
  summary: 'Not available yet.',
  usage: 'qatwb simulate',
  async run(_args, io) {
    io.err('qatwb simulate is not available in this build yet.');
    return 2;
  },
};
