// In-flight pooling before a layer's op (NHWC, floor mode, no padding). For non-overlapping windows
// the gradients avoid the slow wasm MaxPoolGrad/AvgPoolGrad loops: max pool routes dy through the
// mask 1 − step(max − x) built by broadcasting (exact for distinct values; tied maxima each get dy),
// avg pool spreads dy/(ph·pw) by broadcasting. Overlapping windows use the stock ops.
import * as tf from '@tensorflow/tfjs';
import { customGrad } from './custom-grad.ts';
import type { PoolKind } from '../../ir/graph.ts';

export interface PoolSpec {
  kind: PoolKind;
  /** Window [ph, pw] in NHWC terms (1-D data: [1, L]). */
  size: [number, number];
  stride: [number, number];
}

export function pool(x: tf.Tensor4D, spec: PoolSpec): tf.Tensor4D {
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
        const x6 = tf.reshape(saved[0]!, split);
        const y6 = tf.reshape(saved[1]!, small);
        const mask = tf.sub(1, tf.step(tf.sub(y6, x6)));
        return [tf.reshape(tf.mul(mask, dy6), xx.shape)];
      },
    };
  });
  return f(cropped) as tf.Tensor4D;
}
