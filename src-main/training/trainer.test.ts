// The training engine on a tiny synthetic 1-D data set: learning, no tensor leaks, BN folding,
// QAT forward = plain-TS QAT predictor (integers × 2^14), resume = uninterrupted run.
import { beforeAll, describe, expect, it } from 'vitest';
import { ecgNet } from '../ir/zoo.ts';
import type { Model } from '../ir/graph.ts';
import { bitsAt, bitsPolicyProblems, withBitsEdits } from '../ir/bits-policy.ts';
import type { Dataset, Split } from '../data/dataset.ts';
import { quantizeAvgPool as refAvg } from '../quant/fake-quant.ts';
import { quantizeValue } from '../quant/fixed-point.ts';
import { initBackend, tf } from './backend.ts';
import { activate, fakeQuantParam, quantizeAvgPool } from './fake-quant.ts';
import { exportParams, planStages, predictFloat, stageLearningRate, train, type Stage, type TrainConfig } from './trainer.ts';
import { createVars, forward, gatherBatch, planNetwork, varsFromParams, disposeVars } from './network.ts';
import { seededRng as makeRng } from '../data/random.ts';

const L = 64;
const classes = 3;
const model = ecgNet('MAX78002', L, classes);

function synthetic(count: number): { dataset: Dataset; split: Split } {
  const rng = makeRng(11);
  const x = new Float32Array(count * L);
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const c = i % classes;
    y[i] = c;
    for (let t = 0; t < L; t++) {
      const v = 0.6 * Math.sin(((c + 1) * t) / 4) + 0.2 * (rng() - 0.5);
      x[i * L + t] = Math.min(Math.max(Math.round(v * 128) / 128, -1), 127 / 128);
    }
  }
  const range = (a: number, b: number) => Int32Array.from({ length: b - a }, (_, i) => a + i);
  return {
    dataset: { name: 'synthetic', count, channels: 1, dims: [L], x, y, classNames: ['a', 'b', 'c'] },
    split: { train: range(0, Math.floor(count * 0.75)), validation: range(Math.floor(count * 0.75), count), test: range(0, 0) },
  };
}

const data = synthetic(96);
const base: TrainConfig = { epochs: 4, qatStartEpoch: 2, batchSize: 24, learningRate: 3e-3, batchNorm: true, seed: 5 };

beforeAll(async () => {
  await initBackend();
});

