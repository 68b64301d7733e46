// Model validation: every layer against the rules of its op (ops/<op>.ts) and the device-wide
// rules of max78002.md §6 (layer count, channels, pooling, widths, shifts, parameter ranges).
// An invalid layer yields an error Diagnostic naming the layer and the rule, with a fix.
import { WEIGHT_BITS, type DataShape, type Diagnostic, type Layer, type Model } from './graph.ts';
import { DEVICE_LIMITS } from './limits.ts';
import { isElementWise, opSpec } from './ops/registry.ts';
import { layerError, type OpContext } from './ops/op-spec.ts';
import { inferLayerShapes, inferShapes, fmtShape } from './shapes.ts';

export { inferShapes, inferLayerShapes };

/** Total hardware shift of a layer: output_shift + YAML output_shift + (8 − weight bits). */
export function totalShift(layer: Layer): number {
  return layer.outputShift + (layer.extraShift ?? 0) + 8 - layer.weightBits;
}

export function validateModel(model: Model): Diagnostic[] {
  const out: Diagnostic[] = [];
  const lim = DEVICE_LIMITS[model.device];
  const n = model.layers.length;
  if (n === 0) out.push({ severity: 'error', rule: 'no-layers', layer: -1, message: 'The model has no layers.', fix: 'Add at least one layer.' });
  if (n > lim.maxLayers)
    out.push({ severity: 'error', rule: 'layer-count', layer: -1, message: `The model has ${n} layers; the ${model.device} runs at most ${lim.maxLayers}.`,
      fix: model.device === 'MAX78000' ? 'Merge layers, or target the MAX78002 (128 layers).' : 'Merge layers.' });
  const inp = model.input;
  if (inp.dims.length < 1 || inp.dims.length > 2 || inp.dims.some((d) => !Number.isInteger(d) || d < 1) || inp.channels < 1)
    out.push({ severity: 'error', rule: 'input-shape', layer: -1, message: `The input shape ${[inp.channels, ...inp.dims].join('x')} is not C×H×W or C×L with positive sizes.`,
      fix: 'Give the input as (C, H, W) or (C, L).' });
  if (inp.dims.some((d) => d > lim.maxRowsCols))
    out.push({ severity: 'error', rule: 'rows-cols', layer: -1, message: `The input ${[inp.channels, ...inp.dims].join('x')} has a side longer than ${lim.maxRowsCols}, the ${model.device}'s limit.`,
      fix: 'Crop or downsample the input.' });
  const names = new Set<string>();
  const shapes = inferLayerShapes(model);
  model.layers.forEach((layer, i) => {
    const ctx: OpContext = { device: model.device, index: i, isFirst: i === 0, isLast: i === n - 1 };
    if (names.has(layer.name)) out.push(layerError(ctx, layer, 'duplicate-name', `the name "${layer.name}" is used twice.`, 'Give every layer a unique name.'));
    names.add(layer.name);
    const sh = shapes[i]!;
    out.push(...layerRules(model, layer, ctx, sh.input, sh.pooled));
    if (!sh.output) {
      out.push(layerError(ctx, layer, 'shape', `${sh.problem}.`, 'Check channel counts, kernel, padding and pooling against the previous layer.'));
      return;
    }
    out.push(...opSpec(layer.op).validate(layer, sh.pooled, ctx));
    out.push(...paramRules(layer, opSpec(layer.op).weightCount(layer, sh.pooled), ctx));
    for (const d of sh.output.dims)
      if (d > lim.maxRowsCols) {
        out.push(layerError(ctx, layer, 'rows-cols', `its output ${fmtShape(sh.output)} has a side of ${d}; the ${model.device} allows ${lim.maxRowsCols}.`, 'Pool or crop the data.'));
        break;
      }
  });
  return out;
}

