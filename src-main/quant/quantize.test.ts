import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { bitShiftFor, quantizeLayer, quantizeModel } from './quantize.ts';
import { absQuantile } from './fixed-point.ts';
import { postTrainingQuantize } from './ptq.ts';
import { ecgNet } from '../ir/zoo.ts';
import type { WeightBits } from '../ir/graph.ts';
import type { FloatLayerParams } from '../ir/float-params.ts';
import { seededRng } from '../data/random.ts';
import { withLayerBits } from '../ir/bits-policy.ts';

function randomParams(name: string, nw: number, nb: number, scale: number, seed: number): FloatLayerParams {
  const rng = seededRng(seed);
  const g = () => (rng() + rng() + rng() - 1.5) * scale;
  return { name, weight: Float32Array.from({ length: nw }, g), bias: nb ? Float32Array.from({ length: nb }, g) : null };
}

// The §2.4 formulas written independently in PyTorch (float32, torch.quantile, torch.round).
const TORCH = `
import sys, json, torch
cases = json.load(sys.stdin)
out = []
for c in cases:
    w = torch.tensor(c['w'], dtype=torch.float32)
    b = torch.tensor(c['b'], dtype=torch.float32) if c['b'] is not None else None
    bits = c['bits']
    p = torch.cat((w.flatten(), b.flatten())) if b is not None else w.flatten()
    lim = torch.quantile(p.abs(), c['q'])
    shift = int(torch.floor(torch.log2(1.0 / lim)).item())
    shift = max(-7 - bits, min(23 - bits, shift))
    f = 2.0 ** (bits - 1) * 2.0 ** shift
    wq = torch.clamp(torch.floor(w * f + 0.5), -2 ** (bits - 1), 2 ** (bits - 1) - 1)
    bq = torch.clamp(torch.round(b * f), -2 ** (bits - 1), 2 ** (bits - 1) - 1) if b is not None else None
    out.append({'shift': shift, 'w': [int(v) for v in wq.tolist()], 'b': [int(v) for v in bq.tolist()] if bq is not None else None})
print(json.dumps(out))
`;

describe('quantize (quantize.py default path)', () => {
  it('matches the §2.4 formulas run in PyTorch float32, integer for integer', () => {
    const cases: { p: FloatLayerParams; bits: WeightBits; q: number }[] = [];
    let seed = 1;
    for (const bits of [8, 4, 2, 1] as WeightBits[]) {
      for (const [scale, q] of [[0.3, 1], [0.02, 1], [2.5, 1], [0.3, 0.985]] as const) {
        cases.push({ p: randomParams('l', 300, 12, scale, seed++), bits, q });
      }
    }
    cases.push({ p: randomParams('nobias', 200, 0, 0.1, 99), bits: 8, q: 1 });
    // Values on the rounding edges: exact halves after scaling.
    cases.push({ p: { name: 'edges', weight: Float32Array.from([0.5, -0.5, 0.25, 1 / 256, -1 / 256, 3 / 512, -3 / 512]), bias: Float32Array.from([1 / 512, -1 / 512, 3 / 512]) }, bits: 8, q: 1 });
    const run = spawnSync('/usr/bin/python3', ['-c', TORCH], {
      input: JSON.stringify(cases.map((c) => ({ w: Array.from(c.p.weight), b: c.p.bias ? Array.from(c.p.bias) : null, bits: c.bits, q: c.q }))),
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    });
    expect(run.stderr).toBe('');
    const ref = JSON.parse(run.stdout) as { shift: number; w: number[]; b: number[] | null }[];
    cases.forEach((c, i) => {
      const { params, info } = quantizeLayer(c.p, c.bits, c.q);
      expect(info.bitShift, `case ${i}`).toBe(ref[i]!.shift);
      expect(info.outputShift).toBe(-ref[i]!.shift);
      expect(Array.from(params.weights), `case ${i} weights`).toEqual(ref[i]!.w);
      expect(params.bias ? Array.from(params.bias) : null, `case ${i} bias`).toEqual(ref[i]!.b);
    });
  });

  it('clamps the shift to [−7−b, 23−b] and picks the quantile', () => {
    expect(bitShiftFor(0, 8)).toBe(15);
    expect(bitShiftFor(1e-9, 2)).toBe(21);
    expect(bitShiftFor(1e6, 8)).toBe(-15);
    expect(bitShiftFor(0.3, 8)).toBe(1);
    expect(absQuantile(Float32Array.from([1, -2, 3]), Float32Array.from([-4]), 1)).toBe(4);
    expect(absQuantile(Float32Array.from([1, -2, 3]), Float32Array.from([-4]), 0.5)).toBe(2.5);
  });

  it('quantizes a whole model with per-layer bits, names errors, and PTQ uses the max', () => {
    const m = ecgNet('MAX78002', 64, 3);
    const shapes: Record<string, number> = {};
    const fp = m.layers.map((l, i) => {
      const k = l.kernel[0] * l.kernel[1];
      const n = l.op === 'linear' ? l.outChannels * l.inChannels * 2 : l.outChannels * l.inChannels * k;
      shapes[l.name] = n;
      return randomParams(l.name, n, l.hasBias ? l.outChannels : 0, 0.2, 10 + i);
    });
    const { model, layers } = quantizeModel(withLayerBits(m, { conv2: 4, conv3: 2 }), fp, { shiftQuantile: 0.99 });
    expect(model.layers.map((l) => l.weightBits)).toEqual([8, 4, 2, 8, 8]);
    expect(model.layers[1]!.params!.weights.every((w) => w >= -8 && w <= 7)).toBe(true);
    expect(model.layers[2]!.params!.bias!.every((b) => b >= -2 && b <= 1)).toBe(true);
    expect(layers[0]!.outputShift).toBe(model.layers[0]!.outputShift);
    expect(layers.some((l) => l.clippedShare > 0)).toBe(true); // quantile 0.99 clips the tail
    expect(m.layers[0]!.params).toBeUndefined(); // input untouched
    const ptq = postTrainingQuantize(m, fp);
    expect(ptq.layers.every((l) => l.clippedShare === 0)).toBe(true);
    expect(() => quantizeModel(m, fp.slice(1))).toThrow(/no float parameters for layer "conv1"/);
    expect(() => quantizeModel(m, fp.map((p) => ({ ...p, bias: null })))).toThrow(/"conv1" has bias in the model/);
  });
});