describe('train()', () => {
  it('lowers the loss through float and QAT phases without leaking tensors', async () => {
    const before = tf.memory().numTensors;
    const epochs: number[] = [];
    const r = await train(model, data, { ...base, epochs: 5, qatStartEpoch: 3 }, { onEpoch: (e) => epochs.push(e.trainLoss) });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.history.map((h) => h.phase)).toEqual(['float', 'float', 'float', 'qat', 'qat']);
    expect(epochs[2]!).toBeLessThan(epochs[0]!);
    expect(r.history[4]!.trainLoss).toBeLessThan(r.history[3]!.trainLoss);
    expect(r.floatModelParams).toBeDefined();
    expect(r.outputShifts).toHaveLength(model.layers.length);
    expect(r.history[0]!.ranges).toHaveLength(model.layers.length);
    expect(r.history[0]!.ranges[0]!.weightHistogram.counts.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(r.backend).toMatch(/^wasm/);
  });

  it('folds BatchNorm without changing the float output (1e-5)', async () => {
    const plans = planNetwork(model, () => true);
    const vars = tf.tidy(() => createVars(plans, makeRng(2)) as unknown as tf.TensorContainer) as unknown as ReturnType<typeof createVars>;
    // Non-trivial BN state.
    vars.bn.forEach((bn, i) => {
      if (!bn) return;
      const c = plans[i]!.layer.outChannels;
      const rng = makeRng(20 + i);
      const vec = (lo: number, hi: number) => tf.tensor1d(Float32Array.from({ length: c }, () => lo + (hi - lo) * rng()));
      bn.gamma.assign(vec(0.5, 2)); bn.beta.assign(vec(-0.2, 0.2));
      bn.runningMean.assign(vec(-0.1, 0.1)); bn.runningVar.assign(vec(0.01, 0.2));
    });
    const n = 8;
    const x = tf.tensor4d(gatherBatch(data.dataset.x, data.split.train.subarray(0, n), plans[0]!.inShape), [n, ...plans[0]!.inShape]);
    const withBn = tf.tidy(() => forward(plans, vars, x, { training: false }));
    const folded = exportParams(plans, vars);
    const plain = predictFloat(model, folded, data.dataset.x, n);
    const got = withBn.dataSync();
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - plain[i]!));
    expect(worst).toBeLessThan(1e-5);
    expect(Math.max(...Array.from(got, Math.abs))).toBeGreaterThan(1e-3);
    tf.dispose([withBn, x]);
    disposeVars(vars);
  });

  it('QAT forward in tfjs equals the plain-TS QAT predictor: integers × 2^14', async () => {
    const r = await train(model, data, { ...base, epochs: 2, qatStartEpoch: 1 });
    const plans = planNetwork(model, () => false);
    const vars = tf.tidy(() => varsFromParams(plans, r.floatParams) as unknown as tf.TensorContainer) as unknown as ReturnType<typeof varsFromParams>;
    const n = 24;
    const qat = { shifts: r.outputShifts, bits: r.layerBits };
    const x = tf.tensor4d(gatherBatch(data.dataset.x, data.split.validation, plans[0]!.inShape), [n, ...plans[0]!.inShape]);
    const out = tf.tidy(() => forward(plans, vars, x, { training: false, qat }));
    const ours = out.dataSync();
    const ref = predictFloat(model, r.floatParams, data.dataset.x.subarray(data.split.validation[0]! * L), n, { qat });
    for (let i = 0; i < ours.length; i++) {
      expect(Number.isInteger(ref[i]! * 16384)).toBe(true);
      expect(ours[i]! * 16384).toBe(ref[i]! * 16384);
    }
    tf.dispose([out, x]);
    disposeVars(vars);
  });

  it('resumes from saved state exactly where an uninterrupted run would be', async () => {
    const full = await train(model, data, base);
    const first = await train(model, data, { ...base, epochs: 2 });
    expect(first.state.epoch).toBe(2);
    const rest = await train(model, data, { ...base, resumeFrom: first.state });
    expect(rest.history.map((h) => h.epoch)).toEqual([0, 1, 2, 3]);
    for (let e = 0; e < 4; e++) expect(rest.history[e]!.trainLoss).toBeCloseTo(full.history[e]!.trainLoss, 4);
    rest.floatParams.forEach((p, i) => {
      const want = full.floatParams[i]!.weight;
      let worst = 0;
      for (let k = 0; k < want.length; k++) worst = Math.max(worst, Math.abs(p.weight[k]! - want[k]!));
      expect(worst).toBeLessThan(1e-4);
    });
  });

  it('stops early on validation-loss patience', async () => {
    // lr 1e-30 leaves the weights unchanged: the validation loss never improves after the first epoch.
    const r = await train(model, data, { ...base, batchNorm: false, epochs: 30, qatStartEpoch: 20, learningRate: 1e-30, earlyStopPatience: 1 });
    // float plateau after epoch 1 → QAT from epoch 2 (not 20), plateau again → stop after epoch 3.
    expect(r.history.map((h) => h.phase)).toEqual(['float', 'float', 'qat', 'qat']);
    expect(r.state.epoch).toBe(4);
  });
});

describe('tfjs fake quantizers = the ai8x rule', () => {
  const edges = [-1.3, -1, -0.5 / 128, -0.51 / 128, 0, 0.49 / 128, 0.5 / 128, 0.3, 127.5 / 128, 0.999, 1.7];
  it.each([1, 2, 4, 8])('weights, %i bits, shift −1 and 1', (bits) => {
    for (const shift of [-1, 1]) {
      const got = tf.tidy(() => fakeQuantParam(tf.tensor1d(edges), bits, shift).dataSync().slice());
      expect(Array.from(got)).toEqual(edges.map((v) => Math.fround(quantizeValue(Math.fround(v) * 2 ** -shift, bits))));
    }
  });
  it('activations (q8 + clamp) and avg-pool truncation and rounding', () => {
    const act = tf.tidy(() => activate(tf.tensor1d(edges), { activation: 'none', wide: false, quantize: true, outScale: 1 }).dataSync().slice());
    expect(Array.from(act)).toEqual(edges.map((v) => Math.fround(quantizeValue(Math.fround(v), 8))));
    const avg = tf.tidy(() => quantizeAvgPool(tf.tensor1d(edges), false).dataSync().slice());
    expect(Array.from(avg)).toEqual(edges.map((v) => Math.fround(refAvg(Math.fround(v)))));
    const ties = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5].map((v) => v / 128);
    const rounded = tf.tidy(() => quantizeAvgPool(tf.tensor1d([...edges, ...ties]), true).dataSync().slice());
    expect(Array.from(rounded)).toEqual([...edges, ...ties].map((v) => Math.fround(refAvg(Math.fround(v), true))));
  });
  it('clipped straight-through gradient: zero outside the clamp', () => {
    const g = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(fakeQuantParam(x, 8, 0)))(tf.tensor1d([-1.2, -0.5, 0.5, 0.995, 1.5])).dataSync().slice());
    expect(Array.from(g)).toEqual([0, 1, 1, 1, 0]); // 0.995 rounds to 127/128: inside; 1.5 and −1.2 are clamped
  });
});

