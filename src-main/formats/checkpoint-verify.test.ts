// The checkpoint verification on real quantize.py output (conformance mnist-qat8, ecg1d-mixed) and on
// copies with one fault each: BatchNorm left, a QAT parameter missing, a weight off the grid.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { verifyCheckpoint, verifyModel } from './checkpoint-verify.ts';
import { readTorchCheckpoint, writeTorchCheckpoint } from './torch-checkpoint.ts';
import type { NdArray } from './npy.ts';
import { conformance } from '../../test/support/fixtures.ts';
import { importOnnx } from './import-onnx.ts';
import { join } from 'node:path';
import { FIXTURES } from '../../test/support/fixtures.ts';

const mnist = readFileSync(conformance('mnist-qat8', 'checkpoint.pth.tar'));

function edited(edit: (sd: Map<string, NdArray>) => void): Uint8Array {
  const c = readTorchCheckpoint(mnist);
  edit(c.stateDict);
  return writeTorchCheckpoint({ epoch: c.epoch ?? 0, arch: c.arch ?? 'ai85net5', state_dict: c.stateDict, extras: {} });
}

describe('checkpoint verification', () => {
  it('passes what quantize.py wrote after QAT (8-bit MNIST; mixed 8/4/2-bit ECG)', () => {
    expect(verifyCheckpoint(mnist)).toMatchObject({ batchNormLeft: 0, qatParameters: 5, weightLayers: 5, onGrid: true, ok: true, problems: [] });
    expect(verifyCheckpoint(readFileSync(conformance('ecg1d-mixed', 'checkpoint.pth.tar')))).toMatchObject({ qatParameters: 5, onGrid: true, ok: true });
  });

  it('BatchNorm left, a missing QAT parameter and an off-grid weight each fail it, saying which', () => {
    const bn = verifyCheckpoint(edited((sd) => sd.set('conv1.bn.running_var', { dtype: 'float32', shape: [60], data: new Float32Array(60).fill(1) })));
    expect(bn).toMatchObject({ batchNormLeft: 1, ok: false });
    expect(bn.problems[0]).toMatch(/1 BatchNorm entry is left/);
    const missing = verifyCheckpoint(edited((sd) => sd.delete('conv2.output_shift')));
    expect(missing).toMatchObject({ qatParameters: 4, weightLayers: 5, ok: false });
    expect(missing.problems.join()).toMatch(/conv2: missing output_shift/);
    const off = verifyCheckpoint(edited((sd) => { (sd.get('conv3.op.weight')!.data as Float32Array)[7] = 0.25; }));
    expect(off).toMatchObject({ onGrid: false, ok: false });
    expect(off.problems.join()).toMatch(/conv3\.op\.weight\[7\] is not a 8-bit integer/);
    const wide = verifyCheckpoint(edited((sd) => { (sd.get('conv3.op.weight')!.data as Float32Array)[0] = 300; }));
    expect(wide.onGrid).toBe(false);
  });

  it('an imported float network reports its BatchNorm still to fold and no QAT parameters yet', () => {
    const { model } = importOnnx(readFileSync(join(FIXTURES, 'networks/ecg-bn.onnx')));
    expect(verifyModel(model)).toMatchObject({ batchNormLeft: 2, qatParameters: 0, onGrid: false, weightLayers: 4, ok: false });
  });
});
