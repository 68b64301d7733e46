// Your own network, end to end through the CLI as a user runs it: import (ONNX from PyTorch, an
// ai8x YAML + quantized checkpoint) → model.json → `qatwb train` (1 float + 1 QAT epoch) → exports
// that pass the checkpoint verification → `qatwb simulate` reproduces the exported known answer →
// the real ai8x-synthesis accepts the export and computes the same known answer, integer for integer.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNpy, toNumbers, writeNpy } from '../../src-main/formats/npy.ts';
import { seededRng } from '../../src-main/data/random.ts';
import { conformance, FIXTURES, missing, need, REPO_ROOT, skipNote } from '../support/fixtures.ts';
import { runRealIzer } from '../izer/izer-harness.ts';

const qatwb = (args: string[]) => spawnSync('node', [join(REPO_ROOT, 'bin/qatwb.mjs'), ...args], { encoding: 'utf8', timeout: 600_000 });
const NETS = join(FIXTURES, 'networks');

/** Class-dependent waves (C channels × L samples) in [0, 1], as .npy data and label files. */
function waves(dir: string, channels: number, length: number, classes: number, count: number): string[] {
  const rng = seededRng(channels * 100 + length);
  const x = new Float32Array(count * channels * length);
  const y = new BigInt64Array(count);
  for (let i = 0; i < count; i++) {
    const k = i % classes;
    y[i] = BigInt(k);
    for (let c = 0; c < channels; c++)
      for (let t = 0; t < length; t++) x[(i * channels + c) * length + t] = 0.5 + 0.35 * Math.sin((2 * Math.PI * (k + 1 + c) * t) / length * 2) + 0.05 * (rng() - 0.5);
  }
  const xf = join(dir, 'x.npy'), yf = join(dir, 'y.npy');
  writeFileSync(xf, writeNpy({ dtype: 'float32', shape: [count, channels, length], data: x }));
  writeFileSync(yf, writeNpy({ dtype: 'int64', shape: [count], data: y }));
  return ['--data', xf, '--labels', yf, '--scale', 'unit'];
}

const ints = (file: string): number[] => Array.from(toNumbers(readNpy(readFileSync(file), file), file) as ArrayLike<number | bigint>, Number);

interface Case {
  name: string;
  importArgs: string[];
  data: (dir: string) => string[];
  summary: { layers: number; batchNormLeft: number; qatParameters: number };
}

const cases: Case[] = [
  {
    name: '1-D ECG CNN with BatchNorm (PyTorch → ONNX opset 11)',
    importArgs: ['--model', join(NETS, 'ecg-bn.onnx')],
    data: (d) => waves(d, 1, 128, 5, 250),
    summary: { layers: 5, batchNormLeft: 2, qatParameters: 0 },
  },
  {
    name: '3-axis 1-D fall-detection CNN (PyTorch → ONNX opset 13)',
    importArgs: ['--model', join(NETS, 'fall-3axis.onnx')],
    data: (d) => waves(d, 3, 64, 2, 200),
    summary: { layers: 5, batchNormLeft: 0, qatParameters: 0 },
  },
  {
    name: 'ai8x network YAML + quantized checkpoint (ecg1d-mixed, 8/4/2-bit)',
    importArgs: ['--model', conformance('ecg1d-mixed', 'network.yaml'), '--checkpoint', conformance('ecg1d-mixed', 'checkpoint.pth.tar'), '--input-shape', '1,512'],
    data: (d) => waves(d, 1, 512, 5, 150),
    summary: { layers: 5, batchNormLeft: 0, qatParameters: 5 },
  },
];