describe('schedules', () => {
  // The bit policy is the model's: 8 → 4 → 2 from QAT epochs 0, 2, 4 (the last width with its own lr);
  // conv1 holds 8 bits (it has its own one-step schedule: a layer the model schedule does not narrow).
  const scheduled = withBitsEdits(model, {
    bitsSchedule: [{ fromQatEpoch: 0, bits: 8 }, { fromQatEpoch: 2, bits: 4 }, { fromQatEpoch: 4, bits: 2, learningRate: 5e-5 }],
    layerBits: { conv1: 8 },
  });
  it('the IR carries the final widths; a layer held at a width keeps it', () => {
    expect(scheduled.layers.map((l) => l.weightBits)).toEqual([8, 2, 2, 2, 2]);
    expect(bitsAt(scheduled, 0)).toEqual([8, 8, 8, 8, 8]);
    expect(bitsAt(scheduled, 3)).toEqual([8, 4, 4, 4, 4]);
    expect(bitsAt(scheduled, 9)).toEqual([8, 2, 2, 2, 2]);
  });

  it('a progressive bits schedule is one QAT stage per width, counted from the QAT start, each with its lr and per-layer bits', () => {
    const c: TrainConfig = { ...base, epochs: 10, qatStartEpoch: 4, learningRate: 1e-3, qat: { learningRate: 1e-4 } };
    expect(planStages(scheduled, c).map((s) => [s.phase, s.length, s.bits, s.learningRate, s.layerBits])).toEqual([
      ['float', 4, 2, 1e-3, [8, 2, 2, 2, 2]], ['qat', 2, 8, 1e-4, [8, 8, 8, 8, 8]], ['qat', 2, 4, 1e-4, [8, 4, 4, 4, 4]], ['qat', 2, 2, 5e-5, [8, 2, 2, 2, 2]],
    ]);
  });

  it('a layer\'s own schedule adds a stage where it changes width', () => {
    const own: Model = { ...model, layers: model.layers.map((l) => (l.name === 'fc' ? { ...l, weightBits: 4, bitsSchedule: [{ fromQatEpoch: 0, bits: 8 }, { fromQatEpoch: 3, bits: 4 }] } : l)) };
    const c: TrainConfig = { ...base, epochs: 6, qatStartEpoch: 1 };
    expect(planStages(own, c).filter((s) => s.phase === 'qat').map((s) => [s.length, s.layerBits])).toEqual([
      [3, [8, 8, 8, 8, 8]], [2, [8, 8, 8, 8, 4]],
    ]);
    expect(bitsPolicyProblems({ ...own, layers: own.layers.map((l) => (l.name === 'fc' ? { ...l, weightBits: 2 } : l)) })[0]).toMatchObject({ field: 'layers.4.bitsSchedule' });
  });

  it('trains each width with the layers\' bits of the IR and keeps one snapshot per width', async () => {
    const short = withBitsEdits(model, { bitsSchedule: [{ fromQatEpoch: 0, bits: 8 }, { fromQatEpoch: 1, bits: 2 }], layerBits: { conv1: 8 } });
    const r = await train(short, data, { ...base, batchNorm: false, epochs: 3, qatStartEpoch: 1 });
    expect(r.segments.map((g) => [g.bits, g.layerBits, g.fromEpoch, g.toEpoch])).toEqual([[8, [8, 8, 8, 8, 8], 1, 1], [2, [8, 2, 2, 2, 2], 2, 2]]);
    expect(r.history.map((h) => h.bits)).toEqual([2, 8, 2]);
    expect(r.history[2]!.ranges.map((x) => x.weightBits)).toEqual([8, 2, 2, 2, 2]);
    expect(r.layerBits).toEqual([8, 2, 2, 2, 2]);
  });

  const stage = (lrSchedule: Stage['lrSchedule'], length = 8): Stage => ({ phase: 'float', length, bits: 8, layerBits: [], learningRate: 1, lrSchedule, batchSize: 8 });
  const curve = (st: Stage) => Array.from({ length: st.length }, (_, k) => stageLearningRate(st, k));
  it('none: constant', () => {
    expect(curve(stage({ kind: 'none' }))).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
  });
  it('step: × 0.1 at 50 % and 75 % of the phase by default; or given milestones / step size', () => {
    expect(curve(stage({ kind: 'step' }))).toEqual([1, 1, 1, 1, 0.1, 0.1, 0.1 ** 2, 0.1 ** 2]);
    expect(curve(stage({ kind: 'step', milestones: [2, 3], gamma: 0.5 }, 5))).toEqual([1, 1, 0.5, 0.25, 0.25]);
    expect(curve(stage({ kind: 'step', stepSize: 2, gamma: 0.5 }, 5))).toEqual([1, 1, 0.5, 0.5, 0.25]);
  });
  it('cosine: from the phase lr down to minLr over the phase', () => {
    const c = curve(stage({ kind: 'cosine', minLr: 0 }, 4));
    expect(c[0]).toBe(1);
    expect(c[2]).toBeCloseTo(0.5, 12);
    expect(c[3]).toBeCloseTo((1 + Math.cos((3 * Math.PI) / 4)) / 2, 12);
    for (let k = 1; k < c.length; k++) expect(c[k]!).toBeLessThan(c[k - 1]!);
  });
  it('reduce-on-plateau: × factor after `patience` epochs without a lower validation loss (in a real run)', async () => {
    // lr 1e-30 leaves the weights unchanged, so the validation loss never improves after epoch 0.
    const r = await train(model, data, { ...base, batchNorm: false, epochs: 6, qatStartEpoch: 6, learningRate: 1e-30, lrSchedule: { kind: 'plateau', patience: 2, factor: 0.5 } });
    expect(r.history.map((h) => h.lr / 1e-30)).toEqual([1, 1, 1, 0.5, 0.5, 0.25].map((v) => expect.closeTo(v, 9)));
  });
});

