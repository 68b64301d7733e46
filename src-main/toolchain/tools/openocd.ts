// Progress of OpenOCD's `program ... verify reset exit`: its "** Programming Started **" banners
// and the "wrote N bytes" line.
import type { z } from 'zod';
import type { ToolchainProgressData } from '../../api/toolchain.api.ts';
import type { ProgressParser } from './progress-parser.ts';

type Data = z.input<typeof ToolchainProgressData>;

const STEPS: { pattern: RegExp; step: Extract<Data, { kind: 'openocd' }>['step']; fraction: number }[] = [
  { pattern: /^Info : (?:CMSIS-DAP|Using CMSIS-DAP)/i, step: 'adapter', fraction: 0.05 },
  { pattern: /target halted|halted due to/i, step: 'halted', fraction: 0.1 },
  { pattern: /\*\* Programming Started \*\*/, step: 'program', fraction: 0.15 },
  { pattern: /^wrote \d+ bytes/i, step: 'program', fraction: 0.6 },
  { pattern: /\*\* Programming Finished \*\*/, step: 'program', fraction: 0.7 },
  { pattern: /\*\* Verify Started \*\*/, step: 'verify', fraction: 0.75 },
  { pattern: /\*\* Verified OK \*\*/, step: 'verify', fraction: 0.9 },
  { pattern: /\*\* Resetting Target \*\*/, step: 'reset', fraction: 0.95 },
  { pattern: /shutdown command invoked/, step: 'done', fraction: 1 },
];

export function createOpenocdProgress(): ProgressParser {
  let last = 0;
  return (raw) => {
    const line = raw.trim();
    for (const s of STEPS) {
      if (s.pattern.test(line) && s.fraction >= last) {
        last = s.fraction;
        return { phase: 'flash', fraction: s.fraction, message: line, data: { kind: 'openocd', step: s.step } satisfies Data };
      }
    }
    return undefined;
  };
}
