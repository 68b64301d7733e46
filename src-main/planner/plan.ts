// The MAX7800x resource planner: processors masks, in/out offsets (ping-pong between 0 and half an
// instance unless the model already carries a placement, e.g. from YAML), data memory per instance,
// weight and bias memory as the toolchain counts them, and every rule of max78002.md §6 checked,
// each violation a Diagnostic in plain words with the layer and the fix.
import type { DataShape, Device, Diagnostic, Layer, Model, Placement } from '../ir/graph.ts';
import { DEVICE_LIMITS } from '../ir/limits.ts';
import { isElementWise } from '../ir/ops/registry.ts';
import { layerError, layerWarning, type OpContext } from '../ir/ops/op-spec.ts';
import { inferLayerShapes, validateModel } from '../ir/validate.ts';
import { biasBytes, inputBytesPerInstance, kernelWordsPerProcessor, outputBytesPerInstance, storedWeightCount, weightBytes } from './memory.ts';
import { defaultMask, maskHex, parseMask, popcount, processorNeed, sharedInstances } from './processors.ts';

export interface LayerPlan {
  index: number;
  name: string;
  op: Layer['op'];
  /** Input channels read by the processors (pre-flatten C). */
  inChannels: number;
  outChannels: number;
  inputShape: DataShape;
  outputShape: DataShape | null;
  passes: number;
  /** Processors the mask must have per pass. */
  processorsNeeded: number;
  placement: Placement;
  /** Data bytes per memory instance read / written by the layer. */
  inBytesPerInstance: number;
  outBytesPerInstance: number;
  weightBytes: number;
  biasBytes: number;
  /** Estimated 72-bit kernel words per processor. */
  kernelWords: number;
}

export interface Plan {
  device: Device;
  layers: LayerPlan[];
  /** Weight (kernel) memory bytes, as ai8xize.py reports it. */
  weightMemoryBytes: number;
  weightMemoryCapacity: number;
  /** Bias memory bytes, as ai8xize.py reports it. */
  biasMemoryBytes: number;
  biasMemoryCapacity: number;
  diagnostics: Diagnostic[];
  /** The model with every layer's placement filled in. */
  model: Model;
}

export interface PlanOptions {
  /** Plan for this device instead of model.device. */
  device?: Device;
  /** Ignore placements already in the model and compute fresh ones. */
  replacePlacement?: boolean;
}

