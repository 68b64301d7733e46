// Conv2d (stride 1, NHWC, zero padding per side) with a hand-written gradient that uses only
// XNNPACK-backed forward kernels on WASM (training-speed.md §4): dX by the flipped-kernel forward
// convolution, dW by the batch-as-channels transposed convolution (or, for Cin ≤ 4, by im2col from
// a one-hot depthwise convolution and one matMul), bias gradient by a matMul with ones.
import * as tf from '@tensorflow/tfjs';
import { customGrad } from './custom-grad.ts';

/** Zero padding [top, bottom, left, right]. */
export type Pads = [number, number, number, number];

export interface ConvSpec {
  kernel: [number, number];
  pads: Pads;
  /** The input needs no gradient (network input): skip dX. */
  isFirst: boolean;
}

type Explicit = [[number, number], [number, number], [number, number], [number, number]];
export const explicit = (p: Pads): Explicit => [[0, 0], [p[0], p[1]], [p[2], p[3]], [0, 0]];

/** Forward y = conv(x, w) + b with the custom gradient; w is [kh, kw, Cin, Cout]. */
export function conv2d(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D | null, spec: ConvSpec): tf.Tensor4D {
  const forward = (xx: tf.Tensor4D, ww: tf.Tensor4D, bb: tf.Tensor1D | null): tf.Tensor4D => {
    const y = tf.conv2d(xx, ww, 1, explicit(spec.pads));
    return bb ? tf.add(y, bb) : y;
  };
  const grads = (dy: tf.Tensor4D, xx: tf.Tensor4D, ww: tf.Tensor4D) => ({
    dx: spec.isFirst ? null : convInputGrad(dy, ww, spec, xx.shape),
    dw: convFilterGrad(dy, xx, spec),
    db: b ? biasGrad(dy) : null,
  });
  if (spec.isFirst) {
    // x is a constant: keep it out of the custom-gradient inputs so no dX is computed.
    if (b) {
      const f = customGrad((ww: tf.Tensor, bb: tf.Tensor, save: tf.GradSaveFunc) => {
        save([ww]);
        return {
          value: forward(x, ww as tf.Tensor4D, bb as tf.Tensor1D),
          gradFunc: (dy: tf.Tensor) => {
            const g = grads(dy as tf.Tensor4D, x, ww as tf.Tensor4D);
            return [g.dw, g.db!];
          },
        };
      });
      return f(w, b) as tf.Tensor4D;
    }
    const f = customGrad((ww: tf.Tensor, save: tf.GradSaveFunc) => {
      save([ww]);
      return {
        value: forward(x, ww as tf.Tensor4D, null),
        gradFunc: (dy: tf.Tensor) => [grads(dy as tf.Tensor4D, x, ww as tf.Tensor4D).dw],
      };
    });
    return f(w) as tf.Tensor4D;
  }
  if (b) {
    const f = customGrad((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor, save: tf.GradSaveFunc) => {
      save([xx, ww]);
      return {
        value: forward(xx as tf.Tensor4D, ww as tf.Tensor4D, bb as tf.Tensor1D),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const g = grads(dy as tf.Tensor4D, saved[0] as tf.Tensor4D, saved[1] as tf.Tensor4D);
          return [g.dx!, g.dw, g.db!];
        },
      };
    });
    return f(x, w, b) as tf.Tensor4D;
  }
  const f = customGrad((xx: tf.Tensor, ww: tf.Tensor, save: tf.GradSaveFunc) => {
    save([xx, ww]);
    return {
      value: forward(xx as tf.Tensor4D, ww as tf.Tensor4D, null),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const g = grads(dy as tf.Tensor4D, saved[0] as tf.Tensor4D, saved[1] as tf.Tensor4D);
        return [g.dx!, g.dw];
      },
    };
  });
  return f(x, w) as tf.Tensor4D;
}

/** dX = conv(dy, flip(w) with in/out swapped), padded k−1−p per side; negative pads crop. */
export function convInputGrad(dy: tf.Tensor4D, w: tf.Tensor4D, spec: ConvSpec, xShape: number[]): tf.Tensor4D {
  const [kh, kw] = spec.kernel;
  const [pt, pb, pl, pr] = spec.pads;
  const flipped = tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
  const want: Pads = [kh - 1 - pt, kh - 1 - pb, kw - 1 - pl, kw - 1 - pr];
  const pads = want.map((p) => Math.max(p, 0)) as Pads;
  let dx = tf.conv2d(dy, flipped, 1, explicit(pads));
  if (want.some((p) => p < 0)) {
    const top = pads[0] - want[0];
    const left = pads[2] - want[2];
    dx = tf.slice(dx, [0, top, left, 0], [-1, xShape[1]!, xShape[2]!, -1]);
  }
  return dx;
}

/** dW [kh, kw, Cin, Cout]. */
export function convFilterGrad(dy: tf.Tensor4D, x: tf.Tensor4D, spec: ConvSpec): tf.Tensor4D {
  const [kh, kw] = spec.kernel;
  const cin = x.shape[3];
  const cout = dy.shape[3];
  if (cin <= 4) {
    // im2col: a depthwise conv with one-hot filters yields, per input channel, the kh·kw taps.
    const taps = kh * kw;
    const oneHot = tf.tidy(() =>
      tf.tile(tf.reshape(tf.eye(taps), [kh, kw, 1, taps]), [1, 1, cin, 1]),
    ) as tf.Tensor4D;
    const patches = tf.depthwiseConv2d(x, oneHot, 1, explicit(spec.pads));
    oneHot.dispose();
    const rows = dy.shape[0] * dy.shape[1] * dy.shape[2];
    // patchesᵀ·dy: the transpose (a plain loop on wasm) is of the Cin·taps-wide patches, not of dy,
    // and XNNPACK packs dy as the GEMM's weights (about 2× faster than dyᵀ·patches for Cin = 1).
    const pT = tf.transpose(tf.reshape(patches, [rows, cin * taps]));
    const g = tf.matMul(pT, tf.reshape(dy, [rows, cout])); // [Cin·taps, Cout], taps order (kh, kw)
    return tf.transpose(tf.reshape(g, [cin, kh, kw, cout]), [1, 2, 0, 3]) as tf.Tensor4D;
  }
  // Batch as channels: conv(xᵀ [Cin,H,W,N], dyᵀ [Ho,Wo,N,Cout]) = [Cin, kh, kw, Cout].
  const xT = tf.transpose(x, [3, 1, 2, 0]) as tf.Tensor4D;
  const dyT = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D;
  const g = tf.conv2d(xT, dyT, 1, explicit(spec.pads));
  return tf.transpose(g, [1, 2, 0, 3]) as tf.Tensor4D;
}

/**
 * Bias gradient as dyᵀ·ones (the wasm Sum over N,H,W transposes first and is slow). transposeA
 * here, because XNNPACK would pack the whole [rows, C] operand as weights in ones·dy.
 */
export function biasGrad(dy: tf.Tensor): tf.Tensor1D {
  const c = dy.shape[dy.shape.length - 1]!;
  const rows = dy.size / c;
  return tf.reshape(tf.matMul(tf.reshape(dy, [rows, c]), tf.ones([rows, 1]), true, false), [c]);
}
