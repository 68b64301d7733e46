// The PyTorch engine's QAT forward on fixed weights equals the bit-exact simulator integer for
// integer (× 2^(6+b) for a wide output, × 128 for an 8-bit one): on the three conformance cases
// (real ai8x-synthesis outputs) and on small networks that together use every layer kind the
// engines train — conv1d, conv2d, linear with and without flatten, max and avg pooling (floor and
// rounding) fused into a layer or as pooling-only layers (1-D and 2-D), ReLU / none, 8/4/2/1-bit weights, with and without bias, wide and 8-bit outputs. Each
// case also equals the app's reference QAT forward (predictFloat), which the embedded engine matches
// (qat-equivalence.test.ts). Abs is the exception ai8x itself has: QAT rounds |x| (a tie −2.5 → 3),
// the accelerator takes |round(x)| (→ 2), so there the engines agree with each other and the
// simulator differs by at most one unit at ties.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Layer, Model, WeightBits } from '../ir/graph.ts';
import type { FloatLayerParams } from '../ir/float-params.ts';
import { inferLayerShapes } from '../ir/shapes.ts';
import { importAi8x } from '../formats/import-ai8x.ts';
import { readNpy } from '../formats/npy.ts';
import { quantizeModel } from '../quant/quantize.ts';
import { simulateBatch } from '../sim/simulate.ts';
import { seededRng } from '../data/random.ts';
import { forwardWithPytorch, type ComputeDevice } from './pytorch-engine.ts';
import { predictFloat } from './predict-float.ts';
import { CONFORMANCE_CASES, PYTHON, conformance, missing, need, skipNote } from '../../test/support/fixtures.ts';
import { withBitsEdits, withLayerBits } from '../ir/bits-policy.ts';

const reqs = [need.python(), need.numpy(), need.torch()];
/** bench/train-gpu.sh runs this file on a GPU with QATWB_TORCH_DEVICE=cuda. */
const DEVICE = (process.env.QATWB_TORCH_DEVICE ?? 'cpu') as ComputeDevice;

/** Float params that fake-quantize exactly onto a layer's integer weights and bias. */
function floatParamsOf(model: Model): FloatLayerParams[] {
  return model.layers.map((l) => {
    const scale = 2 ** (l.weightBits - 1) * 2 ** -l.outputShift;
    return {
      name: l.name,
      weight: Float32Array.from(l.params!.weights, (w) => w / scale),
      bias: l.params!.bias ? Float32Array.from(l.params!.bias, (b) => b / scale) : null,
    };
  });
}

function unitOf(model: Model): number {
  const last = model.layers[model.layers.length - 1]!;
  return last.outputWidth === 32 ? 2 ** (6 + last.weightBits) : 128;
}

/** Torch QAT forward, the app's reference QAT forward (predictFloat, what the embedded engine computes) and the simulator. */
async function threeWays(model: Model, fp: FloatLayerParams[], int8: Int8Array | Int32Array, n: number) {
  const x = Float32Array.from(int8, (v) => v / 128);
  const torch = await forwardWithPytorch(PYTHON, model, fp, x, n, { qat: true, device: DEVICE });
  const qat = { shifts: model.layers.map((l) => l.outputShift), bits: model.layers.map((l) => l.weightBits) };
  const unit = unitOf(model);
  const scaled = Array.from(torch, (v) => v * unit);
  expect(scaled.every(Number.isInteger)).toBe(true);
  expect(scaled).toEqual(Array.from(predictFloat(model, fp, x, n, { qat }), (v) => v * unit));
  return { scaled, sim: simulateBatch(model, int8).outputs };
}

async function expectEqualToSimulator(model: Model, fp: FloatLayerParams[], int8: Int8Array | Int32Array, n: number): Promise<Int32Array> {
  const { scaled, sim } = await threeWays(model, fp, int8, n);
  expect(scaled).toEqual(Array.from(sim));
  return sim;
}

