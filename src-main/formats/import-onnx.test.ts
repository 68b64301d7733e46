// ONNX import on files written by the real torch.onnx.export (test/fixtures/networks/make_onnx.py):
// the structure each network becomes (ai8x fused layers), the weights (the imported network,
// written back as an ai8x float ONNX model, computes what the original computes under ONNX
// Runtime while no clamp is reached), and one clear refusal for each undeployable file.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { importOnnx } from './import-onnx.ts';
import { ImportError } from './import-error.ts';
import { writeOnnx } from './onnx.ts';
import { foldBatchNorm } from '../quant/fold-batchnorm.ts';
import type { Model } from '../ir/graph.ts';
import type { FloatLayerParams } from '../ir/float-params.ts';
import { seededRng } from '../data/random.ts';
import { FIXTURES } from '../../test/support/fixtures.ts';

const NETS = join(FIXTURES, 'networks');
const read = (f: string) => readFileSync(join(NETS, f));
const summary = (m: Model) => m.layers.map((l) => `${l.op}${l.pool ? `<${l.pool.kind}${l.pool.size[0]}` : ''}${l.batchNorm ? '+bn' : ''}${l.activation === 'none' ? '' : `+${l.activation}`}${l.flatten ? '(flat)' : ''}${l.outputWidth === 32 ? '(wide)' : ''}`);

/** Float params of an imported model, BatchNorm folded the ai8x way (what training starts from). */
function initParams(m: Model): FloatLayerParams[] {
  return m.layers.filter((l) => l.init).map((l) => {
    const i = l.init!;
    const f = i.bn ? foldBatchNorm(i.weight, i.bias, { ...i.bn, eps: 1e-5 }) : { weight: i.weight, bias: i.bias };
    return { name: l.name, weight: f.weight, bias: f.bias };
  });
}

async function run(bytes: Uint8Array, x: Float32Array, shape: number[]): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes);
  const r = await s.run({ [s.inputNames[0]!]: new ort.Tensor('float32', x, shape) });
  return r[s.outputNames[0]!]!.data as Float32Array;
}

