// The Model step's facet of every op: how the network builder offers it, starts a new layer of it
// and edits it, and how the graph and side panel describe it. A Record over OpKind, so a new op
// does not compile until the Model step knows it (test/op-table.test.ts).
import type { Layer, OpKind } from '@ir/graph.ts';
import type { StoredLayer } from '@ir/schema.ts';

export interface ModelOp {
  /** Label in the builder's operation menus; null: not offered (a loaded network may still hold it). */
  label: string | null;
  /** Prefix of a new layer's name. */
  namePrefix: string;
  /** A new layer's fields over the weightless defaults (channels in = out, kernel 1x1, no activation). */
  start(ctx: { oneD: boolean; at: number }): Partial<Layer>;
  /** Fields set when the builder switches an existing layer to this op. */
  switchTo: Partial<Layer>;
  /** The kernel the builder sets for a size k (with pad editable too); null: no kernel to edit. */
  kernel: ((k: number) => [number, number]) | null;
  /** Which other attributes the builder edits. */
  activation: boolean;
  batchNorm: boolean;
  flatten: boolean;
  /** The op with its kernel (and pad) as the graph node and side panel write it. */
  text(l: StoredLayer): string;
}

const square = (k: number): [number, number] => [k, k];
const padText = (l: StoredLayer): string => (l.pad ? ` · pad ${l.pad}` : '');
const convStart = { pad: 1, outChannels: 16, activation: 'relu', hasBias: true } as const;
const kernel2 = (l: StoredLayer): string => `${l.kernel[0]}×${l.kernel[1]}`;

function eltwise(op: OpKind, label: string | null): ModelOp {
  return {
    label, namePrefix: op, kernel: null, activation: false, batchNorm: false, flatten: false, switchTo: {},
    start: ({ at }) => ({ operands: 2, inputs: [Math.max(-1, at - 2), at - 1] }),
    text: (l) => `${l.op}${l.operands ? ` of ${l.operands}` : ''}`,
  };
}

export const MODEL_OPS: Record<OpKind, ModelOp> = {
  conv1d: {
    label: 'Conv1d', namePrefix: 'conv', kernel: (k) => [k, 1], activation: true, batchNorm: true, flatten: false,
    start: () => ({ ...convStart, kernel: [3, 1] }),
    switchTo: { kernel: [3, 1] },
    text: (l) => `conv1d k${l.kernel[0]}${padText(l)}`,
  },
  conv2d: {
    label: 'Conv2d', namePrefix: 'conv', kernel: square, activation: true, batchNorm: true, flatten: false,
    start: () => ({ ...convStart, kernel: [3, 3] }),
    switchTo: { kernel: [3, 3] },
    text: (l) => `conv2d ${kernel2(l)}${padText(l)}`,
  },
  convtranspose2d: {
    label: 'ConvTranspose2d', namePrefix: 'conv', kernel: square, activation: true, batchNorm: false, flatten: false,
    start: () => ({ ...convStart, kernel: [3, 3], stride: 2 }),
    switchTo: {},
    text: (l) => `convtranspose2d ${kernel2(l)}${padText(l)}`,
  },
  linear: {
    label: 'Linear', namePrefix: 'fc', kernel: null, activation: true, batchNorm: false, flatten: true,
    start: () => ({ outChannels: 10, hasBias: true, flatten: true }),
    switchTo: { kernel: [1, 1], pad: 0, flatten: true },
    text: (l) => (l.flatten ? 'flatten → linear' : 'linear'),
  },
  passthrough: {
    label: 'Pooling only', namePrefix: 'pool', kernel: null, activation: false, batchNorm: false, flatten: false,
    start: ({ oneD }) => ({ pool: { kind: 'max', size: oneD ? [2, 1] : [2, 2], stride: oneD ? [2, 1] : [2, 2] } }),
    switchTo: {},
    text: (l) => l.op,
  },
  add: eltwise('add', 'Add (residual)'),
  sub: eltwise('sub', null),
  or: eltwise('or', null),
  xor: eltwise('xor', null),
};

/** The ops the builder's menus offer, in menu order. */
export const BUILDER_OPS: { op: OpKind; label: string }[] = (Object.keys(MODEL_OPS) as OpKind[]).flatMap((op) => {
  const { label } = MODEL_OPS[op];
  return label ? [{ op, label }] : [];
});
