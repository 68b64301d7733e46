import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { writeOnnx, onnxModelType } from './onnx.ts';
import { ai85net5, ecgNet } from '../ir/zoo.ts';
import type { Layer, Model } from '../ir/graph.ts';
import type { FloatLayerParams } from '../ir/float-params.ts';
import { initBackend } from '../training/backend.ts';
import { forward, gatherBatch, planNetwork, varsFromParams, disposeVars } from '../training/network.ts';
import { seededRng } from '../data/random.ts';
import { predictFloat } from '../training/predict-float.ts';

function randomParams(model: Model, seed: number): FloatLayerParams[] {
  const rng = seededRng(seed);
  const plans = planNetwork(model, () => false);
  return plans.map((p) => {
    const n = p.weightShape.reduce((a, b) => a * b, 1);
    const fanIn = n / p.layer.outChannels;
    const bound = 1.5 / Math.sqrt(fanIn);
    return {
      name: p.layer.name,
      weight: Float32Array.from({ length: n }, () => (rng() * 2 - 1) * bound),
      bias: p.layer.hasBias ? Float32Array.from({ length: p.layer.outChannels }, () => (rng() * 2 - 1) * 0.1) : null,
    };
  });
}

/** The tfjs float forward (no quantization) of the training engine on channel-first samples. */
async function tfjsFloat(model: Model, params: FloatLayerParams[], x: Float32Array, n: number): Promise<Float32Array> {
  await initBackend();
  const plans = planNetwork(model, () => false);
  const vars = varsFromParams(plans, params);
  const shape = plans[0]!.inShape;
  const batch = gatherBatch(x, Int32Array.from({ length: n }, (_, i) => i), shape);
  const out = tf.tidy(() => forward(plans, vars, tf.tensor4d(batch, [n, ...shape]), { training: false }));
  const data = (await out.data()) as Float32Array;
  out.dispose();
  disposeVars(vars);
  return data;
}

describe('float ONNX export', () => {
  for (const [label, model] of [['ai85net5 (2-D, max/avg pool, flatten, wide output)', ai85net5()], ['ecgnet 1-D (conv1d, pools, bias)', ecgNet('MAX78002', 96, 5)]] as const) {
    it(`ONNX Runtime equals predictFloat (and the tfjs forward) within 1e-4: ${label}`, async () => {
      const params = randomParams(model, 3);
      const bytes = writeOnnx(model, params);
      const decoded = onnxModelType().decode(bytes) as unknown as { opset_import: { version: number }[]; graph: { node: { op_type: string }[] } };
      expect(Number(decoded.opset_import[0]!.version)).toBe(13);
      const ops = new Set(decoded.graph.node.map((n) => n.op_type));
      expect(ops.has('Conv') && ops.has('Clip') && ops.has('Gemm') && ops.has('Flatten')).toBe(true);
      const n = 8;
      const per = model.input.channels * model.input.dims.reduce((a, b) => a * b, 1);
      const rng = seededRng(11);
      const x = Float32Array.from({ length: n * per }, () => (Math.floor(rng() * 256) - 128) / 128);
      const session = await ort.InferenceSession.create(bytes);
      const res = await session.run({ input: new ort.Tensor('float32', x, [n, model.input.channels, ...model.input.dims]) });
      const got = res.output!.data as Float32Array;
      const want = predictFloat(model, params, x, n);
      const tfjs = await tfjsFloat(model, params, x, n);
      expect(got.length).toBe(want.length);
      let maxDiff = 0;
      let maxDiffTfjs = 0;
      for (let i = 0; i < got.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(got[i]! - want[i]!));
        maxDiffTfjs = Math.max(maxDiffTfjs, Math.abs(got[i]! - tfjs[i]!));
      }
      expect(maxDiff).toBeLessThan(1e-4);
      expect(maxDiffTfjs).toBeLessThan(1e-4);
      // The clamp matters: activations saturate with these weights, and the logits are not all equal.
      expect(Math.max(...want) - Math.min(...want)).toBeGreaterThan(0.01);
    });
  }

  it('a dilated Conv1d: ONNX Runtime (dilations) equals predictFloat', async () => {
    const conv = (name: string, inC: number, outC: number, k: number, pad: number, dilation: number): Layer => ({
      name, op: 'conv1d', inChannels: inC, outChannels: outC, kernel: [k, 1], pad, stride: 1, dilation, flatten: false,
      activation: 'relu', weightBits: 8, outputShift: 0, outputWidth: 8, hasBias: true,
    });
    const model: Model = {
      arch: 'dil', dataset: 'd', device: 'MAX78002', input: { channels: 2, dims: [24], format: 'HWC' },
      layers: [
        conv('c1', 2, 6, 3, 1, 2),
        conv('c2', 6, 4, 2, 0, 5),
        { ...conv('fc', 4, 3, 1, 0, 1), op: 'linear', dilation: undefined, flatten: true, activation: 'none', outputWidth: 32 },
      ],
    };
    const rng = seededRng(5);
    const features = 4 * (24 + 2 - 4 - 5);
    const sizes = [6 * 2 * 3, 4 * 6 * 2, 3 * features];
    const params: FloatLayerParams[] = model.layers.map((l, i) => ({
      name: l.name,
      weight: Float32Array.from({ length: sizes[i]! }, () => rng() - 0.5),
      bias: Float32Array.from({ length: l.outChannels }, () => (rng() - 0.5) * 0.2),
    }));
    const n = 4;
    const x = Float32Array.from({ length: n * 2 * 24 }, () => (Math.floor(rng() * 256) - 128) / 128);
    const session = await ort.InferenceSession.create(writeOnnx(model, params));
    const got = (await session.run({ input: new ort.Tensor('float32', x, [n, 2, 24]) })).output!.data as Float32Array;
    const want = predictFloat(model, params, x, n);
    expect(want.length).toBe(n * 3);
    expect(got.length).toBe(want.length);
    for (let i = 0; i < got.length; i++) expect(Math.abs(got[i]! - want[i]!), `output ${i}`).toBeLessThan(1e-4);
    expect(Math.max(...want) - Math.min(...want)).toBeGreaterThan(0.01);
  });

  it('names the layer it cannot export', () => {
    const m = ai85net5();
    expect(() => writeOnnx(m, randomParams(m, 1).slice(1))).toThrow(/layer 0 "conv1": no float parameters/);
    const bad = { ...m, layers: m.layers.map((l, i) => (i === 1 ? { ...l, op: 'convtranspose2d' as const } : l)) };
    expect(() => writeOnnx(bad, randomParams(m, 1))).toThrow(/layer 1 "conv2": ConvTranspose2d is not supported/);
  });
});
