// Linear layer on flattened NHWC data: y = x·W + b with W [in, out]. Gradients use explicit
// transposes because wasm BatchMatMul with transpose flags takes a slow loop (training-speed.md §4.2).
import * as tf from '@tensorflow/tfjs';
import { customGrad } from './custom-grad.ts';
import { biasGrad } from './conv2d.ts';

export function linear(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D | null, isFirst: boolean): tf.Tensor2D {
  const f = customGrad((...args: unknown[]) => {
    const tensors = args.slice(0, -1) as tf.Tensor[];
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const xx = isFirst ? x : (tensors[0] as tf.Tensor2D);
    const ww = tensors[isFirst ? 0 : 1] as tf.Tensor2D;
    const bb = b ? (tensors[isFirst ? 1 : 2] as tf.Tensor1D) : null;
    save(isFirst ? [ww] : [xx, ww]);
    const y = tf.matMul(xx, ww);
    return {
      value: bb ? tf.add(y, bb) : y,
      gradFunc: (dy: tf.Tensor) => {
        const dw = tf.matMul(tf.transpose(xx), dy as tf.Tensor2D);
        const out: tf.Tensor[] = [];
        if (!isFirst) out.push(tf.matMul(dy as tf.Tensor2D, tf.transpose(ww)));
        out.push(dw);
        if (bb) out.push(biasGrad(dy));
        return out;
      },
    };
  });
  const inputs: tf.Tensor[] = isFirst ? [w] : [x, w];
  if (b) inputs.push(b);
  return (f as unknown as (...t: tf.Tensor[]) => tf.Tensor2D)(...inputs);
}
