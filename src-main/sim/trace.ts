// Comparing two per-layer traces (e.g. the simulator vs the device's intermediate dumps, or two
// engines) to find the first layer whose integers differ: where a deployment problem starts.
import type { LayerOutput } from './simulate.ts';

export interface Divergence {
  /** Index of the first layer that differs. */
  layer: number;
  name: string;
  /** Values that differ in that layer, and the first one. */
  count: number;
  firstIndex: number;
  expected: number;
  actual: number;
  /** Largest |difference| in that layer. */
  maxAbsDiff: number;
}

/** First layer where `actual` differs from `expected` (by position), or null if all layers agree. */
export function firstDivergence(expected: readonly LayerOutput[], actual: readonly { data: ArrayLike<number> }[]): Divergence | null {
  const n = Math.min(expected.length, actual.length);
  for (let i = 0; i < n; i++) {
    const e = expected[i]!.data, a = actual[i]!.data;
    let count = 0, first = -1, maxAbs = 0;
    const len = Math.max(e.length, a.length);
    for (let k = 0; k < len; k++) {
      const x = e[k], y = a[k];
      if (x === y) continue;
      count++;
      if (first < 0) first = k;
      const d = x === undefined || y === undefined ? Infinity : Math.abs(x - y);
      if (d > maxAbs) maxAbs = d;
    }
    if (count > 0)
      return { layer: i, name: expected[i]!.name, count, firstIndex: first, expected: e[first] ?? NaN, actual: a[first] ?? NaN, maxAbsDiff: maxAbs };
  }
  return null;
}
