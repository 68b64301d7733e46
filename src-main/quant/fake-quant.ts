// The ai8x fake-quantization rules as plain functions over numbers and typed arrays
// (max78002.md §1.8, §1.9): the reference the tfjs training ops and the float predictor follow.
import type { WeightBits } from '../ir/graph.ts';
import { ACTIVATION, quantizeValue, roundHalfAway, WIDE_OUTPUT } from './fixed-point.ts';

/** Quantize a weight or bias array of a layer with output shift `shift` (weights scaled by 2^−shift). */
export function quantizeParams(values: Float32Array, bits: WeightBits, shift: number): Float32Array {
  const out = new Float32Array(values.length);
  const weightScale = 2 ** -shift;
  for (let i = 0; i < values.length; i++) out[i] = quantizeValue(values[i]! * weightScale, bits);
  return out;
}

/** Activation fake quantization of a non-wide layer: q8 then clamp [−1, 127/128]. */
export function quantizeActivation(x: number): number {
  return quantizeValue(x, 8);
}

/** Wide (32-bit) output in QAT: rounded to 2^−14, clamped to ±2^15. */
export function quantizeWide(x: number): number {
  const q = Math.floor(x * WIDE_OUTPUT.step + 0.5) / WIDE_OUTPUT.step;
  return Math.min(Math.max(q, WIDE_OUTPUT.lo), WIDE_OUTPUT.hi);
}

/**
 * Average-pool result in QAT (ai8x FloorQat): truncated toward zero at 1/128 (floor for positive, ceil
 * for negative means, as the accelerator and the simulator compute), or rounded where avgPoolRounds;
 * then clamp [−1, 127/128].
 */
export function quantizeAvgPool(x: number, rounding = false): number {
  const scaled = x * ACTIVATION.step;
  // Rounding (avgPoolRounds) half away from zero, as the izer and the simulator compute it.
  const q = rounding ? roundHalfAway(scaled) : Math.trunc(scaled);
  return Math.min(Math.max(q / ACTIVATION.step, ACTIVATION.lo), ACTIVATION.hi);
}
