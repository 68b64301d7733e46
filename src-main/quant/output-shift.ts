// Per-layer output shift during QAT (ai8x OutputShift, max78002.md §1.7): the power-of-two scale
// that lets weights use the full [−1, 1) grid; recomputed from the float weights, never learned.
import { absQuantile } from './fixed-point.ts';

/**
 * out_shift = −floor(log2(1/limit)) clamped to [−15, 15], limit = quantile(|w ∪ b|, shiftQuantile).
 * All-zero parameters give −15 (log2(1/0) = ∞, clamped like torch). Evaluated in float32 like
 * torch, so values just below a power of two round the same way.
 */
export function outputShift(weight: ArrayLike<number>, bias: ArrayLike<number> | null, shiftQuantile = 1): number {
  const limit = absQuantile(weight, bias, shiftQuantile);
  // Float32 like torch: the limit is a float32 tensor value.
  const shift = -Math.floor(Math.fround(Math.log2(Math.fround(1 / Math.fround(limit)))));
  return Math.min(Math.max(shift, -15), 15) || 0; // no −0
}
