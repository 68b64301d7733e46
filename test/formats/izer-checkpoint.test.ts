import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Layer, Model } from '../../src-main/ir/graph.ts';
import { FormatError } from '../../src-main/formats/format-error.ts';
import { writeIzerCheckpoint } from '../../src-main/formats/izer-checkpoint.ts';
import type { NdArray } from '../../src-main/formats/npy.ts';
import { readTorchCheckpoint } from '../../src-main/formats/torch-checkpoint.ts';
import { pythonModules, runPython } from './python.ts';
import { gate } from '../support/fixtures.ts';
import { CONFORMANCE } from '../support/fixtures.ts';

const CONF = CONFORMANCE;
const py = gate(pythonModules('torch'));

/**
 * An IR model rebuilt from a quantized fixture checkpoint the way an import would: integer
 * weights, β = floor(bias / 2^(b-1)), output shift and bits per layer. Op from weight rank.
 */
function modelFrom(sd: Map<string, NdArray>, arch: string): Model {
  const layers: Layer[] = [];
  for (const [key, w] of sd) {
    if (!key.endsWith('.op.weight')) continue;
    const L = key.slice(0, -'.op.weight'.length);
    const b = Number((sd.get(`${L}.weight_bits`)!.data as any)[0]) as 1 | 2 | 4 | 8;
    const bias = sd.get(`${L}.op.bias`);
    const op = w.shape.length === 4 ? 'conv2d' : w.shape.length === 3 ? 'conv1d' : 'linear';
    layers.push({
      name: L, op, inChannels: w.shape[1]!, outChannels: w.shape[0]!,
      kernel: op === 'conv2d' ? [w.shape[2]!, w.shape[3]!] : op === 'conv1d' ? [w.shape[2]!, 1] : [1, 1],
      pad: 1, stride: 1, flatten: false, activation: 'relu', weightBits: b,
      outputShift: (sd.get(`${L}.output_shift`)!.data as Float32Array)[0]!, outputWidth: 8, hasBias: !!bias,
      params: {
        weights: Int8Array.from(w.data as Float32Array),
        bias: bias ? Int32Array.from(bias.data as Float32Array, (v) => Math.floor(v / 2 ** (b - 1))) : null,
      },
    });
  }
  layers.splice(1, 0, { ...layers[0]!, name: 'skip', op: 'passthrough', params: undefined, hasBias: false });
  return { arch, dataset: 'x', device: 'MAX78002', input: { channels: 1, dims: [28, 28], format: 'CHW' }, layers };
}

