// Per-layer output shift during QAT (ai8x OutputShift, max78002.md §1.7): the power-of-two scale
// that lets weights use the full [−1, 1) grid; recomputed from the float weights, never learned.

/** Quantile with linear interpolation between order statistics (torch.quantile's default). */
export function quantile(sortedAscending: ArrayLike<number>, q: number): number {
  const n = sortedAscending.length;
  if (n === 0) return 0;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const frac = pos - lo;
  return sortedAscending[lo]! + (sortedAscending[hi]! - sortedAscending[lo]!) * frac;
}

/**
 * out_shift = −floor(log2(1/limit)) clamped to [−15, 15], limit = quantile(|w ∪ b|, shiftQuantile).
 * All-zero parameters give −15 (log2(1/0) = ∞, clamped like torch). Evaluated in float32 like
 * torch, so values just below a power of two round the same way.
 */
export function outputShift(weight: ArrayLike<number>, bias: ArrayLike<number> | null, shiftQuantile = 1): number {
  const n = weight.length + (bias?.length ?? 0);
  let limit: number;
  if (shiftQuantile >= 1) {
    limit = 0;
    for (let i = 0; i < weight.length; i++) limit = Math.max(limit, Math.abs(weight[i]!));
    if (bias) for (let i = 0; i < bias.length; i++) limit = Math.max(limit, Math.abs(bias[i]!));
  } else {
    const abs = new Float64Array(n);
    for (let i = 0; i < weight.length; i++) abs[i] = Math.abs(weight[i]!);
    if (bias) for (let i = 0; i < bias.length; i++) abs[weight.length + i] = Math.abs(bias[i]!);
    abs.sort();
    limit = quantile(abs, shiftQuantile);
  }
  // Float32 like torch: the limit is a float32 tensor value.
  const shift = -Math.floor(Math.fround(Math.log2(Math.fround(1 / Math.fround(limit)))));
  return Math.min(Math.max(shift, -15), 15) || 0; // no −0
}
