// Pre-QAT BatchNorm of ai8x Fused*BN* layers (max78002.md §1.13): batch statistics in training,
// running statistics (momentum 0.05, unbiased variance) in evaluation, eps 1e-5, output / 4.
// The running statistics start as the plain average of the batches seen (momentum 1/(n+1)) until
// that is smaller than 0.05: with momentum 0.05 from the start, a float phase of a few dozen
// batches leaves them near their initial 0 / 1, and evaluation (and the fold at the QAT start)
// uses statistics the data never had — chance-level accuracy after a short float phase.
import * as tf from '@tensorflow/tfjs';

export const BN_EPS = 1e-5;
export const BN_MOMENTUM = 0.05;
/** Batches after which the running average has become the ai8x exponential one. */
export const BN_SETTLED = Math.round(1 / BN_MOMENTUM);

export interface BatchNormVars {
  gamma: tf.Variable;
  beta: tf.Variable;
  runningMean: tf.Variable;
  runningVar: tf.Variable;
  /** Batches folded into the running statistics so far ([1]; torch's num_batches_tracked). */
  tracked: tf.Variable;
}

export interface BatchStats {
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
  count: number;
}

/** Applies BN/4 over the channel axis; in training returns the batch statistics (kept, caller disposes). */
export function batchNorm(y: tf.Tensor4D, bn: BatchNormVars, training: boolean): { out: tf.Tensor4D; stats?: BatchStats } {
  if (!training) {
    const scale = tf.div(bn.gamma, tf.mul(tf.sqrt(tf.add(bn.runningVar, BN_EPS)), 4));
    const shift = tf.sub(tf.div(bn.beta, 4), tf.mul(bn.runningMean, scale));
    return { out: tf.add(tf.mul(y, scale), shift) };
  }
  const { mean, variance } = tf.moments(y, [0, 1, 2]);
  const out = tf.add(tf.mul(tf.mul(tf.sub(y, mean), tf.rsqrt(tf.add(variance, BN_EPS))), tf.div(bn.gamma, 4)), tf.div(bn.beta, 4));
  const count = y.shape[0] * y.shape[1] * y.shape[2];
  return {
    out: out as tf.Tensor4D,
    stats: { mean: tf.keep(mean) as tf.Tensor1D, variance: tf.keep(variance) as tf.Tensor1D, count },
  };
}

/** Momentum for the (n+1)-th batch: the plain average first, then the ai8x 0.05. */
export function runningMomentum(tracked: number): number {
  return Math.max(BN_MOMENTUM, 1 / (tracked + 1));
}

/** running = (1 − m)·running + m·batch, with the unbiased batch variance (torch semantics). */
export function updateRunningStats(bn: BatchNormVars, stats: BatchStats): void {
  const n = bn.tracked.dataSync()[0]!;
  const m = runningMomentum(n);
  tf.tidy(() => {
    const unbiased = tf.mul(stats.variance, stats.count / Math.max(stats.count - 1, 1));
    bn.runningMean.assign(tf.add(tf.mul(bn.runningMean, 1 - m), tf.mul(stats.mean, m)));
    bn.runningVar.assign(tf.add(tf.mul(bn.runningVar, 1 - m), tf.mul(unbiased, m)));
    bn.tracked.assign(tf.tensor1d([n + 1]));
  });
  stats.mean.dispose();
  stats.variance.dispose();
}
