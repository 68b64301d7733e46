// The integer model we export, run through the bit-exact simulator, equals the QAT float forward of
// the training engine (tfjs) and predictFloat({qat}) × 2^(6+b) (2^14 for an 8-bit last layer), integer for integer: quantize.ts,
// the engine's fake quantization and the simulator agree.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ai85net5, ecgNet } from '../ir/zoo.ts';
import type { Model, WeightBits } from '../ir/graph.ts';
import type { FloatLayerParams } from '../ir/float-params.ts';
import { quantizeModel } from '../quant/quantize.ts';
import { seededRng } from '../data/random.ts';
import { initBackend } from './backend.ts';
import { disposeVars, forward, gatherBatch, planNetwork, varsFromParams } from './network.ts';
import { simulateBatch } from '../sim/simulate.ts';
import { predictFloat } from './predict-float.ts';
import { withLayerBits } from '../ir/bits-policy.ts';

function params(model: Model, seed: number): FloatLayerParams[] {
  const rng = seededRng(seed);
  return planNetwork(model, () => false).filter((p) => p.hasWeights).map((p) => {
    const n = p.weightShape.reduce((a, b) => a * b, 1);
    const bound = 2 / Math.sqrt(n / p.layer.outChannels);
    return {
      name: p.layer.name,
      weight: Float32Array.from({ length: n }, () => (rng() * 2 - 1) * bound),
      bias: p.layer.hasBias ? Float32Array.from({ length: p.layer.outChannels }, () => (rng() * 2 - 1) * 0.2) : null,
    };
  });
}

async function qatForward(model: Model, fp: FloatLayerParams[], x: Float32Array, n: number): Promise<Float32Array> {
  await initBackend();
  const plans = planNetwork(model, () => false);
  const vars = varsFromParams(plans, fp);
  const qat = { shifts: model.layers.map((l) => l.outputShift), bits: model.layers.map((l) => l.weightBits) };
  const shape = plans[0]!.inShape;
  const out = tf.tidy(() => forward(plans, vars, tf.tensor4d(gatherBatch(x, Int32Array.from({ length: n }, (_, i) => i), shape), [n, ...shape]), { training: false, qat, avgPoolRounding: model.avgPoolRounding }));
  const data = (await out.data()) as Float32Array;
  out.dispose();
  disposeVars(vars);
  return data;
}

/** Avg pools of size 2 over signed data (no activation), so means on .5 of both signs occur; avgPoolRounding on. */
function roundingNet(oneD: boolean): Model {
  const op = oneD ? 'conv1d' : 'conv2d';
  const size: [number, number] = oneD ? [2, 1] : [2, 2];
  const base = { pad: 1, stride: 1, flatten: false, weightBits: 8, outputShift: 0, outputWidth: 8, hasBias: true } as const;
  const k: [number, number] = oneD ? [3, 1] : [3, 3];
  return {
    arch: oneD ? 'r1d' : 'r2d', dataset: 't', device: 'MAX78002', avgPoolRounding: true,
    input: { channels: 2, dims: oneD ? [32] : [8, 8], format: 'HWC' },
    layers: [
      { ...base, name: 'c1', op, inChannels: 2, outChannels: 8, kernel: k, activation: 'none' },
      { ...base, name: 'c2', op, inChannels: 8, outChannels: 8, kernel: k, activation: 'none', pool: { kind: 'avg', size, stride: size } },
      { ...base, name: 'p', op: 'passthrough', inChannels: 8, outChannels: 8, kernel: [1, 1], pad: 0, activation: 'none', hasBias: false, pool: { kind: 'avg', size, stride: size } },
      { ...base, name: 'fc', op: 'linear', inChannels: 8, outChannels: 6, kernel: [1, 1], pad: 0, flatten: true, activation: 'none', outputWidth: 32 },
    ],
  };
}

describe('exported integer model ≡ QAT float model', () => {
  const cases: [string, Model, Record<string, WeightBits>][] = [
    ['ai85net5, 8-bit', ai85net5(), {}],
    ['ecgnet 1-D, mixed 8/4/2-bit', ecgNet('MAX78002', 128, 5), { conv2: 4, conv3: 2, conv4: 4 }],
    ['ecgnet 1-D, 4-bit last layer', ecgNet('MAX78002', 64, 3), { fc: 4 }],
    // The izer rounds a pooling-only layer's average (half away from zero) but never a Conv1d's.
    ['1-D avg-pool rounding: Conv1d-fused avg pool truncates, pooling-only avg pool rounds', roundingNet(true), {}],
    ['2-D avg-pool rounding: fused and pooling-only avg pools round half away from zero', roundingNet(false), { c2: 4 }],
  ];
  for (const [label, model, layerBits] of cases) {
    it(label, async () => {
      const fp = params(model, 21);
      const q = quantizeModel(withLayerBits(model, layerBits), fp);
      const n = 6;
      const per = model.input.channels * model.input.dims.reduce((a, b) => a * b, 1);
      const rng = seededRng(4);
      const int8 = Int8Array.from({ length: n * per }, () => Math.floor(rng() * 256) - 128);
      const x = Float32Array.from(int8, (v) => v / 128);
      const float = await qatForward(q.model, fp, x, n);
      const qatSettings = { shifts: q.model.layers.map((l) => l.outputShift), bits: q.model.layers.map((l) => l.weightBits) };
      const plain = predictFloat(q.model, fp, x, n, { qat: qatSettings });
      const sim = simulateBatch(q.model, int8);
      const last = q.model.layers[q.model.layers.length - 1]!;
      const unit = 2 ** (6 + last.weightBits);
      const scaled = Array.from(float, (v) => v * unit);
      expect(scaled.every(Number.isInteger)).toBe(true);
      expect(Array.from(sim.outputs)).toEqual(scaled);
      expect(Array.from(plain, (v) => v * unit)).toEqual(scaled); // predictFloat({qat}) agrees too
      expect(new Set(sim.outputs).size).toBeGreaterThan(n); // not a degenerate all-zero network
    });
  }
});
