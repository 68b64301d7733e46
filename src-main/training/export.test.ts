import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ecgNet } from '../ir/zoo.ts';
import type { FloatLayerParams } from '../ir/float-params.ts';
import { quantizeModel } from '../quant/quantize.ts';
import { readNpy } from '../formats/npy.ts';
import { seededRng } from '../data/random.ts';
import { exportFloatParams, quantizationReport, writeExports } from './export.ts';
import { deserializeModel } from '../ir/schema.ts';
import { withLayerBits } from '../ir/bits-policy.ts';

describe('exports', () => {
  it('writes all files; torch.load reads the checkpoint and `qatwb simulate` reproduces the expected sample', async () => {
    const model = ecgNet('MAX78002', 128, 4);
    const rng = seededRng(5);
    const fp: FloatLayerParams[] = model.layers.map((l) => {
      const n = l.op === 'linear' ? l.outChannels * l.inChannels * 2 : l.outChannels * l.inChannels * l.kernel[0];
      return { name: l.name, weight: Float32Array.from({ length: n }, () => (rng() - 0.5) * 0.6), bias: Float32Array.from({ length: l.outChannels }, () => (rng() - 0.5) * 0.2) };
    });
    const q = quantizeModel(withLayerBits(model, { conv2: 4, conv3: 2 }), fp);
    const sample = Int8Array.from({ length: 128 }, () => Math.floor(rng() * 256) - 128);
    const dir = join(mkdtempSync(join(tmpdir(), 'qatwb-export-')), 'out');
    const report = quantizationReport({
      model: q.model,
      policy: { epochs: 2, qatStart: 1, bits: 8, layerBits: { conv2: 4, conv3: 2 } },
      accuracy: { float: 0.5, ptq: 0.4, qat: 0.45, table: [], testSamples: 10 },
      layers: q.layers,
      history: [{ epoch: 0, phase: 'float', layers: [{ name: 'conv1', min: -1, max: 1 }] }],
      sample: { index: 0, label: 1, className: '1' },
    });
    const windows = Int8Array.from({ length: 3 * 128 }, () => Math.floor(rng() * 256) - 128);
    // A model that carried another data set's scaling in: the run's own replaces it in model.json.
    const carried = { ...q.model, input: { ...q.model.input, scaling: { kind: 'range' as const, min: 0, max: 4095 } } };
    const scaling = { kind: 'minmax' as const, min: -1.5, max: 3.25 };
    const res = await writeExports(dir, { model: carried, floatParams: fp, sample, epoch: 1, quantization: report, scaling, testWindows: { x: windows, labels: [2, 0, 3] } });
    expect(res.files.sort()).toEqual(['checkpoint.pth.tar', 'model.json', 'model.onnx', 'network.yaml', 'quantization.json', 'sample.expected.npy', 'sample.input.npy', 'test.labels.npy', 'test.windows.npy']);
    // The project's own test windows, as the virtual device's sensor and the live check read them.
    const tw = readNpy(new Uint8Array(readFileSync(join(dir, 'test.windows.npy'))));
    expect([tw.dtype, tw.shape, Array.from(tw.data as Int8Array)]).toEqual(['int8', [3, 1, 128], Array.from(windows)]);
    const tl = readNpy(new Uint8Array(readFileSync(join(dir, 'test.labels.npy'))));
    expect([tl.dtype, Array.from(tl.data as BigInt64Array, Number)]).toEqual(['int64', [2, 0, 3]]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const input = readNpy(new Uint8Array(readFileSync(join(dir, 'sample.input.npy'))));
    expect([input.dtype, input.shape]).toEqual(['int64', [1, 128]]);
    const expected = readNpy(new Uint8Array(readFileSync(join(dir, 'sample.expected.npy'))));
    expect(expected.shape).toEqual([4, 1, 1]);
    const qj = JSON.parse(readFileSync(join(dir, 'quantization.json'), 'utf8'));
    expect(qj.layers.map((l: { bits: number }) => l.bits)).toEqual([8, 4, 2, 8, 8]);
    expect(qj.layers[0].epochs[0].stats).toEqual({ name: 'conv1', min: -1, max: 1 });
    expect(qj.output.scale).toBe(2 ** 14);
    const back = deserializeModel(JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')));
    expect(Array.from(back.layers[1]!.params!.weights)).toEqual(Array.from(q.model.layers[1]!.params!.weights));
    expect(back.input.scaling).toEqual(scaling);

    // Real PyTorch reads the checkpoint: keys, integer weights, bits and shifts.
    const py = spawnSync('/usr/bin/python3', ['-c', `
import torch, json, sys
c = torch.load(sys.argv[1], map_location='cpu')
sd = c['state_dict']
print(json.dumps({'arch': c['arch'], 'epoch': c['epoch'], 'bits': [int(sd[n + '.weight_bits'].item()) for n in ['conv1','conv2','conv3','conv4','fc']],
  'shift': int(sd['conv2.output_shift'].item()), 'w': [int(v) for v in sd['conv2.op.weight'].flatten()[:16].tolist()],
  'integral': bool(torch.all(sd['conv3.op.weight'] == torch.round(sd['conv3.op.weight'])).item())}))
`, join(dir, 'checkpoint.pth.tar')], { encoding: 'utf8' });
    expect(py.stderr).toBe('');
    const t = JSON.parse(py.stdout);
    expect(t.arch).toBe('ai87ecgnet');
    expect(t.bits).toEqual([8, 4, 2, 8, 8]);
    expect(t.shift).toBe(q.model.layers[1]!.outputShift);
    expect(t.w).toEqual(Array.from(q.model.layers[1]!.params!.weights.subarray(0, 16)));
    expect(t.integral).toBe(true);

    // H2's simulator CLI on the exported checkpoint + YAML + sample reproduces sample.expected.npy.
    const outNpy = join(dir, '..', 'sim.npy');
    const sim = spawnSync('node', ['bin/qatwb.mjs', 'simulate', '--checkpoint', join(dir, 'checkpoint.pth.tar'), '--network', join(dir, 'network.yaml'), '--input', join(dir, 'sample.input.npy'), '--out', outNpy], { encoding: 'utf8' });
    expect(sim.status, sim.stderr).toBe(0);
    const simOut = readNpy(new Uint8Array(readFileSync(outNpy)));
    expect(Array.from(simOut.data as BigInt64Array, Number)).toEqual(Array.from(expected.data as BigInt64Array, Number));

    // A run without a recorded scaling does not pass on the one the model carried in.
    await writeExports(dir, { model: carried, floatParams: fp, sample, epoch: 1, quantization: report, scaling: null });
    expect(JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')).input).not.toHaveProperty('scaling');
    expect(simOut.shape).toEqual(expected.shape);
  });

  it('scales only a wide layer by 2^−outputShift for the float export', () => {
    const model = ecgNet('MAX78002', 64, 3);
    const layers = model.layers.map((l) => ({ ...l, outputShift: l.outputWidth === 32 ? 2 : -1 }));
    const fp = layers.map((l) => ({ name: l.name, weight: Float32Array.of(1, -2), bias: Float32Array.of(4) }));
    const out = exportFloatParams({ ...model, layers }, fp);
    expect(Array.from(out[0]!.weight)).toEqual([1, -2]);
    expect(Array.from(out[4]!.weight)).toEqual([0.25, -0.5]);
    expect(Array.from(out[4]!.bias!)).toEqual([1]);
  });
});
