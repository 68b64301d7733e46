// Layer-wise quantization range statistics for the epoch records: weight ranges after the output
// shift scaling, activation ranges before the clamp, and how much each clamp cuts off.
import type { FloatLayerParams } from '../ir/float-params.ts';
import type { Layer, WeightBits } from '../ir/graph.ts';
import { ACTIVATION, gridMax, gridScale, WIDE_OUTPUT } from '../quant/fixed-point.ts';
import { outputShift } from '../quant/output-shift.ts';
import type { Histogram, LayerRangeStats } from './train-types.ts';

const BINS = 32;

/** Histogram over [lo, hi] with BINS bins; values outside land in the end bins. */
export function histogram(values: ArrayLike<number>, lo: number, hi: number): Histogram {
  const counts = new Array<number>(BINS).fill(0);
  const width = (hi - lo) / BINS || 1;
  for (let i = 0; i < values.length; i++) {
    const b = Math.min(BINS - 1, Math.max(0, Math.floor((values[i]! - lo) / width)));
    counts[b]!++;
  }
  const edges = Array.from({ length: BINS + 1 }, (_, i) => lo + i * width);
  return { edges, counts };
}

export interface ActivationSample {
  min: number;
  max: number;
  histogram: Histogram;
  clippedShare: number;
}

/** Statistics of a layer's pre-clamp output sample. */
export function activationStats(values: Float32Array, wide: boolean): ActivationSample {
  let min = Infinity;
  let max = -Infinity;
  let clipped = 0;
  const { lo, hi } = wide ? WIDE_OUTPUT : ACTIVATION;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
    if (v < lo || v > hi) clipped++;
  }
  if (values.length === 0) min = max = 0;
  const range = wide ? [Math.min(min, 0), Math.max(max, 0)] : [-1, 1];
  return { min, max, histogram: histogram(values, range[0]!, range[1]!), clippedShare: values.length ? clipped / values.length : 0 };
}

export function layerRangeStats(
  layer: Layer, params: FloatLayerParams, bits: WeightBits, shiftQuantile: number, activation: ActivationSample | undefined,
): LayerRangeStats {
  const shift = outputShift(params.weight, params.bias, shiftQuantile);
  const all = params.bias ? [...params.weight, ...params.bias] : [...params.weight];
  let wMin = Infinity;
  let wMax = -Infinity;
  let clipped = 0;
  const scale = 2 ** -shift;
  const grid = gridScale(bits);
  const top = gridMax(bits);
  const scaled = new Float32Array(all.length);
  for (let i = 0; i < all.length; i++) {
    const v = all[i]!;
    if (v < wMin) wMin = v;
    if (v > wMax) wMax = v;
    scaled[i] = v * scale;
    const q = Math.floor(v * scale * grid + 0.5) / grid;
    if (q < -1 || q > top) clipped++;
  }
  return {
    layer: layer.name,
    weightMin: wMin,
    weightMax: wMax,
    weightHistogram: histogram(scaled, -1, 1),
    activationMin: activation?.min ?? 0,
    activationMax: activation?.max ?? 0,
    activationHistogram: activation?.histogram ?? { edges: [], counts: [] },
    clippedShare: activation?.clippedShare ?? 0,
    weightClippedShare: all.length ? clipped / all.length : 0,
    outputShift: shift,
    weightBits: bits,
  };
}
