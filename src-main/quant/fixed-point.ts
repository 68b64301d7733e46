// The accelerator's fixed-point arithmetic in one place (max78002.md §1.7–§1.10, §2.4): torch's
// rounding, torch.quantile, the b-bit weight grid and the activation ranges. Plain numbers and no
// imports, so quant/, sim/, training/, formats/, data/ and the renderer (alias @fixed-point) share
// one copy instead of keeping their own.

/** Round half to even, as torch.round does. Never returns −0. */
export function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Round half away from zero, as the izer's rounded average pool does. Never returns −0. */
export function roundHalfAway(v: number): number {
  const r = Math.sign(v) * Math.floor(Math.abs(v) + 0.5);
  return r === 0 ? 0 : r;
}

/**
 * Whether a layer's average pool rounds (model option avgPoolRounding, izer --avg-pool-rounding)
 * instead of truncating. The izer pools a Conv1d's input on its 1-D path, which ignores the flag;
 * every other layer (2-D, and 1-D pooling-only or element-wise layers) pools on the 2-D path, which rounds.
 */
export function avgPoolRounds(avgPoolRounding: boolean | undefined, op: string): boolean {
  return (avgPoolRounding ?? false) && op !== 'conv1d';
}

/** Quantile with linear interpolation between order statistics (torch.quantile's default). */
export function quantile(sortedAscending: ArrayLike<number>, q: number): number {
  const n = sortedAscending.length;
  if (n === 0) return 0;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  return sortedAscending[lo]! + (sortedAscending[hi]! - sortedAscending[lo]!) * (pos - lo);
}

/** quantile(|a ∪ b|, q); q ≥ 1 is the maximum (no sort). Empty input gives 0. */
export function absQuantile(a: ArrayLike<number>, b: ArrayLike<number> | null, q: number): number {
  const n = a.length + (b?.length ?? 0);
  if (q >= 1) {
    let max = 0;
    for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]!));
    if (b) for (let i = 0; i < b.length; i++) max = Math.max(max, Math.abs(b[i]!));
    return max;
  }
  const abs = new Float64Array(n);
  for (let i = 0; i < a.length; i++) abs[i] = Math.abs(a[i]!);
  if (b) for (let i = 0; i < b.length; i++) abs[a.length + i] = Math.abs(b[i]!);
  return quantile(abs.sort(), q);
}

/** Steps per unit of a b-bit weight grid: 2^(b−1). */
export const gridScale = (bits: number): number => 2 ** (bits - 1);

/** Largest value of a b-bit grid: (2^(b−1) − 1) / 2^(b−1); 1-bit → 0. */
export function gridMax(bits: number): number {
  const scale = gridScale(bits);
  return (scale - 1) / scale;
}

/** The 2^b representable values of a b-bit weight on the scaled axis, from −1 up. */
export function gridLevels(bits: number): number[] {
  const s = gridScale(bits);
  return Array.from({ length: 2 * s }, (_, k) => (k - s) / s);
}

/** Integer range of a b-bit two's-complement value: [−2^(b−1), 2^(b−1) − 1]. */
export function intRange(bits: number): { lo: number; hi: number } {
  return { lo: -gridScale(bits), hi: gridScale(bits) - 1 };
}

/** ai8x Quantize(bits) then Clamp: floor(x·2^(b−1) + 0.5) / 2^(b−1), clamped to [−1, gridMax(b)]. */
export function quantizeValue(x: number, bits: number): number {
  const scale = gridScale(bits);
  const q = Math.floor(x * scale + 0.5) / scale;
  return Math.min(Math.max(q, -1), gridMax(bits));
}

/** A non-wide layer's activations: the 8-bit grid, steps of 1/128, clamped to [−1, 127/128]. */
export const ACTIVATION = { step: 128, lo: -1, hi: 127 / 128 } as const;

/** A wide (32-bit) output layer in QAT: steps of 2^−14, clamped to ±2^15. */
export const WIDE_OUTPUT = { step: 16384, lo: -32768, hi: 32768 } as const;
