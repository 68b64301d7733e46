// Progress of an MSDK make build: MSDK makefiles print one "CC file.c" / "AS file.S" / "AR lib.a" /
// "LD file.elf" line per step. The number of files is not known up front (the MSDK peripheral
// drivers build too), so the fraction uses an estimate and never reaches 1 before the link.
import type { z } from 'zod';
import type { ToolchainProgressData } from '../../api/toolchain.api.ts';
import type { ProgressParser } from './progress-parser.ts';

type Data = z.input<typeof ToolchainProgressData>;

export function createMakeProgress(expectedFiles = 60): ProgressParser {
  let compiled = 0;
  return (raw) => {
    const line = raw.trim();
    const step = line.match(/^(CC|CXX|AS|AR)\s+(\S+)/);
    // Verbose builds show the compiler command itself instead of the short form.
    const verbose = !step && /\bgcc\b.*\s-c\s/.test(line) ? line.match(/\s(\S+\.(?:c|S|s|cpp))\b/) : null;
    if (step || verbose) {
      compiled++;
      const file = step ? step[2]! : verbose![1]!;
      return {
        phase: 'build',
        fraction: Math.min(0.9, (compiled / Math.max(expectedFiles, compiled + 1)) * 0.9),
        message: `${step ? step[1] : 'CC'} ${file}`,
        data: { kind: 'make', compiled, file } satisfies Data,
      };
    }
    const link = line.match(/^LD\s+(\S+)/) ?? (/\bgcc\b.*\s-o\s+(\S+\.elf)\b/.test(line) ? line.match(/-o\s+(\S+\.elf)/) : null);
    if (link) return { phase: 'build', fraction: 0.95, message: `LD ${link[1]}`, data: { kind: 'make', compiled, ...(link[1] ? { linking: link[1] } : {}) } satisfies Data };
    return undefined;
  };
}
