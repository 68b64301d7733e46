// The fused block (conv-block.ts) on the training backend (wasm) against the same layer built from
// stock tfjs ops on the pure-JS cpu backend, value and gradients of x, w and b: conv1d and conv2d,
// pads 0/1/2, Cin ≤ 4 (im2col dW) and > 4 (transposed-conv dW), with and without bias, ReLU / abs /
// none, 8-bit and wide output, float and QAT (several bits and shifts), first layer (no dX) or not.
// The reference's straight-through estimators are stock ops too: round(v) is written v + (round(v) − v)
// with the difference a constant, so its gradient is that of v and the clamps' masks come from
// tf.clipByValue's own gradient.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend.ts';
import { convBlock, type BlockSpec } from './conv-block.ts';
import { explicit, type Pads } from './conv2d.ts';
import { ACTIVATION, gridMax, gridScale, WIDE_OUTPUT } from '../../quant/fixed-point.ts';
import { seededRng } from '../../data/random.ts';

interface Case {
  oneD?: boolean;
  cin: number;
  cout: number;
  k: number;
  pad: number;
  bias: boolean;
  activation: BlockSpec['activation'];
  wide?: boolean;
  qat?: { bits: number; shift: number };
  isFirst?: boolean;
}

const cases: Case[] = [
  { cin: 2, cout: 5, k: 3, pad: 1, bias: true, activation: 'relu' },
  { cin: 6, cout: 4, k: 3, pad: 2, bias: true, activation: 'relu' },
  { cin: 6, cout: 4, k: 3, pad: 0, bias: false, activation: 'relu' },
  { cin: 3, cout: 4, k: 1, pad: 0, bias: true, activation: 'abs' },
  { cin: 5, cout: 3, k: 3, pad: 1, bias: true, activation: 'none' },
  { cin: 1, cout: 6, k: 3, pad: 1, bias: false, activation: 'relu', isFirst: true },
  { oneD: true, cin: 1, cout: 6, k: 5, pad: 2, bias: true, activation: 'relu', isFirst: true },
  { oneD: true, cin: 8, cout: 5, k: 3, pad: 1, bias: true, activation: 'relu' },
  { oneD: true, cin: 4, cout: 3, k: 3, pad: 0, bias: false, activation: 'none' },
  { cin: 2, cout: 5, k: 3, pad: 1, bias: true, activation: 'relu', qat: { bits: 8, shift: -3 } },
  { cin: 6, cout: 4, k: 3, pad: 2, bias: true, activation: 'relu', qat: { bits: 4, shift: -2 } },
  { cin: 6, cout: 4, k: 3, pad: 0, bias: false, activation: 'relu', qat: { bits: 2, shift: 1 } },
  { cin: 3, cout: 4, k: 3, pad: 1, bias: true, activation: 'abs', qat: { bits: 8, shift: -2 } },
  { cin: 5, cout: 3, k: 3, pad: 1, bias: true, activation: 'none', qat: { bits: 8, shift: 0 } },
  { cin: 5, cout: 3, k: 3, pad: 1, bias: true, activation: 'none', wide: true, qat: { bits: 8, shift: -3 } },
  { cin: 1, cout: 6, k: 3, pad: 1, bias: true, activation: 'relu', isFirst: true, qat: { bits: 1, shift: -3 } },
  { oneD: true, cin: 8, cout: 5, k: 3, pad: 1, bias: true, activation: 'relu', qat: { bits: 8, shift: -3 } },
  { oneD: true, cin: 1, cout: 6, k: 5, pad: 2, bias: false, activation: 'relu', isFirst: true, qat: { bits: 4, shift: -1 } },
];

const label = (c: Case) =>
  `${c.oneD ? 'conv1d' : 'conv2d'} ${c.cin}→${c.cout} k${c.k} pad ${c.pad}${c.bias ? ' bias' : ''} ${c.activation}` +
  `${c.wide ? ' wide' : ''}${c.qat ? ` QAT ${c.qat.bits}-bit shift ${c.qat.shift}` : ' float'}${c.isFirst ? ' first' : ''}`;

function specOf(c: Case): BlockSpec {
  const pads: Pads = c.oneD ? [0, 0, c.pad, c.pad] : [c.pad, c.pad, c.pad, c.pad];
  return {
    kernel: c.oneD ? [1, c.k] : [c.k, c.k], pads, isFirst: !!c.isFirst, activation: c.activation, wide: !!c.wide,
    ...(c.qat ? { qat: c.qat } : {}),
  };
}

/** round-half-up(v) with the gradient of v: v + constant. */
function steRound(v: tf.Tensor): tf.Tensor {
  const d = tf.tidy(() => {
    const values = v.dataSync();
    return tf.tensor(Float32Array.from(values, (e) => Math.floor(e + 0.5) - e), v.shape);
  });
  return tf.add(v, d);
}

