// Seeded, stratified train / validation / test split and stratified subsets: every class keeps its
// share in every part, and the same seed gives the same indices.
import type { Dataset, Split } from './dataset.ts';
import { seededRng, shuffleInPlace } from './random.ts';

export interface SplitOptions {
  /** Validation share: a fraction (< 1) of each class, or a total sample count (≥ 1). Default 0.1. */
  validation?: number;
  /** Test share: a fraction (< 1) of each class, or a total sample count (≥ 1). Default 0.2. */
  test?: number;
  /** Seed of the shuffle; default 1. */
  seed?: number;
}

function byClass(y: Int32Array, classes: number): number[][] {
  const groups: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < y.length; i++) groups[y[i]!]!.push(i);
  return groups;
}

/** How many of a class of size n go to a part: fraction of n, or the class's share of a count. */
function take(n: number, share: number, total: number): number {
  return Math.round(share < 1 ? n * share : (share * n) / total);
}

export function splitDataset(ds: Pick<Dataset, 'y' | 'classNames'>, options: SplitOptions = {}): Split {
  const validation = options.validation ?? 0.1;
  const test = options.test ?? 0.2;
  if (validation < 0 || test < 0) throw new RangeError('validation and test shares must be ≥ 0.');
  const rng = seededRng(options.seed ?? 1);
  const parts = { train: [] as number[], validation: [] as number[], test: [] as number[] };
  for (const group of byClass(ds.y, ds.classNames.length)) {
    const idx = shuffleInPlace(Int32Array.from(group), rng);
    const nTest = Math.min(idx.length, take(idx.length, test, ds.y.length));
    const nVal = Math.min(idx.length - nTest, take(idx.length, validation, ds.y.length));
    parts.test.push(...idx.subarray(0, nTest));
    parts.validation.push(...idx.subarray(nTest, nTest + nVal));
    parts.train.push(...idx.subarray(nTest + nVal));
  }
  // Interleave classes so a prefix of any part is itself roughly stratified.
  return {
    train: shuffleInPlace(Int32Array.from(parts.train), rng),
    validation: shuffleInPlace(Int32Array.from(parts.validation), rng),
    test: shuffleInPlace(Int32Array.from(parts.test), rng),
  };
}

/** Per-class counts summing exactly to `total`, proportional to the class sizes (largest remainder). */
function apportion(sizes: number[], total: number): number[] {
  const all = sizes.reduce((a, b) => a + b, 0);
  const exact = sizes.map((n) => (n * total) / all);
  const counts = exact.map(Math.floor);
  let left = total - counts.reduce((a, b) => a + b, 0);
  const order = exact.map((e, c) => [e - Math.floor(e), c] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, c] of order) {
    if (left <= 0) break;
    if (counts[c]! < sizes[c]!) counts[c]! += 1, left--;
  }
  return counts;
}

/** A stratified random subset of exactly `limit` samples (the whole set when limit ≥ count). */
export function subsetIndices(ds: Pick<Dataset, 'y' | 'classNames'>, limit: number, seed = 1): Int32Array {
  if (limit >= ds.y.length) return Int32Array.from({ length: ds.y.length }, (_, i) => i);
  const rng = seededRng(seed ^ 0x5bd1e995);
  const groups = byClass(ds.y, ds.classNames.length);
  const counts = apportion(groups.map((g) => g.length), limit);
  const out: number[] = [];
  groups.forEach((group, c) => {
    const idx = shuffleInPlace(Int32Array.from(group), rng);
    out.push(...idx.subarray(0, counts[c]!));
  });
  return Int32Array.from(out.sort((a, b) => a - b));
}

/** A new data set holding the given samples, in that order. */
export function selectSamples<D extends Dataset>(ds: D, indices: ArrayLike<number>): D {
  const per = ds.channels * ds.dims.reduce((a, b) => a * b, 1);
  const x = new Float32Array(indices.length * per);
  const y = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const s = indices[i]!;
    x.set(ds.x.subarray(s * per, (s + 1) * per), i * per);
    y[i] = ds.y[s]!;
  }
  return { ...ds, count: indices.length, x, y };
}
