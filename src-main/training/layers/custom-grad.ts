// Typed wrapper over tf.customGrad: tfjs declares the callback with a fixed arity that does not
// fit per-op variants, so the ops here declare their own signature.
import * as tf from '@tensorflow/tfjs';

type GradResult = { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[] };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function customGrad(f: (...args: any[]) => GradResult): (...inputs: tf.Tensor[]) => tf.Tensor {
  return tf.customGrad(f as never) as unknown as (...inputs: tf.Tensor[]) => tf.Tensor;
}
