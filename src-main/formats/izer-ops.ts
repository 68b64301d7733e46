// The izer facet of every op (ai8x-synthesis, max78002.md §2, §3): how the network YAML names it,
// which of its own keys the YAML carries, what data it needs, and how its weights sit in the
// quantized checkpoint. A Record over OpKind, so a new op does not compile until it says how the
// izer sees it. Read by the YAML reader and writer, the checkpoint writer and the ai8x import.
import type { EltwiseOp, Layer, OpKind } from '../ir/graph.ts';
import { opSpecs } from '../ir/ops/registry.ts';

/** How an op's `<layer>.op.weight` tensor sits in the checkpoint. */
export interface IzerWeights {
  /** Rank of the tensor; the izer tells Linear, Conv1d and Conv2d apart by it. */
  rank: 2 | 3 | 4;
  /** PyTorch shape of the layer's `n` weights. */
  shape(layer: Layer, n: number): number[];
  /** Channels from a checkpoint shape; `in: null` where the second axis counts input features (Linear). */
  channels(shape: readonly number[]): { in: number | null; out: number };
  /** Kernel [kh, kw] from a checkpoint shape. */
  kernel(shape: readonly number[]): [number, number];
  /** kernel_size the izer assumes when the YAML gives none, and how a message says so. */
  defaultKernel: [number, number];
  defaultKernelText: string;
  /** The layer's pad and stride from the YAML values (fixed where the izer fixes them). */
  pad(given: number | undefined): number;
  stride(given: number | undefined): number;
}

export interface IzerOp {
  /** `operation` as the writer spells it, other spellings the reader accepts (lower case), and the op in messages. */
  name: string;
  aliases: readonly string[];
  label: string;
  /** Data the op needs: 1 = (C, L), 2 = (C, H, W), null = any. */
  dims: 1 | 2 | null;
  /** Does the izer accept `kernel_size` on this op (it refuses it on Linear/MLP). */
  kernelSizeKey: boolean;
  /** The op's own YAML keys, in the order they are written. */
  keys(layer: Layer): [string, string | number][];
  /** The checkpoint weight layout; null for ops without weights. */
  weights: IzerWeights | null;
}

const k2 = (l: Layer): string => `${l.kernel[0]}x${l.kernel[1]}`;
const dilation = (l: Layer): [string, number][] => (l.dilation && l.dilation !== 1 ? [['dilation', l.dilation]] : []);
const keepPad = (given: number | undefined): number => given ?? 1;
const conv = (shape: readonly number[]): { in: number; out: number } => ({ in: shape[1]!, out: shape[0]! });
const noKeys = (): [string, string | number][] => [];

function weightless(name: string, aliases: readonly string[] = [], label = name): IzerOp {
  return { name, aliases, label, dims: null, kernelSizeKey: true, keys: noKeys, weights: null };
}

// Only convolutions write kernel_size and pad: the izer refuses `kernel_size` on a Linear/MLP layer
// and fixes pad 0 for it and for passthrough / element-wise layers. ConvTranspose2d's stride is
// always 2, and the izer refuses any `stride` key on a pooling layer, so stride is never written.
// The order of the entries is the order the reader lists the operations in its error message.
export const IZER_OPS: Record<OpKind, IzerOp> = {
  conv1d: {
    name: 'Conv1d', aliases: [], label: 'Conv1d', dims: 1, kernelSizeKey: true,
    keys: (l) => [['kernel_size', l.kernel[0]], ['pad', l.pad], ...dilation(l)],
    weights: {
      rank: 3,
      shape: (l) => [l.outChannels, l.inChannels, l.kernel[0]],
      channels: conv,
      kernel: (s) => [s[2]!, 1],
      defaultKernel: [9, 1], defaultKernelText: '9 for Conv1d',
      pad: keepPad, stride: (g) => g ?? 1,
    },
  },
  conv2d: {
    name: 'Conv2d', aliases: [], label: 'Conv2d', dims: 2, kernelSizeKey: true,
    keys: (l) => [['kernel_size', k2(l)], ['pad', l.pad], ...dilation(l)],
    weights: {
      rank: 4,
      shape: (l) => [l.outChannels, l.inChannels, l.kernel[0], l.kernel[1]],
      channels: conv,
      kernel: (s) => [s[2]!, s[3]!],
      defaultKernel: [3, 3], defaultKernelText: '3x3',
      pad: keepPad, stride: (g) => g ?? 1,
    },
  },
  convtranspose2d: {
    name: 'ConvTranspose2d', aliases: [], label: 'ConvTranspose2d', dims: 2, kernelSizeKey: true,
    keys: (l) => [['kernel_size', k2(l)], ['pad', l.pad]],
    weights: {
      rank: 4,
      // PyTorch keeps a transposed convolution's weights [in][out][kh][kw].
      shape: (l) => [l.inChannels, l.outChannels, l.kernel[0], l.kernel[1]],
      channels: (s) => ({ in: s[0]!, out: s[1]! }),
      kernel: (s) => [s[2]!, s[3]!],
      defaultKernel: [3, 3], defaultKernelText: '3x3',
      pad: keepPad, stride: (g) => g ?? 2,
    },
  },
  passthrough: weightless('None', ['passthrough'], 'None/Passthrough'),
  linear: {
    name: 'MLP', aliases: ['linear', 'fc'], label: 'Linear/FC/MLP', dims: null, kernelSizeKey: false, keys: noKeys,
    weights: {
      rank: 2,
      // With flatten the input features are C·H·W, which the layer alone does not know: derive them.
      shape: (l, n) => [l.outChannels, l.outChannels > 0 ? n / l.outChannels : 0],
      channels: (s) => ({ in: null, out: s[0]! }),
      kernel: () => [1, 1],
      defaultKernel: [1, 1], defaultKernelText: '1x1',
      pad: () => 0, stride: (g) => g ?? 1,
    },
  },
  add: weightless('Add'),
  sub: weightless('Sub'),
  xor: weightless('Xor', ['bitwisexor']),
  or: weightless('Or', ['bitwiseor']),
};

const kinds = Object.keys(IZER_OPS) as OpKind[];

/** `operation` spellings (lower case) to ops. */
export const OPERATION_NAMES: ReadonlyMap<string, OpKind> = new Map(
  kinds.flatMap((k) => [IZER_OPS[k].name, ...IZER_OPS[k].aliases].map((s) => [s.toLowerCase(), k] as const)),
);

const isEltwiseOp = (k: OpKind): k is EltwiseOp => opSpecs[k].elementwise;

/** `eltwise` spellings (lower case) to element-wise ops. */
export const ELTWISE_NAMES: ReadonlyMap<string, EltwiseOp> = new Map(
  kinds.filter(isEltwiseOp).flatMap((k) => [IZER_OPS[k].name, ...IZER_OPS[k].aliases].map((s) => [s.toLowerCase(), k] as const)),
);

/** "A, B or C" over the ops' labels. */
export function labelList(ops: readonly OpKind[]): string {
  const labels = ops.map((k) => IZER_OPS[k].label);
  return labels.length > 1 ? `${labels.slice(0, -1).join(', ')} or ${labels[labels.length - 1]}` : labels[0] ?? '';
}

export const OPERATION_LABELS = labelList(kinds);
export const ELTWISE_LABELS = labelList(kinds.filter(isEltwiseOp));
