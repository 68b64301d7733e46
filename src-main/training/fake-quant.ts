// tfjs fake quantizers with a clipped straight-through estimator (max78002.md §1.8–§1.10): the
// forward pass rounds exactly like quant/fake-quant.ts; the backward pass lets the gradient
// through where the rounded value lies inside the clamp range (torch.clamp: bounds inclusive).
import * as tf from '@tensorflow/tfjs';
import { customGrad } from './layers/custom-grad.ts';
import { ACTIVATION, gridMax, gridScale as gridScaleOf, WIDE_OUTPUT } from '../quant/fixed-point.ts';

/** 1 where lo ≤ v ≤ hi, else 0 (step() is 1 only for v > 0). */
export function inRange(v: tf.Tensor, lo: number, hi: number): tf.Tensor {
  const aboveHi = tf.step(tf.sub(v, hi));
  if (!Number.isFinite(lo)) return tf.sub(1, aboveHi);
  const belowLo = tf.step(tf.sub(lo, v));
  return tf.sub(tf.sub(1, aboveHi), belowLo);
}

/** Weight/bias quantizer: clamp(q_bits(w·2^−shift)); dL/dw = dy·2^−shift inside the clamp. */
export function fakeQuantParam(w: tf.Tensor, bits: number, shift: number): tf.Tensor {
  const weightScale = 2 ** -shift;
  const gridScale = gridScaleOf(bits);
  const hi = gridMax(bits);
  const f = customGrad((x: tf.Tensor, save: tf.GradSaveFunc) => {
    const q = tf.div(tf.floor(tf.add(tf.mul(x, weightScale * gridScale), 0.5)), gridScale);
    save([q]);
    return {
      value: tf.clipByValue(q, -1, hi),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.mul(dy, tf.mul(inRange(saved[0]!, -1, hi), weightScale))],
    };
  });
  return f(w);
}

export interface ActivationSpec {
  activation: 'relu' | 'abs' | 'none';
  /** 32-bit output layer: no shift, rounding to 2^−14 in QAT, clamp ±2^15. */
  wide: boolean;
  /** QAT: quantize the activation (q8, or 2^−14 for wide). */
  quantize: boolean;
  /** Output scale 2^shift applied before the activation (1 before QAT and for wide layers). */
  outScale: number;
}

/**
 * y·outScale → activation → (QAT) quantize → clamp, with the gradient
 * dy·outScale·act'(y)·[q inside the clamp].
 */
export function activate(y: tf.Tensor, spec: ActivationSpec): tf.Tensor {
  const { lo, hi, step } = spec.wide ? WIDE_OUTPUT : ACTIVATION;
  const f = customGrad((x: tf.Tensor, save: tf.GradSaveFunc) => {
    const scaled = spec.outScale === 1 ? x : tf.mul(x, spec.outScale);
    const a = spec.activation === 'relu' ? tf.relu(scaled) : spec.activation === 'abs' ? tf.abs(scaled) : scaled;
    const q = spec.quantize ? tf.div(tf.floor(tf.add(tf.mul(a, step), 0.5)), step) : a;
    save([scaled, q]);
    return {
      value: tf.clipByValue(q, lo, hi),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [s, qq] = saved as [tf.Tensor, tf.Tensor];
        let mask = spec.activation === 'relu' ? tf.mul(tf.step(s), inRange(qq, -Infinity, hi)) : inRange(qq, lo, hi);
        if (spec.activation === 'abs') mask = tf.mul(mask, tf.sign(s));
        const g = tf.mul(dy, mask);
        return [spec.outScale === 1 ? g : tf.mul(g, spec.outScale)];
      },
    };
  });
  return f(y);
}

/**
 * Average-pool output in QAT (FloorQat: truncated toward zero at 1/128, as the accelerator computes a
 * negative mean; or, where avgPoolRounds, rounded half away from zero as the izer computes it), then clamp.
 */
export function quantizeAvgPool(x: tf.Tensor, rounding: boolean): tf.Tensor {
  const f = customGrad((v: tf.Tensor, save: tf.GradSaveFunc) => {
    const { step, lo, hi } = ACTIVATION;
    const scaled = tf.mul(v, step);
    // Rounding half away from zero (as the izer computes it), else truncation toward zero.
    const q = tf.div(tf.mul(tf.sign(scaled), tf.floor(rounding ? tf.add(tf.abs(scaled), 0.5) : tf.abs(scaled))), step);
    save([q]);
    return {
      value: tf.clipByValue(q, lo, hi),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.mul(dy, inRange(saved[0]!, lo, hi))],
    };
  });
  return f(x);
}
