// Memory the toolchain counts (max78002.md §3.3, §6): data bytes per memory instance, weight
// (kernel) bytes and bias bytes, matching the izer's own totals.
//  - weights: Σ over layers of floor(stored weight count × bits / 8) (izer stats.py `kmem_used`),
//    where a dilated Conv1d stores its kernel stretched with zeros (see KERNEL_ELEMENTS);
//  - bias: one byte per output channel of each layer with a bias that is not all zero (a zero
//    bias is not loaded; reproduces conformance ecg1d-mixed, 117 bytes);
//  - data: H·W·passes·operands words per instance (HWC: 4 channels share a word; CHW: 4
//    samples per word), 4 bytes a word; a 32-bit output needs a word per channel.
import type { DataShape, Layer, OpKind } from '../ir/graph.ts';
import { processorNeed } from './processors.ts';

export function weightBytes(weightCount: number, bits: number): number {
  return Math.floor((weightCount * bits) / 8);
}

const spatial = (s: DataShape): number => s.dims.reduce((a, b) => a * b, 1);
const none = (): number => 0;

/**
 * The planner facet of every op: the elements of one stored kernel (one output × one input
 * channel; Linear: one row per input channel) as the izer lays them out, 0 without weights. A
 * Record over OpKind, so a new op does not compile until the planner knows its weight memory.
 */
const KERNEL_ELEMENTS: Record<OpKind, (layer: Layer, pooled: DataShape) => number> = {
  // A dilated Conv1d's k taps become a (k−1)·d+1 tap kernel with zeros between them while that
  // fits 9 taps, else a 3x3 Conv2d kernel (izer backend, "Stretch existing kernel" / "Using
  // Conv2d hardware for dilated Conv1d").
  conv1d(layer) {
    const d = layer.dilation ?? 1;
    const k = layer.kernel[0];
    if (d <= 1 || k <= 1) return k;
    return (k - 1) * d < 9 ? (k - 1) * d + 1 : 9;
  },
  conv2d: (layer) => layer.kernel[0] * layer.kernel[1],
  convtranspose2d: (layer) => layer.kernel[0] * layer.kernel[1],
  linear: (layer, pooled) => (layer.flatten ? spatial(pooled) : 1),
  passthrough: none,
  add: none,
  sub: none,
  or: none,
  xor: none,
};

/** Weights the izer stores for a layer (its weight count, with a dilated Conv1d's kernel stretched). */
export function storedWeightCount(layer: Layer, pooled: DataShape): number {
  return layer.outChannels * layer.inChannels * KERNEL_ELEMENTS[layer.op](layer, pooled);
}

export function biasBytes(layer: Layer): number {
  if (!layer.hasBias) return 0;
  const b = layer.params?.bias;
  if (b && b.every((v) => v === 0)) return 0;
  return layer.outChannels;
}

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
  const elements = KERNEL_ELEMENTS[layer.op](layer, pooled);
  if (elements === 0) return 0;
  const { passes } = processorNeed(layer.inChannels);
  const perKernelWords = elements * layer.weightBits <= 72 ? 0 : Math.ceil((elements * layer.weightBits) / 72);
  return perKernelWords > 0
    ? passes * layer.outChannels * perKernelWords
    : passes * Math.ceil(layer.outChannels / Math.floor(72 / (elements * layer.weightBits)));
}
