// Built-in network definitions (no parameters): the ai8x reference MNIST nets used by the
// conformance fixtures and the built-in example, and a small 1-D ECG classifier.
import type { Activation, Device, Layer, Model, Pool } from './graph.ts';

interface LayerSpec {
  name: string;
  op: Layer['op'];
  in: number;
  out: number;
  k?: number;
  pad?: number;
  pool?: Pool;
  flatten?: boolean;
  activation?: Activation;
  bias?: boolean;
  wide?: boolean;
}

function layer(s: LayerSpec): Layer {
  const oneD = s.op === 'conv1d';
  const k = s.op === 'linear' ? 1 : (s.k ?? 3);
  return {
    name: s.name,
    op: s.op,
    inChannels: s.in,
    outChannels: s.out,
    kernel: oneD ? [k, 1] : [k, k],
    pad: s.pad ?? 0,
    stride: 1,
    ...(s.pool ? { pool: s.pool } : {}),
    flatten: s.flatten ?? false,
    activation: s.activation ?? (s.wide ? 'none' : 'relu'),
    weightBits: 8,
    outputShift: 0,
    outputWidth: s.wide ? 32 : 8,
    hasBias: s.bias ?? false,
  };
}

const pool2d = (kind: Pool['kind'], n: number): Pool => ({ kind, size: [n, n], stride: [n, n] });
const pool1d = (kind: Pool['kind'], n: number): Pool => ({ kind, size: [n, 1], stride: [n, 1] });

/** ai85net5 (ai8x-training): 4 Conv2d 3x3 + Linear, MNIST 1x28x28, CHW input, 32-bit output. */
export function ai85net5(device: Device = 'MAX78002'): Model {
  return {
    arch: 'ai85net5',
    dataset: 'MNIST',
    device,
    input: { channels: 1, dims: [28, 28], format: 'CHW' },
    layers: [
      layer({ name: 'conv1', op: 'conv2d', in: 1, out: 60, pad: 1 }),
      layer({ name: 'conv2', op: 'conv2d', in: 60, out: 60, pad: 2, pool: pool2d('max', 2) }),
      layer({ name: 'conv3', op: 'conv2d', in: 60, out: 56, pad: 1, pool: pool2d('max', 2) }),
      layer({ name: 'conv4', op: 'conv2d', in: 56, out: 12, pad: 1, pool: pool2d('avg', 2) }),
      layer({ name: 'fc', op: 'linear', in: 12, out: 10, flatten: true, bias: true, wide: true }),
    ],
  };
}

/** ai85netextrasmall: 3 Conv2d 3x3 (8 channels) + Linear, MNIST. */
export function ai85netExtraSmall(device: Device = 'MAX78002'): Model {
  return {
    arch: 'ai85netextrasmall',
    dataset: 'MNIST',
    device,
    input: { channels: 1, dims: [28, 28], format: 'CHW' },
    layers: [
      layer({ name: 'conv1', op: 'conv2d', in: 1, out: 8, pad: 1 }),
      layer({ name: 'conv2', op: 'conv2d', in: 8, out: 8, pad: 2, pool: pool2d('max', 2) }),
      layer({ name: 'conv3', op: 'conv2d', in: 8, out: 8, pad: 1, pool: pool2d('max', 4) }),
      layer({ name: 'fc', op: 'linear', in: 8, out: 10, flatten: true, bias: true, wide: true }),
    ],
  };
}

/** A 1-D heartbeat classifier on 1x`length` signals (like conformance ecg1d-mixed, length 512). */
export function ecgNet(device: Device = 'MAX78002', length = 512, classes = 5): Model {
  return {
    arch: 'ai87ecgnet',
    dataset: 'ecg',
    device,
    input: { channels: 1, dims: [length], format: 'HWC' },
    layers: [
      layer({ name: 'conv1', op: 'conv1d', in: 1, out: 16, k: 5, pad: 2, bias: true }),
      layer({ name: 'conv2', op: 'conv1d', in: 16, out: 32, k: 5, pad: 2, bias: true, pool: pool1d('max', 4) }),
      layer({ name: 'conv3', op: 'conv1d', in: 32, out: 64, k: 3, pad: 1, bias: true, pool: pool1d('max', 4) }),
      layer({ name: 'conv4', op: 'conv1d', in: 64, out: 64, k: 3, pad: 1, bias: true, pool: pool1d('avg', 4) }),
      layer({ name: 'fc', op: 'linear', in: 64, out: classes, flatten: true, bias: true, wide: true }),
    ],
  };
}

export const zoo = { ai85net5, ai85netextrasmall: ai85netExtraSmall, ecgnet: ecgNet } as const;

/** The per-sample shape and class count of a data set, as a built-in network adapts to it. */
export interface DataShape { channels: number; dims: readonly number[]; classes: number }

/**
 * A built-in network shaped for the data it trains on: input channels and size, output classes.
 * Training and the Model step's plan both use this, so the plan shows the network that is trained
 * and exported. Returns null when the network cannot take data of this rank (ecgnet is 1-D, the
 * MNIST nets 2-D).
 */
export function zooForData(arch: keyof typeof zoo, device: Device, data: DataShape): Model | null {
  const oneD = arch === 'ecgnet';
  if (data.dims.length !== (oneD ? 1 : 2)) return null;
  const model = oneD ? ecgNet(device, data.dims[0]!, data.classes) : zoo[arch](device);
  model.input = { ...model.input, channels: data.channels, dims: [...data.dims] };
  model.layers[0] = { ...model.layers[0]!, inChannels: data.channels };
  const last = model.layers.length - 1;
  model.layers[last] = { ...model.layers[last]!, outChannels: data.classes };
  return model;
}