export function planModel(model0: Model, opts: PlanOptions = {}): Plan {
  const model: Model = { ...model0, device: opts.device ?? model0.device, layers: model0.layers.map((l) => ({ ...l })) };
  const lim = DEVICE_LIMITS[model.device];
  const diagnostics = validateModel(model);
  const shapes = inferLayerShapes(model);
  const keep = !opts.replacePlacement && model.layers.every((l) => l.placement);
  const layers: LayerPlan[] = [];
  let prevOut = 0;
  const lastReader = lastReaders(shapes.map((x) => x.sources));
  const outMasks: (string | undefined)[] = [];
  model.layers.forEach((layer, i) => {
    const ctx: OpContext = { device: model.device, index: i, isFirst: i === 0, isLast: i === model.layers.length - 1 };
    const sh = shapes[i]!;
    const isElt = isElementWise(layer);
    const operands = isElt ? Math.max(1, sh.sources.length) : 1;
    const chw = i === 0 && model.input.format === 'CHW';
    const readChannels = sh.input.channels;
    const need = processorNeed(readChannels);
    const inBytes = inputBytesPerInstance(sh.input, operands, chw);
    const outBytes = sh.output ? outputBytesPerInstance(sh.output, layer.outputWidth === 32) : 0;
    let placement: Placement;
    if (keep) placement = { ...layer.placement! };
    else {
      const src = sh.sources[0] ?? i - 1;
      const inOffset = src < 0 ? 0 : layers[src]?.placement.outOffset ?? prevOut;
      // Ping-pong, unless that would overwrite the input or an output a later layer still reads.
      const busy: [number, number][] = [[inOffset, inOffset + inBytes]];
      for (const [k, m] of lastReader) if (k < i && m > i) busy.push([layers[k]!.placement.outOffset, layers[k]!.placement.outOffset + layers[k]!.outBytesPerInstance]);
      const free = (o: number): boolean => o + outBytes <= lim.instanceBytes && busy.every(([b0, b1]) => !(o < b1 && b0 < o + outBytes));
      const candidates = [inOffset === 0 ? lim.halfInstance : 0, 0, lim.halfInstance, ...busy.map(([, b1]) => Math.ceil(b1 / 4) * 4)];
      const outOffset = candidates.find(free) ?? candidates[0]!;
      placement = { processors: maskHex(defaultMask(need.perPass, chw)), inOffset, outOffset };
    }
    prevOut = placement.outOffset;
    layer.placement = placement;
    diagnostics.push(...processorRules(layer, ctx, placement, readChannels, need, chw));
    // Where the output lands: output_processors, else what the next layer reads, else (last layer)
    // a packed map from processor 0; unknown → assume the input's instances (conservative).
    const next = model.layers[i + 1];
    const nextReads = next?.placement && (shapes[i + 1]?.sources ?? []).includes(i);
    const outMask = placement.outputProcessors ?? (nextReads ? next!.placement!.processors : undefined)
      ?? (i === model.layers.length - 1 ? maskHex(defaultMask(Math.min(64, layer.outChannels), false)) : undefined);
    diagnostics.push(...offsetRules(model, layer, ctx, placement, inBytes, outBytes, i > 0 ? layers[i - 1]?.placement.outOffset : undefined, sh.sources, outMask));
    outMasks.push(outMask);
    const kWords = kernelWordsPerProcessor(layer, sh.pooled);
    if (kWords > lim.kernelWords)
      // An estimate of the izer's kernel map, so a warning: the weight-byte total below is exact.
      diagnostics.push(layerWarning(ctx, layer, 'kernel-memory', `needs about ${kWords} kernel words per processor (estimate); each processor holds ${lim.kernelWords} on the ${model.device}.`,
        'Reduce output channels or kernel size, lower the weight bits, or target the MAX78002.'));
    const bBytes = biasBytes(layer);
    if (bBytes > lim.maxBiasPerLayer)
      diagnostics.push(layerError(ctx, layer, 'bias-per-layer', `has a bias for ${layer.outChannels} output channels; one layer may use ${lim.maxBiasPerLayer} bias bytes on the ${model.device}.`,
        'Reduce the output channels or train the layer without bias.'));
    layers.push({
      index: i, name: layer.name, op: layer.op, inChannels: readChannels, outChannels: layer.outChannels,
      inputShape: sh.input, outputShape: sh.output, passes: need.passes, processorsNeeded: need.perPass, placement,
      inBytesPerInstance: inBytes, outBytesPerInstance: outBytes, weightBytes: weightBytes(storedWeightCount(layer, sh.pooled), layer.weightBits), biasBytes: bBytes, kernelWords: kWords,
    });
  });
  diagnostics.push(...flowRules(model, layers, shapes.map((x) => x.sources), outMasks));
  const weightMemoryBytes = layers.reduce((a, l) => a + l.weightBytes, 0);
  const biasMemoryBytes = layers.reduce((a, l) => a + l.biasBytes, 0);
  const totalKernelWords = layers.reduce((a, l) => a + l.kernelWords, 0);
  if (weightMemoryBytes > lim.weightMemoryBytes)
    diagnostics.push({ severity: 'error', rule: 'weight-memory', layer: -1, message: `The weights need ${weightMemoryBytes.toLocaleString('en')} bytes; the ${model.device} holds ${lim.weightMemoryBytes.toLocaleString('en')}.`,
      fix: model.device === 'MAX78000' ? 'Use fewer channels or lower weight bits, or target the MAX78002.' : 'Use fewer channels or lower weight bits.' });
  else if (totalKernelWords > lim.kernelWords)
    diagnostics.push({ severity: 'warning', rule: 'kernel-memory', layer: -1, message: `The layers need about ${totalKernelWords} kernel words on the busiest processor (estimate); each holds ${lim.kernelWords} on the ${model.device}.`,
      fix: 'Spread channels over more processors, use fewer output channels or lower weight bits.' });
  if (biasMemoryBytes > lim.biasMemoryBytes)
    diagnostics.push({ severity: 'error', rule: 'bias-memory', layer: -1, message: `The biases need ${biasMemoryBytes} bytes; the ${model.device} holds ${lim.biasMemoryBytes}.`,
      fix: 'Train some layers without bias or reduce output channels.' });
  return { device: model.device, layers, weightMemoryBytes, weightMemoryCapacity: lim.weightMemoryBytes, biasMemoryBytes, biasMemoryCapacity: lim.biasMemoryBytes, diagnostics, model };
}

