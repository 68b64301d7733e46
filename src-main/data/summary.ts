// What the UI and the CLI show about a data set, and the class weights that offset imbalance.
import type { Dataset, Split } from './dataset.ts';

export interface DatasetSummary {
  name: string;
  count: number;
  channels: number;
  dims: number[];
  classNames: string[];
  /** Samples per class, indexed like classNames. */
  perClass: number[];
  /** Smallest and largest sample value (training range, int8 code / 128). */
  valueRange: [number, number];
  /** Samples per class in each part, when a split is given. */
  split?: { train: number[]; validation: number[]; test: number[] };
}

export function countPerClass(y: ArrayLike<number>, classes: number, indices?: ArrayLike<number>): number[] {
  const counts = new Array<number>(classes).fill(0);
  const n = indices ? indices.length : y.length;
  for (let i = 0; i < n; i++) counts[y[indices ? indices[i]! : i]!]!++;
  return counts;
}

export function summarize(ds: Dataset, split?: Split): DatasetSummary {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of ds.x) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const k = ds.classNames.length;
  return {
    name: ds.name,
    count: ds.count,
    channels: ds.channels,
    dims: [...ds.dims],
    classNames: [...ds.classNames],
    perClass: countPerClass(ds.y, k),
    valueRange: ds.count ? [lo, hi] : [0, 0],
    ...(split
      ? { split: { train: countPerClass(ds.y, k, split.train), validation: countPerClass(ds.y, k, split.validation), test: countPerClass(ds.y, k, split.test) } }
      : {}),
  };
}

/**
 * Inverse-frequency class weights, normalised so a balanced set gets 1 for every class:
 * w_c = N / (K · n_c). Classes absent from the indices get 0 (they contribute no loss).
 */
export function classWeights(y: ArrayLike<number>, classes: number, indices?: ArrayLike<number>): number[] {
  const counts = countPerClass(y, classes, indices);
  const n = counts.reduce((a, b) => a + b, 0);
  const present = counts.filter((c) => c > 0).length;
  return counts.map((c) => (c > 0 ? n / (present * c) : 0));
}
