// `qatwb doctor`: what toolchain parts are found (where, which version) and, for each missing
// one, the fix in plain words. The toolchain service's doctor job.
import type { Command } from '../command.ts';
import { runCli, TOOL_BOOLEANS, TOOL_FLAGS, TOOL_OPTIONS, withToolchain } from '../../toolchain/cli-run.ts';
import { formatDoctor } from '../../toolchain/doctor.ts';

export const command: Command = {
  name: 'doctor',
  summary: 'List the toolchain parts found and missing, with fixes.',
  usage: `qatwb doctor [--json] [tool paths]\n${TOOL_FLAGS}\nExit code 0 when everything is ready, 1 otherwise.`,
  options: TOOL_OPTIONS,
  booleans: TOOL_BOOLEANS,
  async run(args, io) {
    return runCli(args, io, async () => {
      // Its one progress line ("Looking for the toolchain") is not echoed: the report follows at once.
      const report = await withToolchain(args, io, {}, (toolchain, job) => toolchain.doctor({}, job.signal ? { signal: job.signal } : {}));
      if (args.options.has('json')) io.out(JSON.stringify(report));
      else for (const line of formatDoctor(report)) io.out(line);
      return report.ready ? 0 : 1;
    });
  },
};
