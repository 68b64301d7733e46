// The network's training layers (forward() on the training backend, wasm) against tfjs's stock
// gradients on the pure-JS cpu backend, on small 1-D and 2-D conv nets with pads 0/1/2, both dW
// methods (Cin ≤ 4 and > 4), max and avg pooling, and a linear output; in the float phase and in
// QAT (mixed bits, weights past the clamp, STEs written as stock ops, max-pool ties on the grid).
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import type { Layer, Model } from '../../ir/graph.ts';
import { initBackend } from '../backend.ts';
import { createVars, forward, planNetwork, trainableVars, type LayerPlan, type QatSettings } from '../network.ts';
import { ACTIVATION, gridMax, gridScale, WIDE_OUTPUT } from '../../quant/fixed-point.ts';
import { seededRng as makeRng } from '../../data/random.ts';

function conv(name: string, op: 'conv1d' | 'conv2d', cin: number, cout: number, k: number, pad: number, pool?: Layer['pool']): Layer {
  return {
    name, op, inChannels: cin, outChannels: cout, kernel: op === 'conv1d' ? [k, 1] : [k, k], pad, stride: 1,
    ...(pool ? { pool } : {}), flatten: false, activation: 'relu', weightBits: 8, outputShift: 0, outputWidth: 8, hasBias: true,
  };
}
function fc(cin: number, cout: number): Layer {
  return {
    name: 'fc', op: 'linear', inChannels: cin, outChannels: cout, kernel: [1, 1], pad: 0, stride: 1, flatten: true,
    activation: 'none', weightBits: 8, outputShift: 0, outputWidth: 32, hasBias: true,
  };
}
const p2 = (kind: 'max' | 'avg'): Layer['pool'] => ({ kind, size: [2, 2], stride: [2, 2] });
const p1 = (kind: 'max' | 'avg'): Layer['pool'] => ({ kind, size: [2, 1], stride: [2, 1] });

const nets: Record<string, Model> = {
  '2-D 10x10, pads 0/2/1, Cin 2 then 6': {
    arch: 't2', dataset: 't', device: 'MAX78002', input: { channels: 2, dims: [10, 10], format: 'HWC' },
    layers: [conv('c1', 'conv2d', 2, 6, 3, 0), conv('c2', 'conv2d', 6, 5, 3, 2, p2('max')), conv('c3', 'conv2d', 5, 4, 3, 1, p2('avg')), fc(4, 3)],
  },
  '1-D, pads 2/1/0, Cin 1 then 8': {
    arch: 't1', dataset: 't', device: 'MAX78002', input: { channels: 1, dims: [24], format: 'HWC' },
    layers: [conv('c1', 'conv1d', 1, 8, 5, 2), conv('c2', 'conv1d', 8, 6, 3, 1, p1('max')), conv('c3', 'conv1d', 6, 4, 3, 0, p1('avg')), fc(4, 3)],
  },
};

/** round-half-up (or trunc) of v with the gradient of v: v + a constant (a stock-op STE). */
function ste(v: tf.Tensor, f: (e: number) => number = (e) => Math.floor(e + 0.5)): tf.Tensor {
  const values = v.dataSync();
  return tf.add(v, tf.tensor(Float32Array.from(values, (e) => f(e) - e), v.shape));
}

/** Reference: the same net from plain tf ops (stock gradients); QAT with stock-op STEs. */
function stockForward(plans: LayerPlan[], vars: tf.Variable[], x: tf.Tensor4D, qat?: QatSettings): tf.Tensor {
  let h: tf.Tensor = x;
  plans.forEach((p, i) => {
    const { lo, hi, step } = p.isWide ? WIDE_OUTPUT : ACTIVATION;
    const outScale = qat && !p.isWide ? 2 ** qat.shifts[i]! : 1;
    const param = (v: tf.Tensor) => {
      if (!qat) return v;
      const g = gridScale(qat.bits[i]!);
      const q = tf.div(ste(tf.mul(v, 2 ** -qat.shifts[i]! * g)), g);
      return tf.mul(tf.clipByValue(q, -1, gridMax(qat.bits[i]!)), outScale);
    };
    const w = param(vars[2 * i]!);
    const b = param(vars[2 * i + 1]!);
    if (p.pool) {
      if (p.pool.kind === 'max') {
        h = tf.maxPool(h as tf.Tensor4D, p.pool.size, p.pool.stride, 'valid');
      } else {
        h = tf.avgPool(h as tf.Tensor4D, p.pool.size, p.pool.stride, 'valid');
        if (qat) h = tf.div(ste(tf.mul(h, ACTIVATION.step), Math.trunc), ACTIVATION.step);
        h = tf.clipByValue(h, ACTIVATION.lo, ACTIVATION.hi);
      }
    }
    let y: tf.Tensor;
    if (p.layer.op === 'linear') {
      y = tf.add(tf.matMul(tf.reshape(h, [h.shape[0]!, -1]), w as tf.Tensor2D), b);
    } else {
      const pd = p.layer.pad;
      const pads: [[number, number], [number, number], [number, number], [number, number]] =
        p.layer.op === 'conv1d' ? [[0, 0], [0, 0], [pd, pd], [0, 0]] : [[0, 0], [pd, pd], [pd, pd], [0, 0]];
      y = tf.relu(tf.add(tf.conv2d(h as tf.Tensor4D, w as tf.Tensor4D, 1, pads), b));
    }
    h = tf.clipByValue(qat ? tf.div(ste(tf.mul(y, step)), step) : y, lo, hi);
  });
  return h;
}

