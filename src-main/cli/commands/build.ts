// `qatwb build`: placeholder until its capability lands; replaced by the owner.
import type { Command } from '../command.ts';

export const command: Command = {
  name: 'build',
  summary: 'Not available yet.',
  usage: 'qatwb build',
  async run(_args, io) {
    io.err('qatwb build is not available in this build yet.');
    return 2;
  },
};
