// Pre-QAT BatchNorm of ai8x Fused*BN* layers (max78002.md §1.13): batch statistics in training,
// running statistics (momentum 0.05, unbiased variance) in evaluation, eps 1e-5, output / 4.
import * as tf from '@tensorflow/tfjs';

export const BN_EPS = 1e-5;
export const BN_MOMENTUM = 0.05;

export interface BatchNormVars {
  gamma: tf.Variable;
  beta: tf.Variable;
  runningMean: tf.Variable;
  runningVar: tf.Variable;
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

/** running = (1 − m)·running + m·batch, with the unbiased batch variance (torch semantics). */
export function updateRunningStats(bn: BatchNormVars, stats: BatchStats): void {
  tf.tidy(() => {
    const unbiased = tf.mul(stats.variance, stats.count / Math.max(stats.count - 1, 1));
    bn.runningMean.assign(tf.add(tf.mul(bn.runningMean, 1 - BN_MOMENTUM), tf.mul(stats.mean, BN_MOMENTUM)));
    bn.runningVar.assign(tf.add(tf.mul(bn.runningVar, 1 - BN_MOMENTUM), tf.mul(unbiased, BN_MOMENTUM)));
  });
  stats.mean.dispose();
  stats.variance.dispose();
}
