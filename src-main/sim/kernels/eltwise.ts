// Element-wise combination of operands (add, sub, or, xor) in integers, clipped to int8 with no
// shift (max78002.md §5.2). Operands are equal-shape planar int8 data.
import type { EltwiseOp } from '../../ir/graph.ts';

export function eltwise(op: EltwiseOp, operands: readonly Int32Array[], dst: Int32Array): void {
  const n = dst.length;
  const first = operands[0]!;
  for (let i = 0; i < n; i++) {
    let v = first[i]!;
    for (let k = 1; k < operands.length; k++) {
      const x = operands[k]![i]!;
      if (op === 'add') v += x;
      else if (op === 'sub') v -= x;
      else if (op === 'or') v |= x;
      else v ^= x;
    }
    dst[i] = v > 127 ? 127 : v < -128 ? -128 : v;
  }
}
