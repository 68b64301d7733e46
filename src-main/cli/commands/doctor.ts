// `qatwb doctor`: placeholder until its capability lands; replaced by the owner.
import type { Command } from '../command.ts';

export const command: Command = {
  name: 'doctor',
  summary: 'Not available yet.',
  usage: 'qatwb doctor',
  async run(_args, io) {
    io.err('qatwb doctor is not available in this build yet.');
    return 2;
  },
};
