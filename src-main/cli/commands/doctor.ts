// `qatwb doctor`: what toolchain parts are found (where, which version) and, for each missing
// one, the fix in plain words.
import { homedir } from 'node:os';
import type { Command } from '../command.ts';
import { cliSettings, runCli, TOOL_BOOLEANS, TOOL_FLAGS, TOOL_OPTIONS } from '../../toolchain/cli-run.ts';
import { formatDoctor, runDoctor } from '../../toolchain/doctor.ts';
import { hostContext } from '../../toolchain/locate.ts';

export const command: Command = {
  name: 'doctor',
  summary: 'List the toolchain parts found and missing, with fixes.',
  usage: `qatwb doctor [--json] [tool paths]\n${TOOL_FLAGS}\nExit code 0 when everything is ready, 1 otherwise.`,
  options: TOOL_OPTIONS,
  booleans: TOOL_BOOLEANS,
  async run(args, io) {
    return runCli(args, io, async () => {
      const report = await runDoctor(hostContext(await cliSettings(args), homedir()));
      if (args.options.has('json')) io.out(JSON.stringify(report));
      else for (const line of formatDoctor(report)) io.out(line);
      return report.ready ? 0 : 1;
    });
  },
};
