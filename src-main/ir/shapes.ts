// Shape inference over a model: for each layer, the combined input (element-wise operands or
// concatenation), the pooled input (pooling runs first, in flight) and the op's output.
import type { DataShape, Layer, Model, Pool } from './graph.ts';
import { isElementWise, opSpec } from './ops/registry.ts';

export interface LayerShapes {
  /** Sources of the layer's input: layer indices, -1 = network input. */
  sources: number[];
  /** Data as it sits in memory before the layer (one operand; concatenated channels). */
  input: DataShape;
  /** After pooling (and the element-wise combine). */
  pooled: DataShape;
  /** After the op; null when the shape is impossible (see `problem`). */
  output: DataShape | null;
  problem?: string;
}

export class ShapeError extends Error {
  override name = 'ShapeError';
  constructor(readonly layer: number, message: string) {
    super(message);
  }
}

/** Input sources of layer i: `inputs`, else the previous layer (or the network input). */
export function layerSources(layer: Layer, index: number): number[] {
  return layer.inputs && layer.inputs.length > 0 ? layer.inputs : [index - 1];
}

/** Pooled shape: floor((n − size) / stride) + 1 per pooled dim; 1-D data uses size[0]/stride[0]. */
export function poolShape(shape: DataShape, pool: Pool | undefined): DataShape | null {
  if (!pool) return shape;
  const dims = shape.dims.map((n, i) => Math.floor((n - pool.size[i]!) / pool.stride[i]!) + 1);
  return dims.every((n) => n > 0) ? { channels: shape.channels, dims } : null;
}

/** Shapes of every layer; a layer whose shape cannot be formed gets `output: null` and a problem. */
export function inferLayerShapes(model: Model): LayerShapes[] {
  const result: LayerShapes[] = [];
  const netInput: DataShape = { channels: model.input.channels, dims: [...model.input.dims] };
  const outputOf = (src: number): DataShape | null => (src === -1 ? netInput : result[src]?.output ?? null);
  model.layers.forEach((layer, i) => {
    const sources = layerSources(layer, i);
    const ins = sources.map(outputOf);
    const bad = (problem: string, input: DataShape = netInput): LayerShapes => ({ sources, input, pooled: input, output: null, problem });
    if (ins.some((s) => s === null) || sources.some((s) => s >= i || s < -1)) {
      result.push(bad(`its input (${sources.map((s) => (s === -1 ? 'input' : `layer ${s}`)).join(', ')}) has no valid shape`));
      return;
    }
    const shapes = ins as DataShape[];
    let input: DataShape;
    if (shapes.length > 1 && isElementWise(layer)) {
      const first = shapes[0]!;
      if (!shapes.every((s) => s.channels === first.channels && s.dims.join('x') === first.dims.join('x'))) {
        result.push(bad(`its element-wise operands have different shapes (${shapes.map(fmtShape).join(', ')})`, first));
        return;
      }
      input = first;
    } else if (shapes.length > 1) {
      const first = shapes[0]!;
      if (!shapes.every((s) => s.dims.join('x') === first.dims.join('x'))) {
        result.push(bad(`its concatenated inputs have different sizes (${shapes.map(fmtShape).join(', ')})`, first));
        return;
      }
      input = { channels: shapes.reduce((a, s) => a + s.channels, 0), dims: [...first.dims] };
    } else {
      input = shapes[0]!;
    }
    if (layer.inDim) {
      const n = layer.inDim.reduce((a, b) => a * b, 1);
      const have = input.dims.reduce((a, b) => a * b, 1);
      if (n !== have || layer.inDim.length < 1 || layer.inDim.length > 2) {
        result.push(bad(`in_dim ${layer.inDim.join('x')} has ${n} positions but its input ${fmtShape(input)} has ${have}`, input));
        return;
      }
      input = { channels: input.channels, dims: [...layer.inDim] };
    }
    const pooled = poolShape(input, layer.pool);
    if (!pooled) {
      result.push(bad(`pooling ${layer.pool!.size.join('x')} does not fit its ${fmtShape(input)} input`, input));
      return;
    }
    if (opSpec(layer.op).hasWeights && pooled.channels !== layer.inChannels) {
      result.push({ sources, input, pooled, output: null, problem: `it expects ${layer.inChannels} input channels but gets ${pooled.channels}` });
      return;
    }
    const output = opSpec(layer.op).inferShape(layer, pooled);
    result.push(output ? { sources, input, pooled, output } : { sources, input, pooled, output: null, problem: `${layer.op} cannot be applied to ${fmtShape(pooled)} data` });
  });
  return result;
}

/** Output shape of every layer; throws ShapeError naming the first layer whose shape fails. */
export function inferShapes(model: Model): DataShape[] {
  return inferLayerShapes(model).map((s, i) => {
    if (!s.output) throw new ShapeError(i, `Layer ${i} (${model.layers[i]!.name}): ${s.problem}.`);
    return s.output;
  });
}

export function fmtShape(s: DataShape): string {
  return [s.channels, ...s.dims].join('x');
}
