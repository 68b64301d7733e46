// The accelerator's output stage (max78002.md §5.4–5.6): 8-bit output y = floor(0.5 + acc·2^s/128)
// with s = output_shift + YAML shift + (8 − weight bits), clamped to int8 (the implicit Hardtanh),
// then ReLU → [0, 127] or Abs → |y| ≤ 127. 32-bit output is the raw accumulator.
// Exactness: |acc| < 2^31 and 2^(s−7) is a power of two, so acc·2^(s−7) is exact in float64 for
// any |s| ≤ 22, and floor(0.5 + x) is then the exact round-half-up. One loop per activation keeps
// the hot loop free of branches on the activation.
import type { Activation } from '../ir/graph.ts';

export function requantize(acc: Int32Array, dst: Int32Array, n: number, shift: number, activation: Activation): void {
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
