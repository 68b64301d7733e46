// `qatwb synthesize`: placeholder until its capability lands; replaced by the owner.
import type { Command } from '../command.ts';

export const command: Command = {
  name: 'synthesize',
  summary: 'Not available yet.',
  usage: 'qatwb synthesize',
  async run(_args, io) {
    io.err('qatwb synthesize is not available in this build yet.');
    return 2;
  },
};
