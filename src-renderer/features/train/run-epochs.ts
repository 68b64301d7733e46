// The Train step counts a run's epochs from 1 (the hint, the progress, the charts, the run list),
// while the network's bit schedule stores QAT epochs from 0 (model.json fromQatEpoch). These turn
// one into the other so that the screen shows a single numbering.
import type { BitsStep } from '@ir/graph.ts';
import type { BitsProblem } from '@ir/bits-policy.ts';

/** The run epoch (from 1) a QAT epoch (from 0) is, after `floatEpochs` float epochs. */
export const runEpochOf = (qatEpoch: number, floatEpochs: number): number => floatEpochs + qatEpoch + 1;
/** The QAT epoch (from 0) of a run epoch (from 1). */
export const qatEpochOf = (runEpoch: number, floatEpochs: number): number => runEpoch - floatEpochs - 1;

/**
 * A schedule problem in the run's epochs: the IR's words for a step's first epoch are in QAT epochs
 * (model.json's numbering), which would contradict the run epochs shown beside them.
 */
export function problemInRunEpochs(p: BitsProblem, steps: readonly BitsStep[], floatEpochs: number, qatEpochs: number): string {
  const m = /^(?:layers\.\d+\.)?bitsSchedule\.(\d+)\.fromQatEpoch$/.exec(p.field);
  if (!m) return p.message;
  const i = Number(m[1]);
  const s = steps[i]!;
  const first = runEpochOf(0, floatEpochs);
  const last = floatEpochs + qatEpochs;
  if (!Number.isInteger(s.fromQatEpoch) || s.fromQatEpoch < 0 || s.fromQatEpoch >= qatEpochs) {
    return qatEpochs > 0
      ? `${s.bits}-bit from epoch ${Number.isFinite(s.fromQatEpoch) ? runEpochOf(s.fromQatEpoch, floatEpochs) : '?'}, but QAT runs epochs ${first}–${last}`
      : `${s.bits}-bit needs QAT epochs, and this run has none`;
  }
  if (i === 0) return `the first width starts at the QAT start (epoch ${first})`;
  return `epochs must increase (${runEpochOf(steps[i - 1]!.fromQatEpoch, floatEpochs)}, then ${runEpochOf(s.fromQatEpoch, floatEpochs)})`;
}
