// `qatwb train` end to end through a spawned CLI: a small MNIST run, the JSON figures, the exports
// read by real PyTorch, and H2's `qatwb simulate` reproducing the exported expected output.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { readNpy } from '../../formats/npy.ts';

const qatwb = (args: string[]) => spawnSync('node', ['bin/qatwb.mjs', ...args], { encoding: 'utf8', timeout: 600_000 });

describe('qatwb train', () => {
  it('trains a small MNIST subset, prints the three accuracies and writes izer-ready exports', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'qatwb-train-')), 'run');
    const r = qatwb(['train', '--example', 'mnist', '--limit', '600', '--epochs', '2', '--qat-start', '1', '--bits', '8', '--model', 'ai85net5', '--batch-size', '16', '--out', out, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout);
    for (const k of ['floatAccuracy', 'ptqAccuracy', 'qatAccuracy']) {
      expect(res[k]).toBeGreaterThan(0.25); // 10 classes: chance is 0.1
      expect(res[k]).toBeLessThanOrEqual(1);
    }
    expect(res.samplesPerSecond).toBeGreaterThan(0);
    expect(typeof res.backend).toBe('string');
    for (const f of ['checkpoint.pth.tar', 'network.yaml', 'sample.input.npy', 'sample.expected.npy', 'model.onnx', 'quantization.json', 'model.json']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const q = JSON.parse(readFileSync(join(out, 'quantization.json'), 'utf8'));
    expect(q.accuracy.qat).toBe(res.qatAccuracy);
    expect(q.layers[0].epochs.length).toBe(2);
    expect(q.layers[0].epochs.map((e: { phase: string }) => e.phase)).toEqual(['float', 'qat']);
    const stats = q.layers[4].epochs[1].stats;
    expect(stats.layer).toBe('fc');
    expect(stats.weightMax).toBeGreaterThan(stats.weightMin);
    expect(stats.weightHistogram.counts.reduce((a: number, b: number) => a + b, 0)).toBe(10 * 192 + 10); // weights ∪ bias
    expect(q.epochs.length).toBe(2);
    expect(q.input.scale).toBe(1 / 128);

    const py = spawnSync('/usr/bin/python3', ['-c', `
import torch, sys, json
c = torch.load(sys.argv[1], map_location='cpu')
sd = c['state_dict']
print(json.dumps({'arch': c['arch'], 'keys': len(sd), 'w': float(sd['conv1.op.weight'].abs().max()), 'shape': list(sd['fc.op.weight'].shape)}))
`, join(out, 'checkpoint.pth.tar')], { encoding: 'utf8' });
    expect(py.status, py.stderr).toBe(0);
    const t = JSON.parse(py.stdout);
    expect(t.arch).toBe('ai85net5');
    expect(t.shape).toEqual([10, 192]);
    expect(t.w).toBeGreaterThan(0);
    expect(t.w).toBeLessThanOrEqual(128);

    const simOut = join(out, '..', 'sim.npy');
    const s = qatwb(['simulate', '--checkpoint', join(out, 'checkpoint.pth.tar'), '--network', join(out, 'network.yaml'), '--input', join(out, 'sample.input.npy'), '--out', simOut]);
    expect(s.status, s.stderr).toBe(0);
    const expected = readNpy(new Uint8Array(readFileSync(join(out, 'sample.expected.npy'))));
    const got = readNpy(new Uint8Array(readFileSync(simOut)));
    expect(Array.from(got.data as BigInt64Array, Number)).toEqual(Array.from(expected.data as BigInt64Array, Number));

    // model.onnx in ONNX Runtime on the sample (int8 / 128) gives the float logits on the device's
    // scale: device value / quantization.json output.scale ≈ ONNX output (8-bit quantization noise).
    const sample = readNpy(new Uint8Array(readFileSync(join(out, 'sample.input.npy'))));
    const session = await ort.InferenceSession.create(join(out, 'model.onnx'));
    const x = Float32Array.from(sample.data as BigInt64Array, (v) => Number(v) / 128);
    const logits = Array.from((await session.run({ input: new ort.Tensor('float32', x, [1, ...sample.shape]) })).output!.data as Float32Array);
    const device = Array.from(expected.data as BigInt64Array, (v) => Number(v) / q.output.scale);
    const range = Math.max(...logits) - Math.min(...logits);
    expect(range).toBeGreaterThan(0);
    logits.forEach((v, i) => expect(Math.abs(v - device[i]!)).toBeLessThan(0.15 * range));
  });

  it('trains ecgnet on a 1-D CSV with mixed per-layer bits; the simulator reproduces the export', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'qatwb-train-csv-')), 'run');
    const r = qatwb(['train', '--data', 'resources/examples/synthetic-beats.csv', '--epochs', '2', '--qat-start', '1', '--bits', '8',
      '--layer-bits', 'conv2=4,conv3=2', '--batch-size', '16', '--out', out, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res.layers.map((l: { bits: number }) => l.bits)).toEqual([8, 4, 2, 8, 8]);
    expect(res.table.map((t: { total: number }) => t.total)).toEqual([60, 60, 60]);
    const yaml = readFileSync(join(out, 'network.yaml'), 'utf8');
    expect(yaml).toMatch(/operation: Conv1d/);
    expect(yaml).toMatch(/quantization: 2/);
    const input = readNpy(new Uint8Array(readFileSync(join(out, 'sample.input.npy'))));
    expect(input.shape).toEqual([1, 187]);
    const simOut = join(out, '..', 'sim.npy');
    const s = qatwb(['simulate', '--checkpoint', join(out, 'checkpoint.pth.tar'), '--network', join(out, 'network.yaml'), '--input', join(out, 'sample.input.npy'), '--out', simOut]);
    expect(s.status, s.stderr).toBe(0);
    const expected = readNpy(new Uint8Array(readFileSync(join(out, 'sample.expected.npy'))));
    expect(Array.from(readNpy(new Uint8Array(readFileSync(simOut))).data as BigInt64Array, Number)).toEqual(Array.from(expected.data as BigInt64Array, Number));
  });

  it('names the bad option or file', () => {
    const a = qatwb(['train', '--example', 'mnist', '--bits', '3']);
    expect(a.status).toBe(2);
    expect(a.stderr).toMatch(/--bits expects 1, 2, 4 or 8, got "3"/);
    const b = qatwb(['train', '--data', '/nonexistent/beats.csv', '--epochs', '1', '--qat-start', '0', '--json']);
    expect(b.status).toBe(1);
    expect(JSON.parse(b.stdout).error).toMatchObject({ code: 'not-found' });
    expect(b.stderr).toMatch(/\/nonexistent\/beats\.csv: cannot read the file/);
  });
});
