// Progress of ai8xize.py from its console output: the reading phases, the per-layer checkpoint
// table, and the progress bars of weight arrangement and code generation ("Creating network...").
// Phase weights are rough shares of a typical run, so the bar moves evenly.
import type { z } from 'zod';
import type { ToolchainProgressData } from '../../api/toolchain.api.ts';
import type { ProgressParser } from './progress-parser.ts';

type Data = z.input<typeof ToolchainProgressData>;

const PHASES: { pattern: RegExp; phase: string; at: number }[] = [
  { pattern: /^Configuring device/i, phase: 'configure', at: 0.02 },
  { pattern: /^Reading .*\.ya?ml/i, phase: 'read-yaml', at: 0.05 },
  { pattern: /^Reading .*(?:checkpoint|weights|\.pth)/i, phase: 'read-checkpoint', at: 0.1 },
  { pattern: /^Checkpoint for epoch/i, phase: 'read-checkpoint', at: 0.15 },
  { pattern: /^Configuring data set/i, phase: 'sample', at: 0.3 },
  { pattern: /^Arranging weights/i, phase: 'arrange-weights', at: 0.35 },
  { pattern: /^Storing weights/i, phase: 'store-weights', at: 0.5 },
  { pattern: /^Creating network/i, phase: 'generate', at: 0.6 },
];
// Progress bar span per phase: the bar's percentage moves within [at, next phase's at].
const SPAN: Record<string, number> = { 'arrange-weights': 0.15, 'store-weights': 0.1, generate: 0.35 };

export function createAi8xizeProgress(): ProgressParser {
  let layers = 0;
  let current: { phase: string; at: number } = { phase: 'start', at: 0 };
  return (raw) => {
    const line = raw.trim();
    for (const p of PHASES) {
      if (p.pattern.test(line)) {
        current = { phase: p.phase, at: p.at };
        return { phase: 'synthesize', fraction: p.at, message: line, data: { kind: 'ai8xize', step: p.phase } satisfies Data };
      }
    }
    // Rows of the checkpoint table name each weight tensor: one row per parameter layer.
    if (current.phase === 'read-checkpoint' && /\S+\.weight\b/.test(line) && /^\d+\s+\d+\s/.test(line)) {
      layers++;
      return { phase: 'synthesize', fraction: 0.15, message: `checkpoint layer ${layers}`, data: { kind: 'ai8xize', step: 'read-checkpoint', layers } satisfies Data };
    }
    const total = line.match(/^TOTAL: (\d+) parameter layers/);
    if (total) return { phase: 'synthesize', fraction: 0.25, message: line, data: { kind: 'ai8xize', step: 'read-checkpoint', layers: Number(total[1]) } satisfies Data };
    const pct = line.match(/(\d{1,3})%/);
    const span = SPAN[current.phase];
    if (pct && span !== undefined) {
      const f = Math.min(1, Number(pct[1]) / 100);
      return { phase: 'synthesize', fraction: Math.min(0.99, current.at + f * span), message: `${current.phase} ${pct[1]}%`, data: { kind: 'ai8xize', step: current.phase } satisfies Data };
    }
    return undefined;
  };
}

export interface IzerResources {
  /** "Weight memory: N bytes out of M bytes total". */
  weightBytes: number;
  weightCapacity: number;
  /** "Bias memory: N bytes out of M bytes total". */
  biasBytes: number;
  biasCapacity: number;
}

/** The RESOURCE USAGE block ai8xize.py prints at the end of a run; undefined when it is absent. */
export function parseIzerResources(lines: readonly string[]): IzerResources | undefined {
  const find = (what: string): [number, number] | undefined => {
    const re = new RegExp(`^\\s*${what} memory:\\s*([\\d,]+) bytes out of ([\\d,]+) bytes`, 'i');
    for (const line of lines) {
      const m = re.exec(line.replace(/\x1b\[[0-9;]*m/g, ''));
      if (m) return [Number(m[1]!.replace(/,/g, '')), Number(m[2]!.replace(/,/g, ''))];
    }
    return undefined;
  };
  const w = find('Weight');
  const b = find('Bias');
  if (!w || !b) return undefined;
  return { weightBytes: w[0], weightCapacity: w[1], biasBytes: b[0], biasCapacity: b[1] };
}