describe('writeIzerCheckpoint', () => {
  for (const dir of ['mnist-qat8', 'ecg1d-mixed']) {
    it(`${dir}: reproduces the fixture's weights, biases, shifts and bits in layer order`, () => {
      const fx = readTorchCheckpoint(readFileSync(join(CONF, dir, 'checkpoint.pth.tar')));
      const model = modelFrom(fx.stateDict, fx.arch!);
      const bytes = writeIzerCheckpoint(model, { epoch: 42 });
      const ck = readTorchCheckpoint(bytes);
      expect(ck.epoch).toBe(42);
      expect(ck.arch).toBe(fx.arch);
      expect((ck.extras as Map<string, unknown>).get('clipping_method')).toBe('MAX_BIT_SHIFT');
      const weightKeys = (m: Map<string, NdArray>) => [...m.keys()].filter((k) => k.endsWith('.op.weight'));
      expect(weightKeys(ck.stateDict)).toEqual(weightKeys(fx.stateDict));
      for (const [k, a] of ck.stateDict) {
        expect(a.dtype, k).toBe('float32');
        const suffix = k.slice(k.indexOf('.') + 1);
        // shift_quantile only steers quantize.py, never the izer: we always write 1.0.
        if (suffix === 'shift_quantile') { expect(Array.from(a.data as Float32Array)).toEqual([1]); continue; }
        const ref = fx.stateDict.get(k);
        expect(ref, k).toBeDefined();
        expect(a.shape, k).toEqual(ref!.shape);
        const refValues = Array.from(ref!.data as ArrayLike<number | bigint>, Number);
        if (suffix === 'op.bias') {
          // The izer keeps floor(bias / 2^(b-1)); fixtures may carry low bits it drops (fc: 2936 → 22).
          const b = Number((ck.stateDict.get(k.replace('op.bias', 'weight_bits'))!.data as Float32Array)[0]);
          const beta = (v: number) => Math.floor(v / 2 ** (b - 1));
          expect(Array.from(a.data as Float32Array, beta), k).toEqual(refValues.map(beta));
          expect(Array.from(a.data as Float32Array).every((v) => v % 2 ** (b - 1) === 0), k).toBe(true);
        } else {
          expect(Array.from(a.data as Float32Array), k).toEqual(refValues);
        }
      }
      // Every fixture key we are meant to write is there (no BN leftovers in these fixtures).
      for (const k of fx.stateDict.keys()) expect(ck.stateDict.has(k), k).toBe(true);
    });
  }
  it.skipIf(py.skip)('is read by torch.load(weights_only=True) with integer-valued float32 weights' + py.note, () => {
    const fx = readTorchCheckpoint(readFileSync(join(CONF, 'ecg1d-mixed', 'checkpoint.pth.tar')));
    const p = join(mkdtempSync(join(tmpdir(), 'izer-')), 'q.pth.tar');
    writeFileSync(p, writeIzerCheckpoint(modelFrom(fx.stateDict, 'ai87ecgnet'), { epoch: 5 }));
    const r = runPython(`
import sys, json, torch
c = torch.load(sys.argv[1], map_location='cpu', weights_only=True)
sd = c['state_dict']
print(json.dumps({'epoch': c['epoch'], 'arch': c['arch'], 'extras': c['extras'], 'keys': list(sd.keys()),
  'dtypes': sorted({str(t.dtype) for t in sd.values()}),
  'int': all(bool((t == t.round()).all()) for t in sd.values()),
  'w': sd['conv1.op.weight'].flatten()[:5].tolist(), 'b': sd['conv1.op.bias'].tolist()}))`, [p]);
    expect(r.epoch).toBe(5);
    expect(r.arch).toBe('ai87ecgnet');
    expect(r.extras).toEqual({ clipping_method: 'MAX_BIT_SHIFT' });
    expect(r.dtypes).toEqual(['torch.float32']);
    expect(r.int).toBe(true);
    expect(r.w).toEqual(Array.from((fx.stateDict.get('conv1.op.weight')!.data as Float32Array).slice(0, 5)));
    const b1 = Number((fx.stateDict.get('conv1.weight_bits')!.data as BigInt64Array)[0]);
    expect(r.b.map((v: number) => Math.floor(v / 2 ** (b1 - 1))))
      .toEqual(Array.from(fx.stateDict.get('conv1.op.bias')!.data as Float32Array, (v) => Math.floor(v / 2 ** (b1 - 1))));
    expect(r.keys.slice(0, 8)).toEqual(['conv1.output_shift', 'conv1.weight_bits', 'conv1.bias_bits', 'conv1.quantize_activation',
      'conv1.adjust_output_shift', 'conv1.shift_quantile', 'conv1.op.weight', 'conv1.op.bias']);
  });
  it('refuses a layer without params, out-of-range weights and a weight count that does not fit the shape', () => {
    const fx = readTorchCheckpoint(readFileSync(join(CONF, 'ecg1d-mixed', 'checkpoint.pth.tar')));
    const base = modelFrom(fx.stateDict, 'a');
    const noParams = { ...base, layers: base.layers.map((l, i) => (i === 0 ? { ...l, params: undefined } : l)) };
    expect(() => writeIzerCheckpoint(noParams)).toThrow(FormatError);
    const wide = { ...base, layers: base.layers.map((l, i) => (i === 0 ? { ...l, weightBits: 2 as const } : l)) };
    expect(() => writeIzerCheckpoint(wide)).toThrow(/conv1\.op\.weight\[\d+\]: expected a 2-bit weight/);
    const bad = { ...base, layers: base.layers.map((l, i) => (i === 0 ? { ...l, inChannels: 3 } : l)) };
    expect(() => writeIzerCheckpoint(bad)).toThrow(/conv1\.op\.weight: expected conv1d weights of shape \(16, 3, 5\)/);
  });
});
