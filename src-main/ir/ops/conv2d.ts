// Conv2d: 1x1 or 3x3 kernel, zero padding 0..2, stride 1, dilation 1 (the MAX78002 hardware could
// dilate, but ai8x-synthesis allows `dilation` > 1 for Conv1d only, so a Conv2d could not be deployed).
// Attributes: kernel [kh, kw], pad, stride, dilation; weights [out][in][kh][kw].
// Output H' = H + 2·pad − dilation·(kh − 1), likewise W.
import type { DataShape, Diagnostic, Layer } from '../graph.ts';
import { checkPad, layerError, type OpContext, type OpSpec } from './op-spec.ts';

export const conv2d: OpSpec = {
  hasWeights: true, elementwise: false, batchNorm: true,
  inferShape(layer, pooled) {
    if (pooled.dims.length !== 2) return null;
    const d = layer.dilation ?? 1;
    const [h, w] = pooled.dims as [number, number];
    const oh = h + 2 * layer.pad - d * (layer.kernel[0] - 1);
    const ow = w + 2 * layer.pad - d * (layer.kernel[1] - 1);
    return oh > 0 && ow > 0 ? { channels: layer.outChannels, dims: [oh, ow] } : null;
  },
  weightCount: (layer) => layer.outChannels * layer.inChannels * layer.kernel[0] * layer.kernel[1],
  validate(layer: Layer, pooled: DataShape, ctx: OpContext): Diagnostic[] {
    const out: Diagnostic[] = [];
    const [kh, kw] = layer.kernel;
    if (!((kh === 1 && kw === 1) || (kh === 3 && kw === 3)))
      out.push(layerError(ctx, layer, 'conv2d-kernel', `Conv2d kernel ${kh}x${kw} is not supported; only 1x1 and 3x3.`,
        'Use a 1x1 or 3x3 kernel (stack 3x3 layers for a larger receptive field).'));
    out.push(...checkPad(layer, ctx));
    if (layer.stride !== 1)
      out.push(layerError(ctx, layer, 'conv-stride', `Conv2d stride ${layer.stride} is not supported; stride must be 1.`,
        'Use stride 1 and downsample with pooling (pool_stride) instead.'));
    const d = layer.dilation ?? 1;
    if (d !== 1)
      out.push(layerError(ctx, layer, 'conv2d-dilation', `Conv2d dilation ${d} is not supported (ai8x-synthesis dilates Conv1d only).`,
        'Use dilation 1 (stack 3x3 layers or pool for a wider view), or Conv1d on 1-D data.'));
    if (pooled.dims.length !== 2)
      out.push(layerError(ctx, layer, 'conv2d-dims', `Conv2d needs 2-D data but gets ${pooled.dims.length}-D data.`,
        'Use Conv1d for 1-D data, or set in_dim to reshape the data.'));
    return out;
  },
};
