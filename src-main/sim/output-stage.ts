// The accelerator's output stage (max78002.md §5.4–5.6): 8-bit output y = floor(0.5 + acc·2^s/128)
// with s = output_shift + YAML shift + (8 − weight bits), clamped to int8 (the implicit Hardtanh),
// then ReLU → [0, 127] or Abs → |y| ≤ 127. 32-bit output is the raw accumulator.
// Exactness: |acc| < 2^31 and 2^(s−7) is a power of two, so acc·2^(s−7) is exact in float64 for
// any |s| ≤ 22, and floor(0.5 + x) is then the exact round-half-up.
import type { Activation } from '../ir/graph.ts';

export function requantize(acc: Int32Array, dst: Int32Array, n: number, shift: number, activation: Activation): void {
  const scale = 2 ** (shift - 7);
  const lo = activation === 'relu' ? 0 : -128;
  for (let i = 0; i < n; i++) {
    let y = Math.floor(0.5 + acc[i]! * scale);
    if (y > 127) y = 127; else if (y < lo) y = lo;
    if (activation === 'abs' && y < 0) y = y === -128 ? 127 : -y;
    dst[i] = y;
  }
}
