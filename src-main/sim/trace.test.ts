import { describe, expect, it } from 'vitest';
import { ai85netExtraSmall } from '../ir/zoo.ts';
import type { Model } from '../ir/graph.ts';
import { simulate } from './simulate.ts';
import { firstDivergence } from './trace.ts';

function withParams(m: Model, seed: number): Model {
  let s = seed;
  const r = (): number => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return (s >>> 24) - 128; };
  const feats = [9, 72, 72, 128];
  return { ...m, layers: m.layers.map((l, i) => ({ ...l, params: { weights: Int8Array.from({ length: l.outChannels * feats[i]! }, r), bias: l.hasBias ? Int32Array.from({ length: l.outChannels }, () => r() >> 2) : null } })) };
}

describe('firstDivergence', () => {
  it('finds the first layer whose integers differ, and reports null for identical traces', () => {
    const m = withParams(ai85netExtraSmall(), 3);
    const x = Int32Array.from({ length: 784 }, (_, i) => ((i * 7919) % 256) - 128);
    const a = simulate(m, x, { allLayers: true }).layers!;
    expect(firstDivergence(a, a)).toBeNull();
    // Change one weight of layer 1: layers 0 stays equal, layer 1 is the first to differ.
    const m2 = { ...m, layers: m.layers.map((l, i) => (i === 1 ? { ...l, params: { ...l.params!, weights: l.params!.weights.map((w, k) => (k === 40 ? (w > 0 ? -100 : 100) : w)) } } : l)) };
    const b = simulate(m2, x, { allLayers: true }).layers!;
    const d = firstDivergence(a, b)!;
    expect(d.layer).toBe(1);
    expect(d.name).toBe('conv2');
    expect(d.count).toBeGreaterThan(0);
    expect(d.expected).not.toBe(d.actual);
  });
});

describe('createSimulator', () => {
  it('reuses one compiled program for many inputs with the same results as simulate()', async () => {
    const { createSimulator } = await import('./simulate.ts');
    const m = withParams(ai85netExtraSmall(), 5);
    const sim = createSimulator(m);
    for (let k = 0; k < 3; k++) {
      const x = Int32Array.from({ length: 784 }, (_, i) => ((i * (k + 3) * 31) % 256) - 128);
      expect(Array.from(sim.run(x).output)).toEqual(Array.from(simulate(m, x, { engine: 'js' }).output));
    }
    expect(() => sim.run(new Int32Array(10))).toThrow(/784/);
  });

  it('refuses parameters that do not match the layer shape', async () => {
    const { createSimulator } = await import('./simulate.ts');
    const m = withParams(ai85netExtraSmall(), 5);
    m.layers[2] = { ...m.layers[2]!, params: { weights: new Int8Array(10), bias: null } };
    expect(() => createSimulator(m)).toThrow(/Layer 2 \(conv3\) has 10 weights; its shape needs 576/);
  });
});