describe.skipIf(missing(need.izer()))(`own network: import → train → export → simulate → real ai8x-synthesis${skipNote(need.izer())}`, () => {
  for (const c of cases) {
    it(c.name, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'qatwb-own-'));
      const imp = qatwb(['import', ...c.importArgs, '--out', join(dir, 'net'), '--json']);
      expect(imp.status, imp.stderr).toBe(0);
      const s = JSON.parse(imp.stdout);
      expect(s.layers).toBe(c.summary.layers);
      expect(s.params).toBeGreaterThan(100);
      expect(s.weightBytes).toBeGreaterThan(0);
      expect(s.verification).toMatchObject({ batchNormLeft: c.summary.batchNormLeft, qatParameters: c.summary.qatParameters });
      expect(Array.isArray(s.warnings)).toBe(true);
      const modelJson = join(dir, 'net', 'model.json');
      expect(JSON.parse(readFileSync(modelJson, 'utf8')).schema).toBe('qatwb.model');

      const out = join(dir, 'export');
      const tr = qatwb(['train', '--model', modelJson, ...c.data(dir), '--float-epochs', '1', '--qat-epochs', '1', '--batch-size', '32', '--out', out, '--json']);
      expect(tr.status, tr.stderr).toBe(0);
      const res = JSON.parse(tr.stdout);
      const weighted = c.summary.layers - (c.name.startsWith('1-D ECG') ? 1 : 0); // the ECG net has a pooling-only layer
      expect(res.verification).toEqual({ batchNormLeft: 0, qatParameters: weighted, onGrid: true });
      expect(res.network).toMatchObject({ layers: c.summary.layers, batchNormLayers: c.summary.batchNormLeft });
      const q = JSON.parse(readFileSync(join(out, 'quantization.json'), 'utf8'));
      expect(q.verification).toEqual(res.verification);

      // `qatwb simulate` on the export reproduces the exported known answer.
      const sim = qatwb(['simulate', '--checkpoint', join(out, 'checkpoint.pth.tar'), '--network', join(out, 'network.yaml'), '--input', join(out, 'sample.input.npy'), '--out', join(dir, 'sim.npy')]);
      expect(sim.status, sim.stderr).toBe(0);
      const expected = ints(join(out, 'sample.expected.npy'));
      expect(ints(join(dir, 'sim.npy'))).toEqual(expected);

      // The real ai8x-synthesis accepts it and computes the same known answer.
      const artifacts = { checkpoint: join(out, 'checkpoint.pth.tar'), yaml: join(out, 'network.yaml'), sampleInput: join(out, 'sample.input.npy'), sampleExpected: join(out, 'sample.expected.npy') };
      const izer = await runRealIzer({ dir, artifacts, plan: { device: 'MAX78002' } });
      expect(izer.izerOutput).toEqual(expected);
      expect(new Set(expected).size, 'a degenerate known answer would prove little').toBeGreaterThan(1);
    }, 300_000);
  }

  it('a 2-D CNN straight from its .onnx file trains on MNIST digits and exports what the izer accepts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qatwb-own-'));
    const out = join(dir, 'export');
    const tr = qatwb(['train', '--model', join(NETS, 'cnn2d.onnx'), '--example', 'mnist', '--limit', '400', '--float-epochs', '1', '--qat-epochs', '1', '--batch-size', '32', '--out', out, '--json']);
    expect(tr.status, tr.stderr).toBe(0);
    const res = JSON.parse(tr.stdout);
    expect(res.verification).toEqual({ batchNormLeft: 0, qatParameters: 4, onGrid: true });
    expect(res.network.source).toBe('onnx cnn2d.onnx');
    const artifacts = { checkpoint: join(out, 'checkpoint.pth.tar'), yaml: join(out, 'network.yaml'), sampleInput: join(out, 'sample.input.npy'), sampleExpected: join(out, 'sample.expected.npy') };
    const izer = await runRealIzer({ dir, artifacts, plan: { device: 'MAX78002' } });
    expect(izer.izerOutput).toEqual(ints(artifacts.sampleExpected));
  }, 300_000);
});

describe('own network: refusals through the CLI', () => {
  it('an undeployable ONNX model exits 2 with {error: {code, node, layer, message}} and writes nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qatwb-own-'));
    const r = qatwb(['import', '--model', join(NETS, 'bad/kernel-5x5.onnx'), '--out', join(dir, 'net'), '--json']);
    expect(r.status).toBe(2);
    const { error } = JSON.parse(r.stdout);
    expect(error).toEqual({ code: 'rule:conv2d-kernel', node: '/0/Conv', layer: 'l0', message: expect.stringMatching(/kernel 5x5 is not supported.*Fix: Use a 1x1 or 3x3 kernel/) });
    expect(existsSync(join(dir, 'net', 'model.json'))).toBe(false);
  });

  it('a YAML without its checkpoint, a model.json that is not one, and a network that does not fit the data are refused by name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qatwb-own-'));
    const noCkpt = qatwb(['import', '--model', conformance('ecg1d-mixed', 'network.yaml'), '--out', dir, '--json']);
    expect(noCkpt.status).toBe(2);
    expect(JSON.parse(noCkpt.stdout).error.message).toMatch(/needs its checkpoint.*--checkpoint/);
    writeFileSync(join(dir, 'bad.json'), '{"schema": "qatwb.model", "version": 7, "layers": []}');
    const badJson = qatwb(['import', '--model', join(dir, 'bad.json'), '--out', dir, '--json']);
    expect(badJson.status).toBe(2);
    expect(JSON.parse(badJson.stdout).error).toMatchObject({ code: 'model-json', message: expect.stringMatching(/model\.version: expected an integer from 1/) });
    const mismatch = qatwb(['train', '--model', join(NETS, 'fall-3axis.onnx'), ...waves(dir, 1, 64, 2, 40), '--float-epochs', '1', '--qat-epochs', '0', '--json']);
    expect(mismatch.status).not.toBe(0);
    expect(mismatch.stdout + mismatch.stderr).toMatch(/takes 3×64 samples but the data set has 1×64/);
  });
});
