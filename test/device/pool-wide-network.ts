// Test network for layer searches beyond the conformance fixtures: 1-, 2- and 4-bit layers, two
// pooling-only layers (op none + max/avg pool) and a wide last layer (100 int32 outputs), exported
// through the same writer as training (planner placement, izer checkpoint, YAML, ONNX).
import type { Layer, Model, WeightBits } from '../../src-main/ir/graph.ts';
import { writeExports } from '../../src-main/training/export.ts';
import { floatParamsFromInteger } from './float-from-integer.ts';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const base = { kernel: [1, 1] as [number, number], pad: 0, stride: 1, flatten: false, activation: 'relu' as const, weightBits: 8 as WeightBits, outputShift: 0, outputWidth: 8 as const, hasBias: false };

export function poolWideModel(): Model {
  const r = rng(2024);
  const weights = (n: number, bits: WeightBits) => {
    // Symmetric draws keep ReLU layers alive; 1-bit weights take −1 or 0.
    const hi = 2 ** (bits - 1) - 1;
    return Int8Array.from({ length: n }, () => (bits === 1 ? (r() < 0.5 ? -1 : 0) : -hi + Math.floor(r() * (2 * hi + 1))));
  };
  const bias = (n: number) => Int32Array.from({ length: n }, () => Math.floor(r() * 16) - 8);
  const conv = (name: string, inC: number, outC: number, k: number, bits: WeightBits, outputShift: number, extra: Partial<Layer> = {}): Layer => ({
    ...base, name, op: 'conv2d', inChannels: inC, outChannels: outC, kernel: [k, k], pad: k === 3 ? 1 : 0, weightBits: bits, outputShift, hasBias: true,
    params: { weights: weights(outC * inC * k * k, bits), bias: bias(outC) }, ...extra,
  });
  const layers: Layer[] = [
    conv('conv1', 1, 8, 3, 1, -3),
    { ...base, name: 'pool1', op: 'passthrough', inChannels: 8, outChannels: 8, activation: 'none', pool: { kind: 'max', size: [2, 2], stride: [2, 2] } },
    conv('conv2', 8, 16, 3, 2, -1, { pool: { kind: 'avg', size: [2, 2], stride: [2, 2] } }),
    { ...base, name: 'pool2', op: 'passthrough', inChannels: 16, outChannels: 16, activation: 'none', pool: { kind: 'avg', size: [2, 2], stride: [2, 2] } },
    conv('conv3', 16, 32, 1, 4, -1),
    {
      ...base, name: 'fc', op: 'linear', inChannels: 32, outChannels: 100, flatten: true, activation: 'none', outputWidth: 32, hasBias: true,
      params: { weights: weights(100 * 32 * 3 * 3, 8), bias: bias(100) },
    },
  ];
  return { arch: 'poolwidenet', dataset: 'MNIST', device: 'MAX78002', input: { channels: 1, dims: [28, 28], format: 'CHW' }, layers };
}

/** Writes the export (checkpoint.pth.tar, network.yaml, model.onnx, …) into dir. */
export async function writePoolWideExport(dir: string, sample: Int8Array): Promise<void> {
  const model = poolWideModel();
  await writeExports(dir, { model, floatParams: floatParamsFromInteger(model), sample, epoch: 1, quantization: {} });
}
