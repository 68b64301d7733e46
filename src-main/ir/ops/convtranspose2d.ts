// ConvTranspose2d: 3x3 kernel, stride 2, pad 0..2, output_padding 1 (fixed by the hardware).
// Weights [in][out][kh][kw] (PyTorch layout). Output H' = (H − 1)·2 − 2·pad + 3 + 1, likewise W.
import type { DataShape, Diagnostic, Layer } from '../graph.ts';
import { checkPad, layerError, type OpContext, type OpSpec } from './op-spec.ts';

/** Output padding the hardware applies (max78002.md §6). */
export const CONVTRANSPOSE_OUTPUT_PADDING = 1;

export const convtranspose2d: OpSpec = {
  hasWeights: true, elementwise: false, batchNorm: true,
  inferShape(layer, pooled) {
    if (pooled.dims.length !== 2) return null;
    const s = layer.stride;
    const dims = pooled.dims.map((n, i) => (n - 1) * s - 2 * layer.pad + (layer.kernel[i]! - 1) + CONVTRANSPOSE_OUTPUT_PADDING + 1);
    return dims.every((n) => n > 0) ? { channels: layer.outChannels, dims } : null;
  },
  weightCount: (layer) => layer.outChannels * layer.inChannels * layer.kernel[0] * layer.kernel[1],
  validate(layer: Layer, pooled: DataShape, ctx: OpContext): Diagnostic[] {
    const out: Diagnostic[] = [];
    if (layer.kernel[0] !== 3 || layer.kernel[1] !== 3)
      out.push(layerError(ctx, layer, 'convtranspose2d-kernel', `ConvTranspose2d kernel ${layer.kernel[0]}x${layer.kernel[1]} is not supported; only 3x3.`,
        'Use a 3x3 kernel.'));
    if (layer.stride !== 2)
      out.push(layerError(ctx, layer, 'convtranspose2d-stride', `ConvTranspose2d stride ${layer.stride} is not supported; it must be 2.`,
        'Use stride 2 (with output_padding 1).'));
    out.push(...checkPad(layer, ctx));
    if (pooled.dims.length !== 2)
      out.push(layerError(ctx, layer, 'convtranspose2d-dims', 'ConvTranspose2d needs 2-D data.', 'Feed it 2-D data.'));
    return out;
  },
};
