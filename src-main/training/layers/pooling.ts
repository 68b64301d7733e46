// In-flight pooling before a layer's op (NHWC, floor mode, no padding). For non-overlapping windows
// the gradients avoid the slow wasm MaxPoolGrad/AvgPoolGrad loops: avg pool spreads dy/(ph·pw) by
// broadcasting; max pool routes dy through the mask 1 − step(max − x) built by broadcasting. That
// mask gives every tied maximum the gradient, where tfjs and PyTorch give it to the first one in
// the window; float activations tie only where the activation mask of the layer before is zero
// anyway, but QAT activations lie on a 1/128 grid and tie often. For data on a grid the values are
// made distinct first: x·grid·taps + (taps − 1 − position in the window) is an exact integer whose
// maximum is the first maximum. Overlapping windows use the stock ops.
import * as tf from '@tensorflow/tfjs';
import { customGrad } from './custom-grad.ts';
import type { PoolKind } from '../../ir/graph.ts';

export interface PoolSpec {
  kind: PoolKind;
  /** Window [ph, pw] in NHWC terms (1-D data: [1, L]). */
  size: [number, number];
  stride: [number, number];
}

export interface PoolOptions {
  /** The data are multiples of 1/grid with |x·grid| ≤ 2^15 (QAT activations): ties go to the first maximum. */
  grid?: number;
}

export function pool(x: tf.Tensor4D, spec: PoolSpec, options: PoolOptions = {}): tf.Tensor4D {
  const [ph, pw] = spec.size;
  const [sh, sw] = spec.stride;
  if (ph === 1 && pw === 1 && sh === 1 && sw === 1) return x;
  if (ph !== sh || pw !== sw) {
    return spec.kind === 'max'
      ? tf.maxPool(x, [ph, pw], [sh, sw], 'valid')
      : tf.avgPool(x, [ph, pw], [sh, sw], 'valid');
  }
  const [n, h, w, c] = x.shape;
  const ho = Math.floor(h / ph);
  const wo = Math.floor(w / pw);
  // Floor mode drops the ragged edge; crop it so the window grid tiles the input exactly.
  const cropped = ho * ph === h && wo * pw === w ? x : tf.slice(x, [0, 0, 0, 0], [n, ho * ph, wo * pw, c]);
  const split = [n, ho, ph, wo, pw, c];
  const small = [n, ho, 1, wo, 1, c];
  const f = customGrad((xx: tf.Tensor, save: tf.GradSaveFunc) => {
    const y = spec.kind === 'max'
      ? tf.maxPool(xx as tf.Tensor4D, [ph, pw], [sh, sw], 'valid')
      : tf.avgPool(xx as tf.Tensor4D, [ph, pw], [sh, sw], 'valid');
    save(spec.kind === 'max' ? [xx, y] : []);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const dy6 = tf.reshape(dy, small);
        if (spec.kind === 'avg') {
          const spread = tf.fill([1, 1, ph, 1, pw, 1], 1 / (ph * pw));
          return [tf.reshape(tf.mul(dy6, spread), xx.shape)];
        }
        let x6 = tf.reshape(saved[0]!, split);
        let y6 = tf.reshape(saved[1]!, small);
        if (options.grid) {
          const taps = ph * pw;
          x6 = tf.add(tf.mul(x6, options.grid * taps), firstWins(ph, pw));
          y6 = tf.reshape(tf.maxPool(tf.reshape(x6, cropped.shape) as tf.Tensor4D, [ph, pw], [sh, sw], 'valid'), small);
        }
        const mask = tf.sub(1, tf.step(tf.sub(y6, x6)));
        return [tf.reshape(tf.mul(mask, dy6), xx.shape)];
      },
    };
  });
  return f(cropped) as tf.Tensor4D;
}

/** [1, 1, ph, 1, pw, 1]: taps − 1 − (row-major position in the window), so earlier positions win ties. */
function firstWins(ph: number, pw: number): tf.Tensor {
  const taps = ph * pw;
  return tf.tensor(Float32Array.from({ length: taps }, (_, k) => taps - 1 - k), [1, 1, ph, 1, pw, 1]);
}
