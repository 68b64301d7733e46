// The accelerator's output stage (max78002.md §5.4–5.6): 8-bit output y = floor(0.5 + acc·2^s/128)
// with s = output_shift + YAML shift + (8 − weight bits), clamped to int8 (the implicit Hardtanh),
// then ReLU → [0, 127] or Abs → |y| ≤ 127. 32-bit output is the raw accumulator.
// Exactness: |acc| < 2^31 and 2^(s−7) is a power of two, so acc·2^(s−7) is exact in float64 for
// any |s| ≤ 22, and floor(0.5 + x) is then the exact round-half-up. For s ≤ 7 the same value is
// (acc + 2^(r−1)) >> r with r = 7 − s (arithmetic shift = floor division), all in int32: |acc| stays
// below 2^29 for any legal layer (≤ 16,384 products of int8 × int8 plus β·128), so no overflow.
// One loop per activation keeps the hot loop free of branches on the activation.
import type { Activation } from '../ir/graph.ts';

export function requantize(acc: Int32Array, dst: Int32Array, n: number, shift: number, activation: Activation): void {
  if (shift <= 7) return requantizeShiftRight(acc, dst, n, 7 - shift, activation);
  const scale = 2 ** (shift - 7);
  if (activation === 'relu') {
    for (let i = 0; i < n; i++) {
      const y = Math.floor(0.5 + acc[i]! * scale);
      dst[i] = y > 127 ? 127 : y < 0 ? 0 : y;
    }
  } else if (activation === 'abs') {
    for (let i = 0; i < n; i++) {
      const y = Math.floor(0.5 + acc[i]! * scale);
      // Clamp to int8 first (|−128| → 128 → 127), as the hardware does.
      dst[i] = y >= 127 || y <= -127 ? 127 : y < 0 ? -y : y;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const y = Math.floor(0.5 + acc[i]! * scale);
      dst[i] = y > 127 ? 127 : y < -128 ? -128 : y;
    }
  }
}

function requantizeShiftRight(acc: Int32Array, dst: Int32Array, n: number, r: number, activation: Activation): void {
  const half = r > 0 ? 1 << (r - 1) : 0;
  if (activation === 'relu') {
    for (let i = 0; i < n; i++) {
      const y = (acc[i]! + half) >> r;
      dst[i] = y > 127 ? 127 : y < 0 ? 0 : y;
    }
  } else if (activation === 'abs') {
    for (let i = 0; i < n; i++) {
      const y = (acc[i]! + half) >> r;
      dst[i] = y >= 127 || y <= -127 ? 127 : y < 0 ? -y : y;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const y = (acc[i]! + half) >> r;
      dst[i] = y > 127 ? 127 : y < -128 ? -128 : y;
    }
  }
}
