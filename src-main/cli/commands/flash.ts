// `qatwb flash`: program the built firmware with OpenOCD and, given the console port, confirm the
// known-answer test (*** PASS ***). The toolchain service's flash job.
import { optInt, optString, reqString } from '../args.ts';
import type { Command } from '../command.ts';
import { runCli, TOOL_BOOLEANS, TOOL_FLAGS, TOOL_OPTIONS, withToolchain } from '../../toolchain/cli-run.ts';
import { resolve } from 'node:path';

export const command: Command = {
  name: 'flash',
  summary: 'Flash the firmware with OpenOCD and confirm the known-answer test.',
  usage: `qatwb flash --project DIR [--openocd P] [--port /dev/ttyACM0] [--json]
  --project DIR        the built project (build/max78002.elf)
  --elf FILE           another ELF than build/max78002.elf
  --target-config CFG  OpenOCD target script (default target/max78002.cfg)
  --port PATH          console serial port: read the known-answer test after flashing
  --console-timeout MS how long to wait for *** PASS *** (default 15000)
${TOOL_FLAGS}
Exit code 1 when flashing fails or the known-answer test prints *** FAIL ***.`,
  options: [...TOOL_OPTIONS, 'project', 'elf', 'target-config', 'port', 'console-timeout'],
  booleans: TOOL_BOOLEANS,
  async run(args, io) {
    return runCli(args, io, async () => {
      const elf = optString(args, 'elf');
      const consolePort = optString(args, 'port');
      const consoleTimeoutMs = optInt(args, 'console-timeout', { min: 1 });
      const targetConfig = optString(args, 'target-config');
      const r = await withToolchain(args, io, {}, (toolchain, job) => toolchain.flash({
        projectDir: resolve(reqString(args, 'project')),
        ...(elf ? { elf: resolve(elf) } : {}),
        ...(consolePort !== undefined ? { consolePort } : {}),
        ...(consoleTimeoutMs !== undefined ? { consoleTimeoutMs } : {}),
        ...(targetConfig !== undefined ? { targetConfig } : {}),
      }, job));
      if (args.options.has('json')) io.out(JSON.stringify(r));
      else {
        io.out(`Flashed ${r.elf} in ${(r.durationMs / 1000).toFixed(1)} s`);
        io.out(`Known-answer test: ${r.kat.status}${r.kat.inferenceUs !== undefined ? ` (${r.kat.inferenceUs} us)` : ''}${r.kat.note ? ` — ${r.kat.note}` : ''}`);
      }
      return r.kat.status === 'fail' ? 1 : 0;
    });
  },
};
