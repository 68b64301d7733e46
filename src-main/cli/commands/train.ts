// `qatwb train`: placeholder until its capability lands; replaced by the owner.
import type { Command } from '../command.ts';

export const command: Command = {
  name: 'train',
  summary: 'Not available yet.',
  usage: 'qatwb train',
  async run(_args, io) {
    io.err('qatwb train is not available in this build yet.');
    return 2;
  },
};
