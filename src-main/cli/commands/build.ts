// `qatwb build`: build a synthesized project with the MSDK's make (the toolchain service's build job).
import { optInt, reqString } from '../args.ts';
import type { Command } from '../command.ts';
import { runCli, TOOL_BOOLEANS, TOOL_FLAGS, TOOL_OPTIONS, withToolchain } from '../../toolchain/cli-run.ts';
import { resolve } from 'node:path';

export const command: Command = {
  name: 'build',
  summary: 'Build the synthesized firmware with make.',
  usage: `qatwb build --project DIR [--maxim-path P] [--jobs N] [--json]\n  --project DIR        the generated project (holds Makefile, main.c, cnn.c)\n  --jobs N             make -j N\n${TOOL_FLAGS}`,
  options: [...TOOL_OPTIONS, 'project', 'jobs'],
  booleans: TOOL_BOOLEANS,
  async run(args, io) {
    return runCli(args, io, async () => {
      const projectDir = resolve(reqString(args, 'project'));
      const buildJobs = optInt(args, 'jobs', { min: 1, max: 256 });
      const r = await withToolchain(args, io, buildJobs !== undefined ? { buildJobs } : {}, (toolchain, job) => toolchain.build({ projectDir }, job));
      if (args.options.has('json')) io.out(JSON.stringify(r));
      else io.out(`Built ${r.elf} (${r.sizeBytes} bytes) in ${(r.durationMs / 1000).toFixed(1)} s`);
      return 0;
    });
  },
};
