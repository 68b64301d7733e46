// The izer-ready quantized checkpoint (max78002.md §2): what ai8x-synthesis' quantize.py would
// have written after QAT, made directly from an IR model whose layers carry integer params. The
// izer matches state_dict weights to YAML layers by order, so keys follow model layer order, and
// within a layer the order the ai8x modules register them (as in the conformance checkpoints).
import type { Layer, Model } from '../ir/graph.ts';
import { FormatError } from './format-error.ts';
import type { NdArray } from './npy.ts';
import { writeTorchCheckpoint } from './torch-checkpoint.ts';
import { gridScale, intRange } from '../quant/fixed-point.ts';
import { opHasWeights } from '../ir/ops/registry.ts';
import { IZER_OPS } from './izer-ops.ts';

export interface IzerCheckpointOptions {
  epoch?: number;
  /** Added to `extras` (clipping_method is always MAX_BIT_SHIFT, the QAT path). */
  extras?: Record<string, number | string | boolean>;
  /** File name for error messages. */
  file?: string;
}

const f32 = (shape: number[], values: ArrayLike<number>): NdArray => ({ dtype: 'float32', shape, data: Float32Array.from(values) });

export function writeIzerCheckpoint(model: Model, opts: IzerCheckpointOptions = {}): Uint8Array {
  const file = opts.file ?? 'checkpoint.pth.tar';
  const sd = new Map<string, NdArray>();
  for (const layer of model.layers) {
    if (!opHasWeights(layer.op)) continue;
    const L = layer.name;
    const p = layer.params;
    if (!p) throw new FormatError(file, `${L}.op.weight`, 'integer parameters on every layer with weights (train, quantize or import first)', 'none');
    const b = layer.weightBits;
    const shape = weightShape(layer, p.weights.length, file);
    sd.set(`${L}.output_shift`, f32([1], [layer.outputShift]));
    sd.set(`${L}.weight_bits`, f32([1], [b]));
    sd.set(`${L}.bias_bits`, f32([1], [b]));
    sd.set(`${L}.quantize_activation`, f32([1], [1]));
    sd.set(`${L}.adjust_output_shift`, f32([1], [0]));
    sd.set(`${L}.shift_quantile`, f32([1], [1]));
    const { lo, hi } = intRange(b);
    for (let k = 0; k < p.weights.length; k++) {
      const w = p.weights[k]!;
      if (w < lo || w > hi) throw new FormatError(file, `${L}.op.weight[${k}]`, `a ${b}-bit weight in [${lo}, ${hi}]`, `${w}`);
    }
    sd.set(`${L}.op.weight`, f32(shape, p.weights));
    if (layer.hasBias) {
      if (!p.bias || p.bias.length !== layer.outChannels) {
        throw new FormatError(file, `${L}.op.bias`, `${layer.outChannels} bias values (hasBias)`, p.bias ? `${p.bias.length}` : 'none');
      }
      // The izer stores floor(bias_ckpt / 2^(b-1)); writing β·2^(b-1) makes that exactly β.
      const scale = gridScale(b);
      sd.set(`${L}.op.bias`, f32([layer.outChannels], Array.from(p.bias, (beta) => beta * scale)));
    }
  }
  return writeTorchCheckpoint({
    epoch: opts.epoch ?? 0,
    arch: model.arch,
    state_dict: sd,
    extras: { ...opts.extras, clipping_method: 'MAX_BIT_SHIFT' },
  });
}

/** PyTorch weight layout of the layer's op (izer-ops.ts). */
function weightShape(layer: Layer, n: number, file: string): number[] {
  const layout = IZER_OPS[layer.op].weights;
  if (!layout) throw new FormatError(file, `${layer.name}.op`, 'a layer with weights', layer.op);
  const shape = layout.shape(layer, n);
  const want = shape.reduce((a, d) => a * d, 1);
  if (want !== n || !shape.every(Number.isInteger)) {
    throw new FormatError(file, `${layer.name}.op.weight`, `${layer.op} weights of shape (${shape.join(', ')})`, `${n} values`);
  }
  return shape;
}
