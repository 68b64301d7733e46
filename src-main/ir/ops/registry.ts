// The list of IR ops: maps each OpKind to its spec. A Record over OpKind, so a new kind does not
// compile without a spec; the other facets (simulator kernel, float forward, ONNX and izer
// lowering, planner rule, training layer) are Records over OpKind in their own folders, so the
// compiler lists each one a new op still lacks (test/op-table.test.ts).
import type { OpKind } from '../graph.ts';
import type { OpSpec } from './op-spec.ts';
import { conv1d } from './conv1d.ts';
import { conv2d } from './conv2d.ts';
import { convtranspose2d } from './convtranspose2d.ts';
import { linear } from './linear.ts';
import { passthrough } from './passthrough.ts';
import { eltwise } from './eltwise.ts';

export const opSpecs: Record<OpKind, OpSpec> = {
  conv1d, conv2d, convtranspose2d, linear, passthrough,
  add: eltwise, sub: eltwise, or: eltwise, xor: eltwise,
};

export function opSpec(kind: OpKind): OpSpec {
  const s = opSpecs[kind];
  if (!s) throw new Error(`Unknown op kind "${kind}".`);
  return s;
}

/** Does a layer of this op carry weights (unknown names: no). */
export function opHasWeights(kind: string): boolean {
  return Object.hasOwn(opSpecs, kind) && opSpecs[kind as OpKind].hasWeights;
}

/** An element-wise layer: a stand-alone element-wise op, or any op with a fused `eltwise` before it. */
export function isElementWise(layer: { op: string; eltwise?: unknown }): boolean {
  return layer.eltwise !== undefined || (Object.hasOwn(opSpecs, layer.op) && opSpecs[layer.op as OpKind].elementwise);
}
