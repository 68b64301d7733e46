// The ai8x fused layer as one custom-gradient op (training-speed.md §5.3): conv (+ bias) → output
// scale → activation → (QAT) activation quantizer → clamp, with the weight and bias fake quantizers
// (clipped STE, max78002.md §1.8–§1.10) inside when QAT is on. The forward pass is one FusedConv2D
// kernel (bias and ReLU fused, output scale folded into the weights: a power of two, so exact) and
// a clamp; the backward pass takes the activation mask from the saved pre-clamp output and reuses
// the XNNPACK-friendly gradients of conv2d.ts. The same arithmetic as conv2d() + activate() and
// fakeQuantParam(), which stay for BatchNorm layers in the float phase and for range taps.
import * as tf from '@tensorflow/tfjs';
import { customGrad } from './custom-grad.ts';
import { biasGrad, convFilterGrad, convInputGrad, explicit, type ConvSpec } from './conv2d.ts';
import { inRange } from '../fake-quant.ts';
import { ACTIVATION, gridMax, gridScale, WIDE_OUTPUT } from '../../quant/fixed-point.ts';

export interface BlockSpec extends ConvSpec {
  activation: 'relu' | 'abs' | 'none';
  /** 32-bit output layer: no output shift, 2^−14 grid in QAT, clamp ±2^15. */
  wide: boolean;
  /** QAT: weight bits and output shift of the layer. */
  qat?: { bits: number; shift: number };
}

/** y = clamp(q(act(conv(x, w) + b)·outScale)) with the fused gradient; w is [kh, kw, Cin, Cout]. */
export function convBlock(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D | null, spec: BlockSpec): tf.Tensor4D {
  const { lo, hi, step } = spec.wide ? WIDE_OUTPUT : ACTIVATION;
  const qat = spec.qat;
  const outScale = qat && !spec.wide ? 2 ** qat.shift : 1;
  const weightScale = qat ? 2 ** -qat.shift : 1;
  const grid = qat ? gridScale(qat.bits) : 1;
  const wHi = qat ? gridMax(qat.bits) : 1;
  // Pre-clamp grid value of a parameter, and the parameter the convolution uses (scaled by outScale).
  const quantize = (v: tf.Tensor) => tf.div(tf.floor(tf.add(tf.mul(v, weightScale * grid), 0.5)), grid);
  const effective = (q: tf.Tensor) => {
    const c = tf.clipByValue(q, -1, wHi);
    return outScale === 1 ? c : tf.mul(c, outScale);
  };
  const f = customGrad((...args: unknown[]) => {
    const inputs = args.slice(0, -1) as tf.Tensor[];
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const xx = (spec.isFirst ? x : inputs.shift()) as tf.Tensor4D;
    const ww = inputs.shift() as tf.Tensor4D;
    const bb = (b ? inputs.shift() : null) as tf.Tensor1D | null;
    const qw = qat ? quantize(ww) : ww;
    const qb = qat && bb ? quantize(bb) : bb;
    const we = (qat ? effective(qw) : ww) as tf.Tensor4D;
    const be = (qat && qb ? effective(qb) : bb) as tf.Tensor1D | null;
    // QAT works on the activation grid's integers: the convolution takes weights and bias × step
    // (a power of two, so every partial sum is exact), and q = floor(a + 0.5) needs no scaling.
    const k = qat ? step : 1;
    const fused: tf.NamedTensorMap = { x: xx, filter: k === 1 ? we : tf.mul(we, k) };
    if (be) fused.bias = k === 1 ? be : tf.mul(be, k);
    const s = tf.engine().runKernel('FusedConv2D', fused, {
      strides: [1, 1], pad: explicit(spec.pads), dataFormat: 'NHWC', dilations: [1, 1],
      activation: spec.activation === 'relu' ? 'relu' : 'linear', leakyreluAlpha: 0,
    } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
    const a = spec.activation === 'abs' ? tf.abs(s) : s;
    const q = qat ? tf.floor(tf.add(a, 0.5)) : a;
    // s is kept for abs (its sign); for relu and none the pre-activation is not needed.
    save([spec.isFirst ? we : xx, we, spec.activation === 'abs' ? s : a, q, qw, qb ?? we]);
    return {
      value: k === 1 ? tf.clipByValue(q, lo, hi) : tf.mul(tf.clipByValue(q, lo * k, hi * k), 1 / k),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, swe, sa, sq, sqw, sqb] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        const xIn = spec.isFirst ? x : sx;
        let mask: tf.Tensor;
        if (spec.activation === 'relu') {
          // [a > 0]·[q ≤ hi] as one step: a·(above − q) > 0, with `above` the least value over hi
          // that q can take apart from hi (q is an integer in QAT); a ≥ 0 after the ReLU.
          const above = qat ? hi * k + 0.5 : nextUp(hi);
          mask = tf.step(tf.mul(sa, tf.sub(above, sq)));
        } else {
          mask = inRange(sq, lo * k, hi * k);
          if (spec.activation === 'abs') mask = tf.mul(mask, tf.sign(sa));
        }
        const g = tf.mul(dy, mask) as tf.Tensor4D;
        const out: tf.Tensor[] = [];
        if (!spec.isFirst) out.push(convInputGrad(g, swe, spec, xIn.shape));
        // d/dw of clamp(q(w))·outScale: the STE passes dWeff·outScale·weightScale inside the clamp.
        const ste = (d: tf.Tensor, qv: tf.Tensor) => (qat ? tf.mul(d, tf.mul(inRange(qv, -1, wHi), outScale * weightScale)) : d);
        out.push(ste(convFilterGrad(g, xIn, spec), sqw));
        if (b) out.push(ste(biasGrad(g), sqb));
        return out;
      },
    };
  });
  const inputs: tf.Tensor[] = spec.isFirst ? [w] : [x, w];
  if (b) inputs.push(b);
  return f(...inputs) as tf.Tensor4D;
}

/** The next float32 above v (v > 0): v ≤ hi ⟺ v < nextUp(hi) for every float32 v. */
function nextUp(v: number): number {
  const f = new Float32Array([v]);
  new Int32Array(f.buffer)[0]! += 1;
  return f[0]!;
}
