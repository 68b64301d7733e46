// Conv1d: kernel 1..9, zero padding 0..2, stride 1; MAX78002 needs pad 0 when > 64 input channels;
// dilation > 1 only for kernels ≤ 3. Attributes: kernel [k, 1], pad, stride, dilation;
// weights [out][in][k]. Output L' = L + 2·pad − dilation·(k − 1).
import type { DataShape, Diagnostic, Layer } from '../graph.ts';
import { checkPad, layerError, type OpContext, type OpSpec } from './op-spec.ts';

export const conv1d: OpSpec = {
  hasWeights: true, elementwise: false, batchNorm: true,
  inferShape(layer, pooled) {
    if (pooled.dims.length !== 1) return null;
    const d = layer.dilation ?? 1;
    const l = pooled.dims[0]! + 2 * layer.pad - d * (layer.kernel[0] - 1);
    return l > 0 ? { channels: layer.outChannels, dims: [l] } : null;
  },
  weightCount: (layer) => layer.outChannels * layer.inChannels * layer.kernel[0],
  validate(layer: Layer, pooled: DataShape, ctx: OpContext): Diagnostic[] {
    const out: Diagnostic[] = [];
    const [k, k2] = layer.kernel;
    if (!Number.isInteger(k) || k < 1 || k > 9 || k2 !== 1)
      out.push(layerError(ctx, layer, 'conv1d-kernel', `Conv1d kernel size ${k2 === 1 ? k : `${k}x${k2}`} is not supported; it must be 1 to 9.`,
        'Use a kernel size between 1 and 9.'));
    out.push(...checkPad(layer, ctx));
    if (layer.stride !== 1)
      out.push(layerError(ctx, layer, 'conv-stride', `Conv1d stride ${layer.stride} is not supported; stride must be 1.`,
        'Use stride 1 and downsample with pooling (pool_stride) instead.'));
    if (ctx.device === 'MAX78002' && layer.inChannels > 64 && layer.pad !== 0)
      out.push(layerError(ctx, layer, 'conv1d-pad-multipass', `on the MAX78002 a Conv1d with ${layer.inChannels} (> 64) input channels must use pad 0, not ${layer.pad}.`,
        'Set pad: 0 for this layer (and padding=0 in the model), or reduce the input channels to 64.'));
    const d = layer.dilation ?? 1;
    const maxDil = ctx.device === 'MAX78002' ? 2047 : 1023;
    if (d !== 1 && (k > 3 || d < 1 || d > maxDil))
      out.push(layerError(ctx, layer, 'conv1d-dilation', `Conv1d dilation ${d} is allowed only for kernels ≤ 3 and up to ${maxDil}.`,
        'Use dilation 1, or a kernel of 3 or less.'));
    if (pooled.dims.length !== 1)
      out.push(layerError(ctx, layer, 'conv1d-dims', `Conv1d needs 1-D data but gets ${pooled.dims.length}-D data.`,
        'Use Conv2d for 2-D data, or set in_dim to reshape the data.'));
    return out;
  },
};