function lossOf(out: tf.Tensor, r: tf.Tensor): tf.Scalar {
  return tf.sum(tf.mul(out, r));
}

beforeAll(async () => {
  await initBackend();
});

const modes: [string, string, Model, boolean][] = Object.entries(nets).flatMap(([name, model]) => [
  [name, 'float', model, false] as [string, string, Model, boolean],
  [name, 'QAT', model, true] as [string, string, Model, boolean],
]);

describe.each(modes)('gradients equal tfjs stock gradients on cpu: %s, %s', (_, __, model, withQat) => {
  it('weights and biases (1e-4 relative)', async () => {
    expect(tf.getBackend()).toBe('wasm');
    const plans = planNetwork(model, () => false);
    const rng = makeRng(3);
    const vars = tf.tidy(() => createVars(plans, rng) as unknown as tf.TensorContainer) as unknown as ReturnType<typeof createVars>;
    const list = trainableVars(vars);
    const n = 4;
    const [h, w, c] = plans[0]!.inShape;
    // QAT input on the 1/128 grid, like the activations after it: sums are exact on both backends.
    const xData = Float32Array.from({ length: n * h * w * c }, () => (withQat ? Math.floor((rng() * 2 - 1) * 128) / 128 : rng() * 2 - 1));
    // Mixed bits; shift −1 doubles the weights before the grid, so some reach past the clamp.
    const qat: QatSettings | undefined = withQat ? { bits: plans.map((_, i) => [8, 4, 8, 2][i % 4]!), shifts: plans.map(() => -1) } : undefined;
    // Larger weights so some activations clip at 127/128 and ReLU cuts: the masks are exercised.
    list.forEach((v) => v.assign(tf.mul(v, 3)));
    const outSize = plans[plans.length - 1]!.layer.outChannels;
    const rData = Float32Array.from({ length: n * outSize }, () => rng() * 2 - 1);
    const x = tf.tensor4d(xData, [n, h, w, c]);
    const r = tf.tensor2d(rData, [n, outSize]);
    const ours = tf.variableGrads(() => lossOf(forward(plans, vars, x, { training: true, ...(qat ? { qat } : {}) }), r), list);
    const oursData = list.map((v) => ours.grads[v.name]!.dataSync().slice());
    const values = list.map((v) => v.dataSync().slice());
    const lossOurs = ours.value.dataSync()[0]!;
    tf.dispose([ours.value, ...Object.values(ours.grads), x, r, ...list]);

    await tf.setBackend('cpu');
    try {
      const cpuVars = list.map((v, i) => tf.variable(tf.tensor(values[i]!, v.shape)));
      const xc = tf.tensor4d(xData, [n, h, w, c]);
      const rc = tf.tensor2d(rData, [n, outSize]);
      const ref = tf.variableGrads(() => lossOf(stockForward(plans, cpuVars, xc, qat), rc), cpuVars);
      expect(lossOurs).toBeCloseTo(ref.value.dataSync()[0]!, 4);
      cpuVars.forEach((v, i) => {
        const want = ref.grads[v.name]!.dataSync();
        const got = oursData[i]!;
        const scale = Math.max(...Array.from(want, Math.abs), 1e-6);
        let worst = 0;
        for (let k = 0; k < want.length; k++) worst = Math.max(worst, Math.abs(got[k]! - want[k]!));
        expect(worst / scale, `variable ${i} (${v.shape.join('x')})`).toBeLessThan(1e-4);
        expect(scale).toBeGreaterThan(1e-6); // non-trivial gradient
      });
      tf.dispose([ref.value, ...Object.values(ref.grads), xc, rc, ...cpuVars]);
    } finally {
      await tf.setBackend('wasm');
    }
  });
});