describe('ONNX import: the networks users bring', () => {
  it('a 1-D ECG CNN with BatchNorm (opset 11): BN fused into its conv, pools moved into the next layer, the pool before flatten a pooling-only layer', () => {
    const { model, warnings } = importOnnx(read('ecg-bn.onnx'), { file: 'ecg-bn.onnx' });
    expect(summary(model)).toEqual(['conv1d+bn+relu', 'conv1d<max2+bn+relu', 'conv1d<max4+relu', 'passthrough<avg4', 'linear(flat)(wide)']);
    expect(model.input).toEqual({ channels: 1, dims: [128], format: 'HWC' });
    expect(model.layers.map((l) => l.name)).toEqual(['c1', 'c2', 'c3', 'pool_3', 'fc']);
    expect(model.layers[0]!.init!.bn!.gamma.length).toBe(8);
    expect(model.layers[0]!.hasBias).toBe(true);
    expect(warnings).toEqual([]);
  });

  it('a 3-axis fall-detection CNN (opset 13): Dropout dropped, two Linear layers', () => {
    const { model } = importOnnx(read('fall-3axis.onnx'));
    expect(summary(model)).toEqual(['conv1d+relu', 'conv1d<max2+relu', 'conv1d<max2+relu', 'linear+relu(flat)', 'linear(wide)']);
    expect(model.input.channels).toBe(3);
    expect(model.layers[3]!.inChannels).toBe(32);
  });

  it('a 2-D CNN (opset 17): ReLU after a max pool moves into the conv; view(N, -1) + MatMul + Add is a Linear with bias; Softmax left to the host', () => {
    const { model, warnings } = importOnnx(read('cnn2d.onnx'));
    expect(summary(model)).toEqual(['conv2d+bn+relu', 'conv2d<max2+relu', 'conv2d<max2+relu', 'linear(flat)(wide)']);
    expect(model.layers[3]!.hasBias).toBe(true);
    expect(model.input.format).toBe('CHW');
    expect(warnings.map((w) => w.message).join()).toMatch(/Softmax at the output is left out/);
  });

  it('a residual Add becomes an element-wise layer over both branches', () => {
    const { model } = importOnnx(read('residual.onnx'));
    expect(summary(model)).toEqual(['conv2d+relu', 'conv2d+relu', 'add', 'conv2d+relu', 'passthrough<max4', 'linear(flat)(wide)']);
    expect(model.layers[2]!.inputs).toEqual([0, 1]);
    expect(model.layers[2]!.operands).toBe(2);
  });

  for (const [file, shape, softmax] of [['ecg-bn.onnx', [1, 128], false], ['fall-3axis.onnx', [3, 64], false], ['cnn2d.onnx', [1, 28, 28], true]] as const) {
    it(`${file}: the imported weights compute what the original computes (ONNX Runtime)`, async () => {
      const { model } = importOnnx(read(file));
      const n = 3;
      const rng = seededRng(7);
      // Small inputs keep every activation inside ai8x's [−1, 127/128] clamp, so both are the same function.
      const x = Float32Array.from({ length: n * shape.reduce((a: number, b: number) => a * b, 1) }, () => (rng() * 2 - 1) * 0.05);
      const original = await run(read(file), x, [n, ...shape]);
      let ours = await run(writeOnnx(model, initParams(model)), x, [n, ...shape]);
      if (softmax) {
        const k = ours.length / n;
        ours = Float32Array.from(ours, (_, i) => {
          const row = ours.subarray(Math.floor(i / k) * k, Math.floor(i / k) * k + k);
          const m = Math.max(...row);
          return Math.exp(ours[i]! - m) / row.reduce((a, v) => a + Math.exp(v - m), 0);
        });
      }
      expect(ours.length).toBe(original.length);
      const scale = Math.max(...Array.from(original, Math.abs));
      expect(scale).toBeGreaterThan(0);
      for (let i = 0; i < ours.length; i++) expect(Math.abs(ours[i]! - original[i]!)).toBeLessThan(1e-4 * Math.max(1, scale));
    });
  }

  it('a Keras-style model (channel-last input transposed in, transposed back before Flatten): channel-first input, Dense weights reordered — same outputs', async () => {
    const { model, warnings } = importOnnx(read('keras-style-fall.onnx'));
    expect(model.input).toEqual({ channels: 3, dims: [64], format: 'HWC' });
    expect(summary(model)).toEqual(['conv1d+relu', 'conv1d<max2+relu', 'passthrough<max2', 'linear(flat)(wide)']);
    expect(warnings.map((w) => w.message).join()).toMatch(/channel-last input \(Keras\)/);
    const n = 2, L = 64, C = 3;
    const rng = seededRng(9);
    const nlc = Float32Array.from({ length: n * L * C }, () => (rng() * 2 - 1) * 0.05);
    const ncl = new Float32Array(nlc.length);
    for (let b = 0; b < n; b++) for (let t = 0; t < L; t++) for (let c = 0; c < C; c++) ncl[(b * C + c) * L + t] = nlc[(b * L + t) * C + c]!;
    const original = await run(read('keras-style-fall.onnx'), nlc, [n, L, C]);
    const ours = await run(writeOnnx(model, initParams(model)), ncl, [n, C, L]);
    for (let i = 0; i < ours.length; i++) expect(Math.abs(ours[i]! - original[i]!)).toBeLessThan(1e-5);
  });

  it('a dynamic length is fixed by --input-shape; a shape that contradicts the file is refused', () => {
    const { model } = importOnnx(read('bad/dynamic-length.onnx'), { inputShape: [2, 32] });
    expect(model.input.dims).toEqual([32]);
    expect(() => importOnnx(read('ecg-bn.onnx'), { inputShape: [1, 100] })).toThrow(/does not match the file's input/);
  });
});

describe('ONNX import: undeployable or broken files are refused with one message naming the node, the layer and the fix', () => {
  const cases: [string, string, RegExp, string?][] = [
    ['bad/opset-9.onnx', 'opset', /opset 9/],
    ['bad/unsupported-op.onnx', 'unsupported-op', /Sigmoid cannot run/, '/1/Sigmoid'],
    ['bad/upsample.onnx', 'unsupported-op', /Resize cannot run/, '/2/Resize'],
    ['bad/dynamic-length.onnx', 'dynamic-shape', /is dynamic.*--input-shape/],
    ['bad/conv3d.onnx', 'conv3d', /3-D data/],
    ['bad/pool-strides.onnx', 'rule:pool-stride-square', /pool stride 2x1 differs/, '/2/MaxPool'],
    ['bad/channels.onnx', 'rule:channel-count', /1100 output channels.*1 to 1024/, '/0/Conv'],
    ['bad/linear-out.onnx', 'rule:channel-count', /1100 output channels/, '/2/Gemm'],
    ['bad/conv-stride.onnx', 'conv-stride', /stride 2x2.*stride 1 only/, '/0/Conv'],
    ['bad/kernel-5x5.onnx', 'rule:conv2d-kernel', /kernel 5x5 is not supported/, '/0/Conv'],
    ['bad/depthwise.onnx', 'grouped-conv', /group 4/, '/0/Conv'],
    ['bad/pool-padding.onnx', 'pool-padding', /pools without padding/, '/2/MaxPool'],
    ['bad/pool-ceil.onnx', 'pool-ceil', /ceil_mode/, '/2/MaxPool'],
    ['bad/flatten-too-big.onnx', 'rule:flatten-positions', /576 positions.*at most 256/, '/2/2.1/Gemm'],
    ['bad/pad-3.onnx', 'rule:pad-range', /padding 3/, '/0/Conv'],
  ];
  for (const [file, code, message, node] of cases) {
    it(file, () => {
      let err: unknown;
      try {
        importOnnx(read(file), { file });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ImportError);
      const e = err as ImportError;
      expect(e.code).toBe(code);
      expect(e.message).toMatch(message);
      expect(e.message).toMatch(/Fix: \S/);
      expect(e.message.startsWith(file)).toBe(true);
      if (node) expect(e.node).toBe(node);
      if (code.startsWith('rule:') || code === 'conv-stride') expect(e.layer).not.toBe('');
    });
  }

  it('a truncated file, an empty file and text are not ONNX', () => {
    const whole = read('ecg-bn.onnx');
    for (const bytes of [whole.subarray(0, whole.length - 700), whole.subarray(0, 40), new Uint8Array(0), new TextEncoder().encode('conv1: {kernel: 3}\n')]) {
      expect(() => importOnnx(bytes, { file: 'x.onnx' })).toThrow(ImportError);
      try {
        importOnnx(bytes, { file: 'x.onnx' });
      } catch (e) {
        expect((e as ImportError).code).toMatch(/^(not-onnx|tensor|opset|graph)$/);
      }
    }
  });
});
