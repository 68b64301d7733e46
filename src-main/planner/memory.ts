// Memory the toolchain counts (max78002.md §3.3, §6): data bytes per memory instance, weight
// (kernel) bytes and bias bytes, matching the izer's own totals.
//  - weights: Σ over layers of floor(stored weight count × bits / 8) (izer stats.py `kmem_used`),
//    where a dilated Conv1d stores its kernel stretched with zeros (see storedWeightCount);
//  - bias: one byte per output channel of each layer with a bias that is not all zero (a zero
//    bias is not loaded; reproduces conformance ecg1d-mixed, 117 bytes);
//  - data: H·W·passes·operands words per instance (HWC: 4 channels share a word; CHW: 4
//    samples per word), 4 bytes a word; a 32-bit output needs a word per channel.
import type { DataShape, Layer } from '../ir/graph.ts';
import { processorNeed } from './processors.ts';

export function weightBytes(weightCount: number, bits: number): number {
  return Math.floor((weightCount * bits) / 8);
}

/**
 * Weights the izer stores for a layer with `weightCount` weights: a dilated Conv1d's k taps become
 * a (k−1)·d+1 tap kernel with zeros between them while that fits 9 taps, else a 3x3 Conv2d kernel
 * (izer backend, "Stretch existing kernel" / "Using Conv2d hardware for dilated Conv1d").
 */
export function storedWeightCount(layer: Layer, weightCount: number): number {
  const d = layer.dilation ?? 1;
  const k = layer.kernel[0];
  if (layer.op !== 'conv1d' || d <= 1 || k <= 1) return weightCount;
  const stretched = (k - 1) * d < 9 ? (k - 1) * d + 1 : 9;
  return (weightCount / k) * stretched;
}

export function biasBytes(layer: Layer): number {
  if (!layer.hasBias) return 0;
  const b = layer.params?.bias;
  if (b && b.every((v) => v === 0)) return 0;
  return layer.outChannels;
}

const spatial = (s: DataShape): number => s.dims.reduce((a, b) => a * b, 1);

/** Bytes of input data per memory instance. */
export function inputBytesPerInstance(input: DataShape, operands: number, chw: boolean): number {
  const { passes } = processorNeed(input.channels);
  const words = chw ? Math.ceil(spatial(input) / 4) : spatial(input);
  return words * passes * operands * 4;
}

/** Bytes of output data per memory instance. */
export function outputBytesPerInstance(output: DataShape, wide: boolean): number {
  const { passes } = processorNeed(output.channels);
  return spatial(output) * passes * 4 * (wide ? 4 : 1);
}

/**
 * Kernel-memory words (72 bits) one processor needs for a layer: for each pass, one kernel per
 * output channel, packed at `bits` per element. An estimate of the izer's kernel map.
 */
export function kernelWordsPerProcessor(layer: Layer, pooled: DataShape): number {
  if (!layer.params && !['conv1d', 'conv2d', 'convtranspose2d', 'linear'].includes(layer.op)) return 0;
  const elements = layer.op === 'linear' ? (layer.flatten ? spatial(pooled) : 1) : storedWeightCount(layer, layer.kernel[0] * layer.kernel[1]);
  const { passes } = processorNeed(layer.inChannels);
  const perKernelWords = elements * layer.weightBits <= 72 ? 0 : Math.ceil((elements * layer.weightBits) / 72);
  return perKernelWords > 0
    ? passes * layer.outChannels * perKernelWords
    : passes * Math.ceil(layer.outChannels / Math.floor(72 / (elements * layer.weightBits)));
}
