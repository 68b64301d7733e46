// Simple error estimates for the Quantize view over the ai8x weight grid (max78002.md §1.8), which
// comes from the one fixed-point module (src-main/quant/fixed-point.ts, alias @fixed-point).
import { quantizeValue } from '@fixed-point';
import type { Histogram } from '../../stores/quant.ts';

/**
 * Weight SQNR (dB) at `bits`, estimated from a histogram of the scaled weights: each bin is spread
 * over 16 evenly spaced points, each quantized with the ai8x rule. A proxy for how much a layer
 * loses at a bit width, not a measured accuracy.
 */
export function weightSqnrDb(h: Histogram, bits: number): number | null {
  let signal = 0;
  let noise = 0;
  const SUB = 16;
  for (let i = 0; i < h.counts.length; i++) {
    const c = h.counts[i]!;
    if (!c) continue;
    const lo = h.edges[i]!;
    const w = h.edges[i + 1]! - lo;
    for (let k = 0; k < SUB; k++) {
      const x = lo + ((k + 0.5) / SUB) * w;
      const e = x - quantizeValue(x, bits);
      signal += (c / SUB) * x * x;
      noise += (c / SUB) * e * e;
    }
  }
  if (signal === 0) return null;
  return noise === 0 ? Infinity : 10 * Math.log10(signal / noise);
}

export const pct = (v: number, digits = 1) => `${(v * 100).toFixed(v > 0 && v < 0.001 ? 3 : digits)}%`;
