// train() in a real worker_threads worker: progress and epoch messages arrive, and cancel stops
// the run within one batch.
import { describe, expect, it } from 'vitest';
import { ecgNet } from '../ir/zoo.ts';
import { runTrainingInWorker } from './train-in-worker.ts';
import type { TrainProgress } from './train-types.ts';

// Batches long enough (~50+ ms) that a message hop stays small beside them even on a loaded machine.
const L = 256;
const count = 640;
const x = Float32Array.from({ length: count * L }, (_, i) => Math.round(Math.sin(i * 0.37) * 100) / 128);
const y = Int32Array.from({ length: count }, (_, i) => i % 3);
const all = Int32Array.from({ length: count }, (_, i) => i);
const data = {
  dataset: { name: 'synthetic', count, channels: 1, dims: [L], x, y, classNames: ['a', 'b', 'c'] },
  split: { train: all, validation: all.subarray(0, 16), test: all.subarray(0, 0) },
};

describe('runTrainingInWorker', () => {
  it('streams progress and stops within one batch of cancel', async () => {
    const controller = new AbortController();
    const seen: TrainProgress[] = [];
    let batchAtCancel = -1;
    const result = await runTrainingInWorker(ecgNet('MAX78002', L, 3), data, {
      epochs: 3, qatStartEpoch: 1, batchSize: 64, learningRate: 1e-3,
    }, {
      signal: controller.signal,
      onProgress: (p) => {
        seen.push(p);
        if (p.batch >= 3 && batchAtCancel < 0) {
          batchAtCancel = p.batch;
          controller.abort();
        }
      },
    });
    expect(seen.length).toBeGreaterThan(0);
    expect(result.cancelled).toBe(true);
    expect(result.stoppedAt!.epoch).toBe(0);
    // Batches (~10+ ms) are much longer than a message hop: at most the batch in flight finishes.
    expect(result.stoppedAt!.batch).toBeGreaterThanOrEqual(batchAtCancel);
    expect(result.stoppedAt!.batch).toBeLessThanOrEqual(batchAtCancel + 1);
    expect(result.state.epoch).toBe(0);
    expect(result.floatParams[0]!.weight).toBeInstanceOf(Float32Array);
  });
});
