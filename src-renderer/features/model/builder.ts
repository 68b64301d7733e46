// The network builder's pure edits on the IR: a new layer of a kind, the channels that follow from
// the layers before (a builder never asks for a layer's input channels), starting weights that no
// longer fit a changed layer dropped, and the one-click fix for the rules that have an obvious one.
// The rules themselves are the IR's (ir/validate.ts), the same table the planner checks.
import type { Diagnostic, Layer, Model, OpKind } from '@ir/graph.ts';
import { inferLayerShapes } from '@ir/shapes.ts';
import { opSpec } from '@ir/ops/registry.ts';
import { MODEL_OPS } from './ops.ts';

function uniqueName(model: Model, base: string): string {
  const names = new Set(model.layers.map((l) => l.name));
  for (let k = model.layers.length + 1; ; k++) if (!names.has(`${base}${k}`)) return `${base}${k}`;
}

/** A new layer of `op` to insert at `at`, shaped to follow the layer before it. */
export function newLayer(model: Model, op: OpKind, at: number): Layer {
  const oneD = model.input.dims.length === 1;
  const shapes = inferLayerShapes(model);
  const prev = at === 0 ? model.input.channels : shapes[at - 1]?.output?.channels ?? model.input.channels;
  const base: Layer = {
    name: uniqueName(model, MODEL_OPS[op].namePrefix),
    op, inChannels: prev, outChannels: prev, kernel: [1, 1], pad: 0, stride: 1, flatten: false, activation: 'none',
    weightBits: 8, outputShift: 0, outputWidth: 8, hasBias: false,
  };
  return { ...base, ...MODEL_OPS[op].start({ oneD, at }) };
}

/**
 * After an edit: each layer's input channels follow from the layers before it (weightless layers
 * pass their channels on), and starting weights or integers whose size no longer fits are dropped
 * (the layer starts from fresh weights). Returns the names of layers whose weights were dropped.
 */
export function reconcile(model: Model): string[] {
  const dropped: string[] = [];
  model.layers.forEach((layer, i) => {
    const sh = inferLayerShapes(model)[i]!;
    const spec = opSpec(layer.op);
    if (sh.pooled) {
      layer.inChannels = sh.pooled.channels;
      if (!spec.hasWeights) layer.outChannels = sh.pooled.channels;
    }
    if (!spec.hasWeights) {
      if (layer.init || layer.params) dropped.push(layer.name);
      delete layer.init;
      delete layer.params;
      return;
    }
    const n = spec.weightCount(layer, sh.pooled);
    const fits = (len: number, bias: number | undefined) => len === n && (bias === undefined ? !layer.hasBias : bias === layer.outChannels);
    if (layer.init && !fits(layer.init.weight.length, layer.init.bias?.length)) { delete layer.init; dropped.push(layer.name); }
    if (layer.params && !fits(layer.params.weights.length, layer.params.bias?.length)) { delete layer.params; if (!dropped.includes(layer.name)) dropped.push(layer.name); }
    if (!layer.hasBias) delete layer.batchNorm;
  });
  return dropped;
}

/** The edit that resolves a diagnostic, when there is one obvious edit; null when the fix needs a decision. */
export function autoFix(d: Diagnostic, layer: Layer): Partial<Layer> | null {
  switch (d.rule) {
    case 'conv2d-kernel': return { kernel: [3, 3], pad: Math.min(layer.pad, 2) || 1 };
    case 'conv1d-kernel': return { kernel: [Math.min(9, Math.max(1, layer.kernel[0])), 1] };
    case 'convtranspose2d-kernel': return { kernel: [3, 3] };
    case 'convtranspose2d-stride': return { stride: 2 };
    case 'pad-range': return { pad: Math.min(2, Math.max(0, Math.round(layer.pad))) };
    case 'conv-stride': return { stride: 1 };
    case 'conv1d-pad-multipass': return { pad: 0 };
    case 'channel-count': return layer.outChannels > 1024 ? { outChannels: 1024 } : null;
    case 'pool-stride-square': return layer.pool ? { pool: { ...layer.pool, stride: [layer.pool.stride[0], layer.pool.stride[0]] } } : null;
    case 'pool-size': return layer.pool ? { pool: { ...layer.pool, size: [Math.min(16, layer.pool.size[0]), Math.min(16, layer.pool.size[1])] } } : null;
    case 'wide-activation': return { activation: 'none' };
    case 'wide-not-last': return { outputWidth: 8 };
    case 'linear-needs-flatten': return { flatten: true };
    case 'linear-kernel': return { kernel: [1, 1] };
    case 'passthrough-activation': return { activation: 'none' };
    case 'conv2d-dilation': case 'conv1d-dilation': return { dilation: 1 };
    default: return null;
  }
}

/** Parameters (weights + biases) and weight memory (bytes at each layer's bits) of the network. */
export function networkSize(model: Model): { params: number; weightBytes: number; perLayer: { params: number; bytes: number }[] } {
  const shapes = inferLayerShapes(model);
  const perLayer = model.layers.map((l, i) => {
    const spec = opSpec(l.op);
    if (!spec.hasWeights || !shapes[i]!.output) return { params: 0, bytes: 0 };
    const w = spec.weightCount(l, shapes[i]!.pooled);
    return { params: w + (l.hasBias ? l.outChannels : 0), bytes: Math.ceil((w * l.weightBits) / 8) };
  });
  return { params: perLayer.reduce((a, p) => a + p.params, 0), weightBytes: perLayer.reduce((a, p) => a + p.bytes, 0), perLayer };
}
