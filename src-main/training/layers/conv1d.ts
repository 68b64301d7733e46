// Conv1d as a 2-D convolution on [N, 1, L, C] NHWC data with a [1, k] kernel (training-speed.md:
// the [N,1,L,C] and [N,L,1,C] layouts are equally fast); PyTorch weight [out][in][k] ↔ [1,k,in,out].
import * as tf from '@tensorflow/tfjs';
import { conv2d } from './conv2d.ts';

export function conv1d(
  x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D | null, k: number, pad: number, isFirst: boolean,
): tf.Tensor4D {
  return conv2d(x, w, b, { kernel: [1, k], pads: [0, 0, pad, pad], isFirst });
}
