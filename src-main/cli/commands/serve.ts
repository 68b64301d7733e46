// `qatwb serve`: placeholder until its capability lands; replaced by the owner.
import type { Command } from '../command.ts';

export const command: Command = {
  name: 'serve',
  summary: 'Not available yet.',
  usage: 'qatwb serve',
  async run(_args, io) {
    io.err('qatwb serve is not available in this build yet.');
    return 2;
  },
};
