// Stand-alone element-wise layers (add, sub, or, xor) over 2..16 operands of equal shape; the
// result is clipped to int8 with no shift. `operands` counts the inputs (YAML in_sequences).
import type { DataShape, Diagnostic, Layer } from '../graph.ts';
import { layerError, weightlessSameShape, type OpContext, type OpSpec } from './op-spec.ts';

export const eltwise: OpSpec = {
  hasWeights: false, elementwise: true, batchNorm: false,
  ...weightlessSameShape,
  validate(layer: Layer, _pooled: DataShape, ctx: OpContext): Diagnostic[] {
    const out: Diagnostic[] = [];
    const n = layer.operands ?? layer.inputs?.length ?? 1;
    if (n < 2 || n > 16)
      out.push(layerError(ctx, layer, 'eltwise-operands', `an element-wise layer needs 2 to 16 operands, not ${n}.`,
        'List 2 to 16 earlier layers in in_sequences.'));
    return out;
  },
};
