// BatchNorm running statistics: the plain average of the first batches, then ai8x's momentum 0.05,
// so that a short float phase evaluates (and folds) with statistics the data really has.
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../backend.ts';
import { BN_MOMENTUM, BN_SETTLED, runningMomentum, updateRunningStats, type BatchNormVars } from './batch-norm.ts';
import { train } from '../trainer.ts';
import { ecgNet } from '../../ir/zoo.ts';
import { seededRng } from '../../data/random.ts';
import type { Dataset, Split } from '../../data/dataset.ts';

beforeAll(async () => {
  await initBackend();
});

function vars(c: number): BatchNormVars {
  return {
    gamma: tf.variable(tf.ones([c])), beta: tf.variable(tf.zeros([c])),
    runningMean: tf.variable(tf.zeros([c]), false), runningVar: tf.variable(tf.ones([c]), false),
    tracked: tf.variable(tf.tensor1d([0]), false),
  };
}

describe('BatchNorm running statistics', () => {
  it('momentum: 1, 1/2, 1/3 … down to 0.05 after 20 batches, then 0.05', () => {
    expect([0, 1, 2, 19, 20, 500].map(runningMomentum)).toEqual([1, 1 / 2, 1 / 3, 1 / 20, BN_MOMENTUM, BN_MOMENTUM]);
    expect(BN_SETTLED).toBe(20);
  });

  it('after n < 20 batches the running mean and variance are the averages of the batch statistics', () => {
    const bn = vars(2);
    const means = [[1, -2], [3, 0], [5, 4]];
    const variances = [[0.5, 1], [1.5, 2], [1, 3]];
    for (let k = 0; k < 3; k++) updateRunningStats(bn, { mean: tf.tensor1d(means[k]!), variance: tf.tensor1d(variances[k]!), count: 11 });
    expect(Array.from(bn.runningMean.dataSync())).toEqual([3, 2 / 3].map((v) => expect.closeTo(v, 5)));
    // unbiased: × 11/10
    expect(Array.from(bn.runningVar.dataSync())).toEqual([1 * 1.1, 2 * 1.1].map((v) => expect.closeTo(v, 5)));
    expect(bn.tracked.dataSync()[0]).toBe(3);
    Object.values(bn).forEach((v) => v.dispose());
  });

  it('a float phase of 6 batches with BatchNorm evaluates far above chance', async () => {
    const L = 64, classes = 3, count = 180;
    const rng = seededRng(3);
    const x = new Float32Array(count * L), y = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      y[i] = i % classes;
      for (let t = 0; t < L; t++) x[i * L + t] = Math.round((0.6 * Math.sin(((y[i]! + 1) * t) / 4) + 0.2 * (rng() - 0.5)) * 128) / 128;
    }
    const range = (a: number, b: number) => Int32Array.from({ length: b - a }, (_, i) => a + i);
    const dataset: Dataset = { name: 's', count, channels: 1, dims: [L], x, y, classNames: ['a', 'b', 'c'] };
    const split: Split = { train: range(0, 120), validation: range(120, count), test: range(0, 0) };
    const r = await train(ecgNet('MAX78002', L, classes), { dataset, split }, { epochs: 2, qatStartEpoch: 2, batchSize: 40, learningRate: 3e-3, batchNorm: true, seed: 2 });
    expect(r.history.map((h) => h.phase)).toEqual(['float', 'float']);
    expect(r.history[1]!.valAccuracy).toBeGreaterThan(0.6); // chance is 1/3
  }, 60_000);
});
