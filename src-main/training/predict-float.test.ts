// predictFloat in QAT mode against the real toolchain: the conformance checkpoints (quantized by
// ai8x-synthesis, read here with real PyTorch) turned into float QAT parameters must give the
// accelerator's 32-bit outputs exactly as float × 2^14, for 8-bit and mixed 8/4/2-bit networks.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { Model, WeightBits } from '../ir/graph.ts';
import { ai85net5, ecgNet } from '../ir/zoo.ts';
import { predictFloat } from './predict-float.ts';

const READER = String.raw`
import json, sys, glob, os, torch, numpy as np
d = sys.argv[1]
sd = torch.load(os.path.join(d, 'checkpoint.pth.tar'), map_location='cpu')['state_dict']
layers = []
for k, v in sd.items():
    if k.endswith('.op.weight'):
        n = k[:-len('.op.weight')]
        layers.append({'name': n, 'weight': v.flatten().tolist(),
            'bias': sd[n + '.op.bias'].flatten().tolist() if n + '.op.bias' in sd else None,
            'shift': float(sd[n + '.output_shift'].item()),
            'bits': int(sd[n + '.weight_bits'].item()) if n + '.weight_bits' in sd else 8})
cases = {}
for f in sorted(glob.glob(os.path.join(d, '*.input.npy'))):
    c = os.path.basename(f).split('.')[0]
    cases[c] = {'input': np.load(f).flatten().tolist(), 'expected': np.load(os.path.join(d, c + '.expected.npy')).flatten().tolist()}
print(json.dumps({'layers': layers, 'cases': cases}))
`;
import { CONFORMANCE, PYTHON, gate, need } from '../../test/support/fixtures.ts';

interface Fixture {
  layers: { name: string; weight: number[]; bias: number[] | null; shift: number; bits: WeightBits }[];
  cases: Record<string, { input: number[]; expected: number[] }>;
}

const torch = gate(need.torch());

function read(dir: string): Fixture {
  const r = spawnSync(PYTHON, ['-c', READER, `${CONFORMANCE}/${dir}`], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`reading ${dir}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Fixture;
}

describe.skipIf(torch.skip)('predictFloat (QAT) = the MAX78002 toolchain, integer for integer' + torch.note, () => {
  it.each([
    ['mnist-qat8', ai85net5()],
    ['ecg1d-mixed', ecgNet()],
  ] as [string, Model][])('%s', (dir, model) => {
    const fx = read(dir);
    // Integer checkpoint → float QAT parameters on the b-bit grid: w = w_int/2^(b−1)·2^shift; the
    // izer keeps floor(bias_ckpt / 2^(b−1)) as the bias register (max78002.md §2.3).
    const params = fx.layers.map((l) => {
      const grid = 2 ** (l.bits - 1);
      const scale = 2 ** l.shift;
      return {
        name: l.name,
        weight: Float32Array.from(l.weight, (w) => (w / grid) * scale),
        bias: l.bias ? Float32Array.from(l.bias, (b) => (Math.floor(b / grid) / grid) * scale) : null,
      };
    });
    model.layers.forEach((layer, i) => {
      layer.hasBias = fx.layers[i]!.bias !== null;
    });
    const qat = { shifts: fx.layers.map((l) => l.shift), bits: fx.layers.map((l) => l.bits) };
    expect(Object.keys(fx.cases).length).toBeGreaterThan(0);
    for (const c of Object.values(fx.cases)) {
      const out = predictFloat(model, params, Float32Array.from(c.input, (v) => v / 128), 1, { qat });
      expect(Array.from(out, (v) => v * 16384)).toEqual(c.expected);
    }
  });
});
