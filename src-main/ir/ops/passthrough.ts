// Passthrough (YAML `op: none`): copies the (optionally pooled) input, no weights, no arithmetic.
// Pooling a layer of more than 64 channels needs a fused convolution unless the pool is 1x1.
import type { DataShape, Diagnostic, Layer } from '../graph.ts';
import { layerError, weightlessSameShape, type OpContext, type OpSpec } from './op-spec.ts';

export const passthrough: OpSpec = {
  hasWeights: false, elementwise: false, batchNorm: false,
  ...weightlessSameShape,
  validate(layer: Layer, pooled: DataShape, ctx: OpContext): Diagnostic[] {
    const out: Diagnostic[] = [];
    const p = layer.pool;
    if (p && pooled.channels > 64 && (p.size[0] !== 1 || p.size[1] !== 1))
      out.push(layerError(ctx, layer, 'pool-needs-conv', `pooling ${pooled.channels} (> 64) channels without a convolution is not supported.`,
        'Fuse the pooling into the following convolution layer, or pool fewer than 65 channels.'));
    if (layer.activation !== 'none')
      out.push(layerError(ctx, layer, 'passthrough-activation', 'a passthrough layer cannot apply an activation.',
        'Set activate: None, or fuse the activation into a convolution.'));
    return out;
  },
};