function processorRules(layer: Layer, ctx: OpContext, p: Placement, channels: number, need: { passes: number; perPass: number }, chw: boolean): Diagnostic[] {
  const out: Diagnostic[] = [];
  let mask: bigint;
  try {
    mask = parseMask(p.processors);
    if (mask < 0n || mask >= 1n << 64n) throw new Error('range');
  } catch {
    return [layerError(ctx, layer, 'processors-format', `the processors mask "${p.processors}" is not a 64-bit hex number.`, 'Write it like 0x000000000000ffff.')];
  }
  const bits = popcount(mask);
  const suggestion = maskHex(defaultMask(need.perPass, chw));
  if (bits !== need.perPass) {
    const what = need.passes > 1
      ? `${channels} input channels need ${need.passes} passes of ${need.perPass} processors`
      : layer.flatten ? `${channels} channels before flattening need ${need.perPass} processors` : `${channels} input channel${channels === 1 ? '' : 's'} need${channels === 1 ? 's' : ''} ${need.perPass} processor${need.perPass === 1 ? '' : 's'}`;
    out.push(layerError(ctx, layer, 'processors-count', `${what}; the processors mask ${maskHex(mask)} has ${bits}.`,
      `Set processors: ${suggestion}${layer.flatten ? ' (count the channels before flattening, not the features)' : ''}.`));
  }
  if (chw) {
    const shared = sharedInstances(mask);
    if (shared.length > 0)
      out.push(layerError(ctx, layer, 'processors-chw', `CHW input needs one processor per memory instance (group of four), but groups ${shared.join(', ')} have several.`,
        `Use one processor per group of four, e.g. processors: ${suggestion}.`));
  }
  if (p.outputProcessors !== undefined) {
    try { parseMask(p.outputProcessors); } catch {
      out.push(layerError(ctx, layer, 'processors-format', `the output processors mask "${p.outputProcessors}" is not a 64-bit hex number.`, 'Write it like 0x000000000000ffff.'));
    }
  }
  return out;
}

/** Bit g set when memory instance g (processors 4g..4g+3) is used by the mask. */
function instances(hex: string): number {
  let m: bigint;
  try { m = parseMask(hex); } catch { return 0xffff; }
  let set = 0;
  for (let g = 0; g < 16; g++) if ((m >> BigInt(4 * g)) & 0xfn) set |= 1 << g;
  return set;
}

