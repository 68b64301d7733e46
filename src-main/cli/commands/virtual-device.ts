// `qatwb virtual-device`: placeholder until its capability lands; replaced by the owner.
import type { Command } from '../command.ts';

export const command: Command = {
  name: 'virtual-device',
  summary: 'Not available yet.',
  usage: 'qatwb virtual-device',
  async run(_args, io) {
    io.err('qatwb virtual-device is not available in this build yet.');
    return 2;
  },
};