describe('early stopping per phase', () => {
  it('stops the QAT phase on its patience and restores the best epoch\'s weights', async () => {
    // A large QAT lr makes the validation loss jump about; with restore-best the final weights are
    // those of the best QAT epoch, not the last one.
    const config: TrainConfig = {
      ...base, batchNorm: false, epochs: 14, qatStartEpoch: 2, learningRate: 3e-3,
      qat: { learningRate: 3, earlyStopping: { patience: 2, monitor: 'valLoss', restoreBest: true } },
    };
    const r = await train(model, data, config);
    const qat = r.history.filter((h) => h.phase === 'qat');
    const bestLoss = Math.min(...qat.map((h) => h.valLoss));
    const best = qat.find((h) => h.valLoss === bestLoss)!;
    expect(r.stoppedEarly).toEqual({ float: false, qat: true });
    expect(r.bestEpoch.qat).toBe(best.epoch);
    // Stopped `patience` epochs after the best one, well before the planned 12 QAT epochs.
    expect(qat[qat.length - 1]!.epoch).toBe(best.epoch + 2);
    expect(r.history.length).toBeLessThan(14);
    expect(best.epoch).toBeLessThan(qat[qat.length - 1]!.epoch);
    // The returned weights are the best epoch's: same per-layer weight range as recorded then.
    const range = (p: (typeof r.floatParams)[number]) => {
      const all = [...p.weight, ...(p.bias ?? [])];
      return [Math.min(...all), Math.max(...all)];
    };
    r.floatParams.forEach((p, i) => expect(range(p)).toEqual([best.ranges[i]!.weightMin, best.ranges[i]!.weightMax]));
    const last = qat[qat.length - 1]!;
    expect(r.floatParams.some((p, i) => range(p)[1] !== last.ranges[i]!.weightMax)).toBe(true);
    expect(r.segments).toHaveLength(1);
    expect(r.segments[0]!.bestEpoch).toBe(best.epoch);
  });

  it('an early-stopped float phase starts QAT at once and QAT keeps its planned length', async () => {
    const r = await train(model, data, {
      ...base, batchNorm: false, epochs: 12, qatStartEpoch: 9, learningRate: 1e-30,
      earlyStopping: { patience: 1 }, qat: { learningRate: 1e-3 },
    });
    // float: epoch 0 best, epoch 1 no better → QAT from epoch 2, for the planned 3 epochs.
    expect(r.history.map((h) => h.phase)).toEqual(['float', 'float', 'qat', 'qat', 'qat']);
    expect(r.qatStart).toBe(2);
    expect(r.stoppedEarly.float).toBe(true);
    expect(r.history[2]!.lr).toBe(1e-3);
  });
});
