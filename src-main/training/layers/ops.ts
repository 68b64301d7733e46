// The training facet of the op table (docs/architecture.md): for each IR op, how the embedded engine
// trains it — the weight variable's shape and its PyTorch layout, the op alone on NHWC data, and
// the fused ai8x block where there is one. A Record over OpKind, so a new op kind does not compile
// until it has an entry here (test/op-table.test.ts); ops that cannot be trained yet have an entry
// that refuses with the reason.
import * as tf from '@tensorflow/tfjs';
import type { Layer, OpKind } from '../../ir/graph.ts';
import { conv2d, type ConvSpec } from './conv2d.ts';
import { convBlock, type BlockSpec } from './conv-block.ts';
import { linear } from './linear.ts';

/** NHWC shape without N: [H, W, C]; 1-D data is [1, L, C]. */
export type Hwc = [number, number, number];

export interface TrainingOp {
  /**
   * Shape of the weight variable for pooled data `pooled`: conv [kh, kw, in, out] (conv1d
   * [1, k, in, out]), linear [H·W·C, out]; [] for a weightless op. Throws for an op that is not
   * trainable yet.
   */
  weightShape(layer: Layer, pooled: Hwc): number[];
  /** For each element of the weight variable, its index in PyTorch layout. */
  torchIndex(layer: Layer, weightShape: number[], pooled: Hwc): Int32Array;
  /** The op alone on pooled data, weights already fake-quantized: op(x, w) + b before the activation. */
  apply(x: tf.Tensor4D, w: tf.Tensor | null, b: tf.Tensor | null, layer: Layer, isFirst: boolean): tf.Tensor;
  /** The whole layer (op, bias, output scale, activation, QAT quantizers) as one fused block. */
  block?(x: tf.Tensor4D, w: tf.Tensor, b: tf.Tensor | null, layer: Layer, spec: Omit<BlockSpec, keyof ConvSpec> & { isFirst: boolean }): tf.Tensor;
}

/** A conv layer's NHWC convolution: conv1d runs as a [1, k] conv2d on [N, 1, L, C] data. */
function convSpec(layer: Layer, isFirst: boolean): ConvSpec {
  const { kernel, pad } = layer;
  return layer.op === 'conv1d'
    ? { kernel: [1, kernel[0]], pads: [0, 0, pad, pad], isFirst }
    : { kernel, pads: [pad, pad, pad, pad], isFirst };
}

/** Conv variable [kh][kw][in][out] ↔ PyTorch [out][in][kh][kw] (conv1d [out][in][k]). */
function convTorchIndex(_layer: Layer, weightShape: number[]): Int32Array {
  const [kh, kw, cin, cout] = weightShape as [number, number, number, number];
  const perm = new Int32Array(kh * kw * cin * cout);
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      for (let ci = 0; ci < cin; ci++) {
        for (let co = 0; co < cout; co++) perm[((a * kw + b) * cin + ci) * cout + co] = ((co * cin + ci) * kh + a) * kw + b;
      }
    }
  }
  return perm;
}

const conv: TrainingOp = {
  weightShape: (layer) =>
    layer.op === 'conv1d'
      ? [1, layer.kernel[0], layer.inChannels, layer.outChannels]
      : [layer.kernel[0], layer.kernel[1], layer.inChannels, layer.outChannels],
  torchIndex: convTorchIndex,
  apply: (x, w, b, layer, isFirst) => conv2d(x, w as tf.Tensor4D, b as tf.Tensor1D | null, convSpec(layer, isFirst)),
  block: (x, w, b, layer, spec) => convBlock(x, w as tf.Tensor4D, b as tf.Tensor1D | null, { ...convSpec(layer, spec.isFirst), ...spec }),
};

const linearOp: TrainingOp = {
  weightShape: (layer, [h, w, c]) => [h * w * c, layer.outChannels],
  // Variable [h·w·c][out] (NHWC flatten) ↔ PyTorch [out][in] with channel-major (C, H, W) flatten.
  torchIndex(layer, _weightShape, [h, w, c]) {
    const hw = h * w;
    const o = layer.outChannels;
    const perm = new Int32Array(hw * c * o);
    for (let ci = 0; ci < c; ci++) {
      for (let s = 0; s < hw; s++) {
        for (let k = 0; k < o; k++) perm[(s * c + ci) * o + k] = k * c * hw + ci * hw + s;
      }
    }
    return perm;
  },
  apply: (x, w, b, _layer, isFirst) => linear(tf.reshape(x, [x.shape[0], -1]) as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D | null, isFirst),
};

/** A pooling-only layer (ai8x MaxPool/AvgPool module): the pooled data as is. */
const passthrough: TrainingOp = {
  weightShape: () => [],
  torchIndex: () => new Int32Array(0),
  apply: (x) => x,
};

function notTrainable(why: string): TrainingOp {
  const refuse = (layer: Layer): never => {
    throw new Error(`not trainable yet: ${layer.op} layer '${layer.name}', ${why}`);
  };
  return { weightShape: refuse, torchIndex: refuse, apply: (_x, _w, _b, layer) => refuse(layer) };
}

const elementwise = notTrainable('because element-wise layers combine several earlier layers and the engine trains sequential networks only');

export const TRAINING_OPS: Record<OpKind, TrainingOp> = {
  conv1d: conv,
  conv2d: conv,
  linear: linearOp,
  passthrough,
  convtranspose2d: notTrainable('because the engine has no stride-2 transposed convolution layer'),
  add: elementwise,
  sub: elementwise,
  or: elementwise,
  xor: elementwise,
};
