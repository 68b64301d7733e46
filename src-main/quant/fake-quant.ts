// The ai8x fake-quantization rules as plain functions over numbers and typed arrays
// (max78002.md §1.8, §1.9): the reference the tfjs training ops and the float predictor follow.
import type { WeightBits } from '../ir/graph.ts';

/** Largest value of a b-bit grid: (2^(b−1) − 1) / 2^(b−1); 1-bit → 0. */
export function gridMax(bits: number): number {
  const scale = 2 ** (bits - 1);
  return (scale - 1) / scale;
}

/** ai8x Quantize(bits) then Clamp: floor(x·2^(b−1) + 0.5) / 2^(b−1), clamped to [−1, gridMax(b)]. */
export function quantizeValue(x: number, bits: number): number {
  const scale = 2 ** (bits - 1);
  const q = Math.floor(x * scale + 0.5) / scale;
  return Math.min(Math.max(q, -1), gridMax(bits));
}

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
  const q = Math.floor(x * 16384 + 0.5) / 16384;
  return Math.min(Math.max(q, -32768), 32768);
}

/** Average-pool result in QAT (FloorQat): floor at 1/128, then clamp [−1, 127/128]. */
export function quantizeAvgPool(x: number, rounding = false): number {
  const scaled = x * 128;
  // torch.round rounds half to even; avg-pool rounding mode only.
  const q = rounding ? roundHalfEven(scaled) : Math.floor(scaled);
  return Math.min(Math.max(q / 128, -1), 127 / 128);
}

function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
