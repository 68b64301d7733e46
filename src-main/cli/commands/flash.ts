// `qatwb flash`: placeholder until its capability lands; replaced by the owner.
import type { Command } from '../command.ts';

export const command: Command = {
  name: 'flash',
  summary: 'Not available yet.',
  usage: 'qatwb flash',
  async run(_args, io) {
    io.err('qatwb flash is not available in this build yet.');
    return 2;
  },
};