function offsetRules(model: Model, layer: Layer, ctx: OpContext, p: Placement, inBytes: number, outBytes: number, prevOut: number | undefined, sources: number[], outMask?: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const lim = DEVICE_LIMITS[model.device];
  const hex = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;
  for (const [key, off] of [['in_offset', p.inOffset], ['out_offset', p.outOffset]] as const) {
    if (!Number.isInteger(off) || off < 0 || off % 4 !== 0)
      out.push(layerError(ctx, layer, 'offset-align', `${key} ${off} is not a non-negative multiple of 4 (offsets are 32-bit word addresses).`, `Use a multiple of 4, e.g. 0 or ${hex(lim.halfInstance)}.`));
  }
  if (p.inOffset + inBytes > lim.instanceBytes)
    out.push(layerError(ctx, layer, 'data-memory', `its input needs ${inBytes} bytes per memory instance from ${hex(p.inOffset)}, which exceeds the data memory instance size of ${lim.instanceBytes}.`,
      'Lower in_offset, pool earlier, or use fewer channels per pass.'));
  if (p.outOffset + outBytes > lim.instanceBytes)
    out.push(layerError(ctx, layer, 'data-memory', `its output needs ${outBytes} bytes per memory instance from ${hex(p.outOffset)}, which exceeds the data memory instance size of ${lim.instanceBytes}.`,
      'Lower out_offset, or reduce the output size.'));
  const sharedInstance = outMask === undefined || (instances(p.processors) & instances(outMask)) !== 0;
  if (sharedInstance && p.inOffset < p.outOffset + outBytes && p.outOffset < p.inOffset + inBytes)
    out.push(layerError(ctx, layer, 'data-overlap', `its output (${hex(p.outOffset)}, ${outBytes} bytes) is overwriting its input (${hex(p.inOffset)}, ${inBytes} bytes).`,
      `Ping-pong the offsets: read at 0 and write at ${hex(lim.halfInstance)}, or the reverse.`));
  const fromPrev = sources.length === 1 && sources[0] === ctx.index - 1;
  if (prevOut !== undefined && fromPrev && p.inOffset !== prevOut)
    out.push(layerWarning(ctx, layer, 'offset-chain', `in_offset ${hex(p.inOffset)} differs from the previous layer's out_offset ${hex(prevOut)}; the layer would read stale data.`,
      `Set in_offset to ${hex(prevOut)} (or leave it out).`));
  return out;
}

/**
 * Data flow between layers: a layer's explicit output processors must be the processors the next
 * layer reads, and no layer may overwrite an earlier output that a later layer still reads (skip
 * connections through in_sequences). Offsets clash only where the two outputs share a memory
 * instance; where an output's processors are unknown, instances are assumed shared.
 */
function flowRules(model: Model, plans: LayerPlan[], sources: number[][], outMasks: (string | undefined)[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const hex = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;
  model.layers.forEach((layer, i) => {
    const next = model.layers[i + 1];
    const op = layer.placement?.outputProcessors;
    if (op && next?.placement && (sources[i + 1] ?? []).includes(i)) {
      let a: bigint | null = null, b: bigint | null = null;
      try { a = parseMask(op); b = parseMask(next.placement.processors); } catch { /* reported by processorRules */ }
      if (a !== null && b !== null && a !== b)
        out.push(layerError({ device: model.device, index: i, isFirst: i === 0, isLast: false }, layer, 'output-processors',
          `it writes its output to processors ${maskHex(a)} but layer ${i + 1} (${next.name}) reads processors ${maskHex(b)}.`,
          `Remove output_processors, or set it to ${maskHex(b)}.`));
    }
  });
  const lastReader = lastReaders(sources);
  plans.forEach((pj, j) => {
    const a0 = pj.placement.outOffset, a1 = a0 + pj.outBytesPerInstance;
    for (const [k, m] of lastReader) {
      if (k >= j || m <= j) continue;
      const pk = plans[k]!;
      const b0 = pk.placement.outOffset, b1 = b0 + pk.outBytesPerInstance;
      const mj = outMasks[j], mk = outMasks[k];
      const shared = mj === undefined || mk === undefined || (instances(mj) & instances(mk)) !== 0;
      if (shared && a0 < b1 && b0 < a1)
        out.push(layerError({ device: model.device, index: j, isFirst: j === 0, isLast: j === plans.length - 1 }, model.layers[j]!, 'data-overwrite',
          `its output (${hex(a0)}, ${pj.outBytesPerInstance} bytes) overwrites the output of layer ${k} (${pk.name}, ${hex(b0)}), which layer ${m} (${plans[m]!.name}) still reads.`,
          `Move one of the two outputs to a free range, e.g. out_offset ${hex(Math.max(a1, b1))} for layer ${j}.`));
    }
  });
  return out;
}

/** For each layer output that some layer reads: the index of the last layer reading it. */
function lastReaders(sources: number[][]): Map<number, number> {
  const last = new Map<number, number>();
  sources.forEach((srcs, m) => srcs.forEach((k) => { if (k >= 0) last.set(k, Math.max(last.get(k) ?? -1, m)); }));
  return last;
}