function layerRules(model: Model, layer: Layer, ctx: OpContext, input: DataShape, pooled: DataShape): Diagnostic[] {
  const out: Diagnostic[] = [];
  const lim = DEVICE_LIMITS[model.device];
  const hasWeights = opSpec(layer.op).hasWeights;
  if (!WEIGHT_BITS.includes(layer.weightBits))
    out.push(layerError(ctx, layer, 'weight-bits', `${layer.weightBits}-bit weights are not supported; use 1, 2, 4 or 8 bits.`, 'Set the layer to 8, 4, 2 or 1 bits in the QAT policy.'));
  for (const [what, c] of [['input', layer.inChannels], ['output', layer.outChannels]] as const)
    if (hasWeights && (c < 1 || c > lim.maxChannels))
      out.push(layerError(ctx, layer, 'channel-count', `${c} ${what} channels; a layer may have 1 to ${lim.maxChannels}.`, 'Reduce the channel count or split the layer.'));
  if (layer.outputWidth === 32) {
    if (layer.activation !== 'none')
      out.push(layerError(ctx, layer, 'wide-activation', `32-bit output cannot be combined with ${layer.activation === 'relu' ? 'ReLU' : 'Abs'}.`,
        'Remove the activation (activate: None) or use 8-bit output.'));
    if (!ctx.isLast && !layer.isOutput)
      out.push(layerError(ctx, layer, 'wide-not-last', '32-bit output is only allowed on the last layer.', 'Use output_width: 8 here.'));
  } else if (layer.outputWidth !== 8) {
    out.push(layerError(ctx, layer, 'output-width', `output width ${String(layer.outputWidth)} is not 8 or 32.`, 'Use 8, or 32 on the last layer.'));
  }
  if (hasWeights && layer.outputWidth !== 32) {
    const s = totalShift(layer);
    if (s < -15 || s > 15)
      out.push(layerError(ctx, layer, 'shift-range', `the total output shift is ${s} (output_shift ${layer.outputShift} + YAML ${layer.extraShift ?? 0} + ${8 - layer.weightBits} for ${layer.weightBits}-bit weights); it must be within −15..15.`,
        'Change the YAML output_shift, or retrain so the layer needs a smaller shift.'));
  }
  const p = layer.pool;
  if (p) {
    const twoD = input.dims.length === 2;
    const sizes = twoD ? p.size : [p.size[0]];
    const strides = twoD ? p.stride : [p.stride[0]];
    if (sizes.some((s) => !Number.isInteger(s) || s < 1 || s > 16))
      out.push(layerError(ctx, layer, 'pool-size', `pool size ${sizes.join('x')} is not supported; each side must be 1 to 16.`, 'Use a pool size between 1 and 16.'));
    if (strides.some((s) => !Number.isInteger(s) || s < 1 || s > 16))
      out.push(layerError(ctx, layer, 'pool-stride', `pool stride ${strides.join('x')} is not supported; it must be 1 to 16.`, 'Use a pool stride between 1 and 16.'));
    if (twoD && p.stride[0] !== p.stride[1])
      out.push(layerError(ctx, layer, 'pool-stride-square', `pool stride ${p.stride.join('x')} differs between rows and columns; they must be equal.`, 'Use the same pool stride for rows and columns.'));
  }
  const pixels = input.dims.reduce((a, b) => a * b, 1);
  const chw = ctx.isFirst && model.input.format === 'CHW';
  const maxPix = chw ? lim.maxPixelsChw : lim.maxPixelsHwc;
  if (pixels > maxPix)
    out.push(layerError(ctx, layer, 'pixels-per-channel', `its input has ${pixels} pixels per channel; ${chw ? 'CHW' : 'HWC'} data on the ${model.device} allows ${maxPix}.`,
      ctx.isFirst && !chw ? 'Use data_format: CHW for the first layer, or a smaller input.' : 'Reduce the input size or pool earlier.'));
  if (isElementWise(layer)) {
    const nOps = layer.operands ?? layer.inputs?.length ?? 1;
    if (layer.eltwise && (nOps < 2 || nOps > 16))
      out.push(layerError(ctx, layer, 'eltwise-operands', `an element-wise operation needs 2 to 16 operands, not ${nOps}.`, 'List 2 to 16 inputs in in_sequences.'));
    // The operands of an in-flight element-wise op are read as passes; ai8xize.py refuses any such
    // layer with a bias on the MAX78002 ("multi-pass element-wise operations must be in a separate
    // layer from convolutions with bias"), whatever the channel count.
    if (layer.eltwise && model.device === 'MAX78002' && layer.hasBias)
      out.push(layerError(ctx, layer, 'eltwise-multipass-bias', 'an in-flight element-wise operation cannot be combined with a bias on the MAX78002 (ai8x-synthesis refuses it).',
        'Remove the bias, or put the element-wise operation in a separate layer before the convolution.'));
  }
  void pooled;
  return out;
}

function paramRules(layer: Layer, weightCount: number, ctx: OpContext): Diagnostic[] {
  const out: Diagnostic[] = [];
  const p = layer.params;
  if (!p) return out;
  if (p.weights.length !== weightCount)
    out.push(layerError(ctx, layer, 'weight-count', `has ${p.weights.length} weights but its shape needs ${weightCount}.`, 'Re-import the checkpoint that matches this network description.'));
  const lo = -(2 ** (layer.weightBits - 1));
  const hi = 2 ** (layer.weightBits - 1) - 1;
  for (let i = 0; i < p.weights.length; i++) {
    const w = p.weights[i]!;
    if (w < lo || w > hi) {
      out.push(layerError(ctx, layer, 'weight-range', `weight ${i} is ${w}, outside the ${layer.weightBits}-bit range ${lo}..${hi}.`,
        'Quantize the checkpoint (quantize.py) with the same weight bits, or set quantization: to the bits the weights use.'));
      break;
    }
  }
  if (p.bias) {
    if (p.bias.length !== layer.outChannels)
      out.push(layerError(ctx, layer, 'bias-count', `has ${p.bias.length} bias values for ${layer.outChannels} output channels.`, 'Re-import the matching checkpoint.'));
    for (let i = 0; i < p.bias.length; i++) {
      const b = p.bias[i]!;
      if (b < -128 || b > 127) {
        out.push(layerError(ctx, layer, 'bias-range', `bias ${i} is ${b} after scaling; the bias register holds −128..127.`, 'Retrain with QAT (which clamps the bias) or lower the weight bits of this layer less.'));
        break;
      }
    }
  }
  return out;
}
