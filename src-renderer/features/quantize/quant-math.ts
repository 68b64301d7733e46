// The ai8x weight grid and simple error estimates for the Quantize view, from max78002.md §1.8:
// q(x) = floor(x·2^(b−1) + 0.5) / 2^(b−1), clamped to [−1, (2^(b−1)−1)/2^(b−1)] on the 2^−shift
// scaled weights. The renderer may not import src-main/quant, so the three lines live here.
import type { Histogram } from '../../stores/quant.ts';

export const gridTop = (bits: number) => (2 ** (bits - 1) - 1) / 2 ** (bits - 1);

export function quantize(x: number, bits: number): number {
  const s = 2 ** (bits - 1);
  return Math.min(Math.max(Math.floor(x * s + 0.5) / s, -1), gridTop(bits));
}

/** The representable levels of a b-bit weight on the scaled axis (2^b values from −1). */
export function gridLevels(bits: number): number[] {
  const s = 2 ** (bits - 1);
  return Array.from({ length: 2 * s }, (_, k) => (k - s) / s);
}

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
      const e = x - quantize(x, bits);
      signal += (c / SUB) * x * x;
      noise += (c / SUB) * e * e;
    }
  }
  if (signal === 0) return null;
  return noise === 0 ? Infinity : 10 * Math.log10(signal / noise);
}

export const pct = (v: number, digits = 1) => `${(v * 100).toFixed(v > 0 && v < 0.001 ? 3 : digits)}%`;
