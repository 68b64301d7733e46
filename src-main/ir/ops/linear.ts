// Linear (YAML Linear/FC/MLP): a 1x1 convolution on 1x1 data. With `flatten`, C×H×W (or C×L) is
// flattened channel-major to C·H·W features first; limits: H·W ≤ 256, C·H·W ≤ 16,384, no pooling in
// the same layer. Weights [out][features]; inChannels is C before flattening. Output: out×1×1.
import type { DataShape, Diagnostic, Layer } from '../graph.ts';
import { layerError, spatialSize, type OpContext, type OpSpec } from './op-spec.ts';

export const MAX_FLATTEN_POSITIONS = 256;
export const MAX_FLATTEN_FEATURES = 16_384;

export const linear: OpSpec = {
  hasWeights: true, elementwise: false, batchNorm: false,
  inferShape(layer, pooled) {
    if (!layer.flatten && spatialSize(pooled) !== 1) return null;
    return { channels: layer.outChannels, dims: [1, 1] };
  },
  weightCount: (layer, pooled) => layer.outChannels * layer.inChannels * (layer.flatten ? spatialSize(pooled) : 1),
  validate(layer: Layer, pooled: DataShape, ctx: OpContext): Diagnostic[] {
    const out: Diagnostic[] = [];
    const positions = spatialSize(pooled);
    if (layer.kernel[0] !== 1 || layer.kernel[1] !== 1)
      out.push(layerError(ctx, layer, 'linear-kernel', `a Linear layer needs kernel_size 1x1, not ${layer.kernel[0]}x${layer.kernel[1]}.`,
        'Set kernel_size: 1x1 (or leave it out) for Linear/MLP layers.'));
    if (layer.flatten) {
      if (layer.pool)
        out.push(layerError(ctx, layer, 'flatten-pool', 'pooling cannot be combined with flatten in the same layer.',
          'Move the pooling into the previous convolution layer (or a passthrough layer) before the flatten.'));
      if (positions > MAX_FLATTEN_POSITIONS)
        out.push(layerError(ctx, layer, 'flatten-positions', `flatten of ${pooled.channels}x${pooled.dims.join('x')} has ${positions} positions per channel; at most ${MAX_FLATTEN_POSITIONS} are supported.`,
          `Pool the data down to ${MAX_FLATTEN_POSITIONS} or fewer positions (H·W or L) before the flatten.`));
      if (positions * layer.inChannels > MAX_FLATTEN_FEATURES)
        out.push(layerError(ctx, layer, 'flatten-features', `flatten gives ${positions * layer.inChannels} features; at most ${MAX_FLATTEN_FEATURES} are supported.`,
          'Reduce channels or positions before the flatten.'));
    } else if (positions !== 1) {
      out.push(layerError(ctx, layer, 'linear-needs-flatten', `a Linear layer gets ${pooled.channels}x${pooled.dims.join('x')} data without flatten.`,
        'Set flatten: true on the first Linear layer after the convolutions.'));
    }
    return out;
  },
};
