// pool() on the training backend (wasm) against tf.maxPool / tf.avgPool with their stock gradients
// on the cpu backend: 2-D and 1-D windows, a ragged edge (floor mode), overlapping windows, and
// max pooling of data on the QAT 1/128 grid, where ties are common and the gradient must go to the
// first maximum of each window as tfjs (and PyTorch) route it.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend.ts';
import { pool, type PoolSpec } from './pooling.ts';
import { seededRng } from '../../data/random.ts';

interface Case { name: string; shape: [number, number, number, number]; spec: PoolSpec; grid?: number }

const cases: Case[] = [
  { name: 'max 2x2, float', shape: [2, 8, 6, 3], spec: { kind: 'max', size: [2, 2], stride: [2, 2] } },
  { name: 'max 2x2, QAT grid with ties', shape: [2, 8, 6, 3], spec: { kind: 'max', size: [2, 2], stride: [2, 2] }, grid: 128 },
  { name: 'max 3x3 ragged 7x8, QAT grid with ties', shape: [2, 7, 8, 2], spec: { kind: 'max', size: [3, 3], stride: [3, 3] }, grid: 128 },
  { name: 'max 1x4 (1-D), QAT grid with ties', shape: [2, 1, 16, 3], spec: { kind: 'max', size: [1, 4], stride: [1, 4] }, grid: 128 },
  { name: 'max 3x3 stride 2 (overlapping)', shape: [2, 7, 7, 2], spec: { kind: 'max', size: [3, 3], stride: [2, 2] } },
  { name: 'avg 2x2 ragged 7x6', shape: [2, 7, 6, 3], spec: { kind: 'avg', size: [2, 2], stride: [2, 2] } },
  { name: 'avg 1x4 (1-D)', shape: [2, 1, 16, 3], spec: { kind: 'avg', size: [1, 4], stride: [1, 4] } },
  { name: 'avg 3x3', shape: [1, 9, 9, 2], spec: { kind: 'avg', size: [3, 3], stride: [3, 3] } },
];

function run(c: Case, x: Float32Array, r: Float32Array, ours: boolean): { value: Float32Array; dx: Float32Array } {
  const v = tf.variable(tf.tensor4d(x, c.shape));
  let value: Float32Array | undefined;
  const { value: loss, grads } = tf.variableGrads(() => {
    const { size, stride } = c.spec;
    const y = ours
      ? pool(v, c.spec, c.grid ? { grid: c.grid } : {})
      : c.spec.kind === 'max' ? tf.maxPool(v, size, stride, 'valid') : tf.avgPool(v, size, stride, 'valid');
    value = y.dataSync().slice() as Float32Array;
    return tf.sum(tf.mul(y, tf.tensor(r.subarray(0, y.size), y.shape)));
  }, [v]);
  const out = { value: value!, dx: grads[v.name]!.dataSync().slice() as Float32Array };
  tf.dispose([loss, v, ...Object.values(grads)]);
  return out;
}

beforeAll(async () => {
  await initBackend();
});

describe('pooling gradients equal tfjs stock gradients on cpu', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    expect(tf.getBackend()).toBe('wasm');
    const rng = seededRng(11);
    const n = c.shape.reduce((a, b) => a * b, 1);
    // Grid data from a few levels, so most windows hold tied maxima.
    const x = Float32Array.from({ length: n }, () => (c.grid ? Math.floor(rng() * 3) / c.grid : rng() * 2 - 1));
    const r = Float32Array.from({ length: n }, () => rng() * 2 - 1);
    const ours = run(c, x, r, true);
    await tf.setBackend('cpu');
    let ref: ReturnType<typeof run>;
    try {
      ref = run(c, x, r, false);
    } finally {
      await tf.setBackend('wasm');
    }
    // Max pooling picks values; averaging sums in another order on each backend.
    if (c.spec.kind === 'max') expect(Array.from(ours.value)).toEqual(Array.from(ref.value));
    ref.value.forEach((v, i) => expect(Math.abs(ours.value[i]! - v)).toBeLessThan(1e-6));
    let worst = 0;
    ref.dx.forEach((want, i) => (worst = Math.max(worst, Math.abs(ours.dx[i]! - want))));
    expect(worst).toBeLessThan(1e-6);
    expect(Math.max(...Array.from(ref.dx, Math.abs))).toBeGreaterThan(0.1);
  });
});