/** The layer from stock ops (cpu reference). */
function reference(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D | null, spec: BlockSpec): tf.Tensor {
  const { lo, hi, step } = spec.wide ? WIDE_OUTPUT : ACTIVATION;
  const qat = spec.qat;
  const outScale = qat && !spec.wide ? 2 ** qat.shift : 1;
  const param = (v: tf.Tensor) => {
    if (!qat) return v;
    const g = gridScale(qat.bits);
    const q = tf.div(steRound(tf.mul(v, 2 ** -qat.shift * g)), g);
    return tf.mul(tf.clipByValue(q, -1, gridMax(qat.bits)), outScale);
  };
  let s = tf.conv2d(x, param(w) as tf.Tensor4D, 1, explicit(spec.pads)) as tf.Tensor;
  if (b) s = tf.add(s, param(b));
  const a = spec.activation === 'relu' ? tf.relu(s) : spec.activation === 'abs' ? tf.abs(s) : s;
  const q = qat ? tf.div(steRound(tf.mul(a, step)), step) : a;
  return tf.clipByValue(q, lo, hi);
}

interface Result { value: Float32Array; grads: Float32Array[] }

function run(c: Case, data: { x: Float32Array; w: Float32Array; b: Float32Array; r: Float32Array }, block: boolean): Result {
  const spec = specOf(c);
  const [h, wd] = c.oneD ? [1, 12] : [7, 6];
  const x = tf.variable(tf.tensor4d(data.x, [2, h, wd, c.cin]));
  const w = tf.variable(tf.tensor4d(data.w, [spec.kernel[0], spec.kernel[1], c.cin, c.cout]));
  const b = c.bias ? tf.variable(tf.tensor1d(data.b)) : null;
  const vars = [...(c.isFirst ? [] : [x]), w, ...(b ? [b] : [])];
  let value: Float32Array | undefined;
  const { value: loss, grads } = tf.variableGrads(() => {
    const y = block ? convBlock(x, w, b, spec) : reference(x, w, b, spec);
    value = y.dataSync().slice() as Float32Array;
    const r = tf.tensor(data.r.subarray(0, y.size), y.shape);
    return tf.sum(tf.mul(y, r));
  }, vars);
  const out = { value: value!, grads: vars.map((v) => grads[v.name]!.dataSync().slice() as Float32Array) };
  tf.dispose([loss, ...Object.values(grads), ...vars]);
  return out;
}

beforeAll(async () => {
  await initBackend();
});

describe('fused conv block equals the stock-op layer on cpu (value and gradients)', () => {
  it.each(cases.map((c) => [label(c), c] as const))('%s', async (_, c) => {
    expect(tf.getBackend()).toBe('wasm');
    const rng = seededRng(7);
    const [h, wd] = c.oneD ? [1, 12] : [7, 6];
    const kk = c.oneD ? c.k : c.k * c.k;
    const fanIn = kk * c.cin;
    // QAT data on the 1/128 grid (as the accelerator's activations): the convolution is then exact on
    // both backends and the activation quantizer cannot round differently. Float weights are large
    // enough that outputs clip and ReLU cuts; QAT weights reach past the clamp so the STE mask works.
    const x = Float32Array.from({ length: 2 * h * wd * c.cin }, () => Math.floor((rng() * 2 - 1) * 128) / 128);
    const wScale = c.qat ? 1.4 * 2 ** c.qat.shift : 3 / Math.sqrt(fanIn);
    const w = Float32Array.from({ length: kk * c.cin * c.cout }, () => (rng() * 2 - 1) * wScale);
    const b = Float32Array.from({ length: c.cout }, () => (rng() * 2 - 1) * (c.qat ? 1.2 * 2 ** c.qat.shift : 0.5));
    const r = Float32Array.from({ length: 2 * (h + 4) * (wd + 4) * c.cout }, () => rng() * 2 - 1);
    const ours = run(c, { x, w, b, r }, true);
    await tf.setBackend('cpu');
    let ref: Result;
    try {
      ref = run(c, { x, w, b, r }, false);
    } finally {
      await tf.setBackend('wasm');
    }
    const tol = c.qat ? 1e-6 : 1e-5;
    expect(ours.value.length).toBe(ref.value.length);
    const valueScale = Math.max(1, ...Array.from(ref.value, Math.abs));
    ref.value.forEach((v, i) => expect(Math.abs(ours.value[i]! - v), `value ${i}`).toBeLessThanOrEqual(tol * valueScale));
    const names = [...(c.isFirst ? [] : ['dx']), 'dw', ...(c.bias ? ['db'] : [])];
    ref.grads.forEach((want, g) => {
      const got = ours.grads[g]!;
      const scale = Math.max(...Array.from(want, Math.abs));
      expect(scale, `${names[g]} is not trivially zero`).toBeGreaterThan(1e-3);
      let worst = 0;
      for (let k = 0; k < want.length; k++) worst = Math.max(worst, Math.abs(got[k]! - want[k]!));
      expect(worst / scale, names[g]).toBeLessThan(tol);
    });
  });
});
