// The bit-schedule editor shows the schedule's epochs in the run's numbering (from 1, as the hint,
// the charts and the run list count them); the IR's problems about them must say the same numbers.
import { describe, expect, it } from 'vitest';
import type { BitsStep } from '../../../src-main/ir/graph.ts';
import { bitsPolicyProblems } from '../../../src-main/ir/bits-policy.ts';
import { problemInRunEpochs, qatEpochOf, runEpochOf } from './run-epochs.ts';

const words = (steps: BitsStep[], floatEpochs: number, qatEpochs: number) =>
  bitsPolicyProblems({ layers: [], bitsSchedule: steps }, qatEpochs)
    .filter((p) => p.field !== 'bitsSchedule')
    .map((p) => problemInRunEpochs(p, steps, floatEpochs, qatEpochs));

describe('run epochs of a bit schedule', () => {
  it('turns QAT epochs (from 0) into run epochs (from 1) and back', () => {
    // 6 float epochs: the QAT start is run epoch 7.
    expect(runEpochOf(0, 6)).toBe(7);
    expect(qatEpochOf(7, 6)).toBe(0);
    for (const q of [0, 3, 29]) expect(qatEpochOf(runEpochOf(q, 10), 10)).toBe(q);
  });

  it('says a step past the run end in run epochs', () => {
    // 6 float + 4 QAT epochs: QAT is run epochs 7–10; QAT epoch 4 would be run epoch 11.
    expect(words([{ fromQatEpoch: 0, bits: 8 }, { fromQatEpoch: 4, bits: 4 }], 6, 4)).toEqual(['4-bit from epoch 11, but QAT runs epochs 7–10']);
  });

  it('says steps out of order in run epochs', () => {
    expect(words([{ fromQatEpoch: 0, bits: 8 }, { fromQatEpoch: 2, bits: 4 }, { fromQatEpoch: 2, bits: 2 }], 6, 4)).toEqual(['epochs must increase (9, then 9)']);
  });

  it('keeps the IR words for problems that are not about epochs', () => {
    const steps: BitsStep[] = [{ fromQatEpoch: 0, bits: 8 }, { fromQatEpoch: 1, bits: 4, learningRate: -1 }];
    expect(words(steps, 6, 4)).toEqual(['expected a learning rate > 0, got -1']);
    expect(words([{ fromQatEpoch: 0, bits: 8 }, { fromQatEpoch: 2, bits: 4 }], 6, 4)).toEqual([]);
  });
});