describe.skipIf(missing(...reqs))(`PyTorch engine QAT forward ≡ simulator${skipNote(...reqs)}`, () => {
  for (const name of CONFORMANCE_CASES) {
    it(`conformance ${name}: every input file`, async () => {
      const sample = readNpy(readFileSync(conformance(name, 'sample.input.npy')), 'sample.input.npy');
      const { model } = importAi8x({
        checkpoint: readFileSync(conformance(name, 'checkpoint.pth.tar')),
        yaml: readFileSync(conformance(name, 'network.yaml'), 'utf8'),
        sample,
      });
      // The sample and a batch of random inputs in the int8 range.
      const per = sample.data.length;
      const rng = seededRng(9);
      const n = 5;
      const batch = new Int32Array(n * per);
      batch.set(Int32Array.from(sample.data as ArrayLike<number>, Number));
      for (let i = per; i < batch.length; i++) batch[i] = Math.floor(rng() * 256) - 128;
      const out = await expectEqualToSimulator(model, floatParamsOf(model), batch, n);
      const expected = readNpy(readFileSync(conformance(name, 'sample.expected.npy')), 'sample.expected.npy');
      expect(Array.from(out.subarray(0, expected.data.length))).toEqual(Array.from(expected.data as ArrayLike<number | bigint>, Number));
    });
  }

  const conv = (name: string, op: 'conv1d' | 'conv2d', cin: number, cout: number, k: number, pad: number, extra: Partial<Layer> = {}): Layer => ({
    name, op, inChannels: cin, outChannels: cout, kernel: op === 'conv1d' ? [k, 1] : [k, k], pad, stride: 1, flatten: false,
    activation: 'relu', weightBits: 8, outputShift: 0, outputWidth: 8, hasBias: true, ...extra,
  });
  const fc = (name: string, cin: number, cout: number, extra: Partial<Layer> = {}): Layer => ({
    name, op: 'linear', inChannels: cin, outChannels: cout, kernel: [1, 1], pad: 0, stride: 1, flatten: true,
    activation: 'none', weightBits: 8, outputShift: 0, outputWidth: 32, hasBias: true, ...extra,
  });
  /** A pooling-only layer (ai8x MaxPool/AvgPool module, IR op passthrough) of `c` channels. */
  const poolOnly = (name: string, c: number, kind: 'max' | 'avg', size: number, oneD: boolean): Layer => ({
    name, op: 'passthrough', inChannels: c, outChannels: c, kernel: [1, 1], pad: 0, stride: 1, flatten: false,
    activation: 'none', weightBits: 8, outputShift: 0, outputWidth: 8, hasBias: false,
    pool: { kind, size: oneD ? [size, 1] : [size, size], stride: oneD ? [size, 1] : [size, size] },
  });
  const net = (arch: string, channels: number, dims: number[], layers: Layer[], avgPoolRounding = false): Model => ({
    arch, dataset: 't', device: 'MAX78002', input: { channels, dims, format: 'HWC' }, layers, ...(avgPoolRounding ? { avgPoolRounding } : {}),
  });
  const kinds: [string, Model, Record<string, WeightBits>][] = [
    ['2-D: pads 0/1/2, max and avg pool, ReLU/none, no bias, 8/4/2/1-bit, wide 8-bit output', net('k2d', 3, [12, 12], [
      conv('c1', 'conv2d', 3, 8, 3, 1),
      conv('c2', 'conv2d', 8, 8, 3, 2, { pool: { kind: 'max', size: [2, 2], stride: [2, 2] }, hasBias: false }),
      conv('c3', 'conv2d', 8, 6, 3, 0, { pool: { kind: 'avg', size: [2, 2], stride: [2, 2] }, activation: 'none' }),
      conv('c4', 'conv2d', 6, 5, 1, 0),
      fc('fc', 5, 4),
    ]), { c2: 4, c3: 2, c4: 1 }],
    ['2-D: avg-pool rounding, 4-bit wide output', net('k2r', 2, [8, 8], [
      conv('c1', 'conv2d', 2, 6, 3, 1),
      conv('c2', 'conv2d', 6, 4, 3, 1, { pool: { kind: 'avg', size: [2, 2], stride: [2, 2] } }),
      fc('fc', 4, 3),
    ], true), { fc: 4 }],
    ['1-D: max/avg pool 2 and 4, 2-bit, 8-bit (non-wide) output after a linear without flatten', net('k1d', 2, [32], [
      conv('c1', 'conv1d', 2, 8, 5, 2),
      conv('c2', 'conv1d', 8, 8, 3, 1, { pool: { kind: 'max', size: [2, 1], stride: [2, 1] } }),
      conv('c3', 'conv1d', 8, 6, 3, 0, { pool: { kind: 'avg', size: [4, 1], stride: [4, 1] }, activation: 'none' }),
      conv('c4', 'conv1d', 6, 8, 1, 0, { pool: { kind: 'max', size: [2, 1], stride: [2, 1] } }),
      fc('fc1', 8, 6, { flatten: false, activation: 'relu', outputWidth: 8 }),
    ]), { c1: 2, c3: 4 }],
    ['2-D pooling-only layers: max, then avg (truncated toward zero) of signed data, between convolutions', net('kp2', 3, [16, 16], [
      conv('c1', 'conv2d', 3, 8, 3, 1),
      poolOnly('p1', 8, 'max', 2, false),
      conv('c2', 'conv2d', 8, 8, 3, 1, { activation: 'none' }),
      poolOnly('p2', 8, 'avg', 2, false),
      conv('c3', 'conv2d', 8, 6, 3, 1, { pool: { kind: 'max', size: [2, 2], stride: [2, 2] } }),
      fc('fc', 6, 4),
    ]), { c2: 4 }],
    ['2-D pooling-only avg with avg-pool rounding, right before the linear layer', net('kp2r', 2, [8, 8], [
      conv('c1', 'conv2d', 2, 6, 3, 1, { activation: 'none' }),
      poolOnly('p1', 6, 'avg', 2, false),
      poolOnly('p2', 6, 'max', 2, false),
      fc('fc', 6, 3),
    ], true), { c1: 2 }],
    ['1-D avg-pool rounding: the pool fused into a Conv1d truncates, the pooling-only avg pool rounds (ties of both signs)', net('k1r', 2, [32], [
      conv('c1', 'conv1d', 2, 8, 3, 1, { activation: 'none' }),
      conv('c2', 'conv1d', 8, 8, 1, 0, { pool: { kind: 'avg', size: [2, 1], stride: [2, 1] }, activation: 'none' }),
      poolOnly('p1', 8, 'avg', 2, true),
      conv('c3', 'conv1d', 8, 6, 3, 1, { outputWidth: 8 }),
    ], true), {}],
    ['1-D pooling-only layers: avg 4 then max 2, 8-bit output', net('kp1', 2, [64], [
      conv('c1', 'conv1d', 2, 8, 5, 2, { activation: 'none' }),
      poolOnly('p1', 8, 'avg', 4, true),
      conv('c2', 'conv1d', 8, 8, 3, 1),
      poolOnly('p2', 8, 'max', 2, true),
      conv('c3', 'conv1d', 8, 6, 3, 1, { outputWidth: 8 }),
    ]), { c3: 4 }],
  ];
  for (const [label, model, layerBits] of kinds) {
    it(`layer kinds — ${label}`, async () => {
      const rng = seededRng(31);
      const shapes = inferLayerShapes(model);
      const fp: FloatLayerParams[] = model.layers.flatMap((l, i) => {
        if (l.op === 'passthrough') return [];
        const k = l.op === 'linear' ? 1 : l.op === 'conv1d' ? l.kernel[0] : l.kernel[0] * l.kernel[1];
        const input = shapes[i]!.pooled;
        const cin = l.op === 'linear' && l.flatten ? input.channels * input.dims.reduce((a, b) => a * b, 1) : l.inChannels;
        const n = cin * l.outChannels * k;
        const bound = 2.5 / Math.sqrt(n / l.outChannels);
        return [{
          name: l.name,
          weight: Float32Array.from({ length: n }, () => (rng() * 2 - 1) * bound),
          bias: l.hasBias ? Float32Array.from({ length: l.outChannels }, () => (rng() * 2 - 1) * 0.3) : null,
        }];
      });
      const q = quantizeModel(withLayerBits(model, layerBits), fp);
      const per = model.input.channels * model.input.dims.reduce((a, b) => a * b, 1);
      const n = 8;
      const int8 = Int8Array.from({ length: n * per }, () => Math.floor(rng() * 256) - 128);
      const out = await expectEqualToSimulator(q.model, fp, int8, n);
      expect(new Set(out).size).toBeGreaterThan(n); // not a degenerate network
    });
  }

  it('abs: both engines agree; the simulator differs only by the ai8x tie rounding (≤ 1 unit)', async () => {
    const model = net('kabs', 2, [32], [conv('c1', 'conv1d', 2, 8, 5, 2, { activation: 'abs' })]);
    const rng = seededRng(31);
    const fp: FloatLayerParams[] = [{
      name: 'c1',
      weight: Float32Array.from({ length: 2 * 8 * 5 }, () => (rng() * 2 - 1) * 0.8),
      bias: Float32Array.from({ length: 8 }, () => (rng() * 2 - 1) * 0.3),
    }];
    for (const bits of [8, 2] as const) {
      const q = quantizeModel(withBitsEdits(model, { bits }), fp);
      const int8 = Int8Array.from({ length: 4 * 64 }, () => Math.floor(rng() * 256) - 128);
      const { scaled, sim } = await threeWays(q.model, fp, int8, 4);
      const diffs = scaled.map((v, i) => Math.abs(v - sim[i]!));
      expect(Math.max(...diffs)).toBeLessThanOrEqual(1);
      expect(diffs.filter((d) => d === 0).length).toBeGreaterThan(diffs.length * 0.7);
    }
  });
});
