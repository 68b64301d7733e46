// What every IR op file provides: its attribute rules (validate), shape inference and weight count.
// One op per file (ops/<op>.ts); ops/registry.ts maps each OpKind to one. Pure: no Node, no tfjs.
import type { DataShape, Device, Diagnostic, Layer } from '../graph.ts';

/** Facts about where a layer sits, needed by rules that depend on the device or position. */
export interface OpContext {
  device: Device;
  /** Layer index in the model. */
  index: number;
  isFirst: boolean;
  isLast: boolean;
}

export interface OpSpec {
  /** Does the op carry weights (and so a checkpoint `*.weight` tensor). */
  hasWeights: boolean;
  /** Stand-alone element-wise op: combines several equal-shape operands instead of concatenating them. */
  elementwise: boolean;
  /** Can a float BatchNorm follow the op (folded into it for QAT)? ai8x has it after convolutions only. */
  batchNorm: boolean;
  /** Shape after the op, given the (combined, pooled) input shape; null if the shape is impossible. */
  inferShape(layer: Layer, pooled: DataShape): DataShape | null;
  /** Number of weight elements (0 for weightless ops). */
  weightCount(layer: Layer, pooled: DataShape): number;
  /** Rule violations of the op's own attributes, in plain words. */
  validate(layer: Layer, pooled: DataShape, ctx: OpContext): Diagnostic[];
}

/** Builds an error diagnostic for layer `ctx.index`. */
export function layerError(ctx: OpContext, layer: Layer, rule: string, message: string, fix?: string): Diagnostic {
  return {
    severity: 'error',
    rule,
    layer: ctx.index,
    layerName: layer.name,
    message: `Layer ${ctx.index} (${layer.name}): ${message}`,
    ...(fix ? { fix } : {}),
  };
}

export function layerWarning(ctx: OpContext, layer: Layer, rule: string, message: string, fix?: string): Diagnostic {
  return { ...layerError(ctx, layer, rule, message, fix), severity: 'warning' };
}

/** Pad 0..2 (all convolutions). */
export function checkPad(layer: Layer, ctx: OpContext): Diagnostic[] {
  if (Number.isInteger(layer.pad) && layer.pad >= 0 && layer.pad <= 2) return [];
  return [layerError(ctx, layer, 'pad-range', `padding ${layer.pad} is not supported; the accelerator pads 0, 1 or 2.`,
    'Set pad to 0, 1 or 2 (and the same padding in the PyTorch module).')];
}

/** Shape rule and weight count of an op that keeps its (pooled, combined) input's shape and has no weights. */
export const weightlessSameShape: Pick<OpSpec, 'inferShape' | 'weightCount'> = {
  inferShape: (_layer, pooled) => ({ channels: pooled.channels, dims: [...pooled.dims] }),
  weightCount: () => 0,
};

export function spatialSize(shape: DataShape): number {
  return shape.dims.reduce((a, b) => a * b, 1);
}
