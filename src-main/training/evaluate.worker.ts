// Worker adapter: runs the bit-exact simulator over a batch off the main thread (evaluation of the
// PTQ and QAT integer models can take a minute on MNIST; two workers use both cores).
import { parentPort, workerData } from 'node:worker_threads';
import { workerInput } from '../platform/worker.ts';
import type { Model } from '../ir/graph.ts';
import { simulateBatch } from '../sim/simulate.ts';

interface Input {
  model: Model;
  batch: Int8Array;
}

const { model, batch } = workerInput<Input>(workerData);
let lastPost = 0;
const { outputs, count, outputSize } = simulateBatch(model, batch, {
  progressEvery: 10,
  onProgress(done) {
    const now = Date.now();
    if (now - lastPost > 200) (lastPost = now), parentPort!.postMessage({ type: 'progress', done });
  },
});
parentPort!.postMessage({ type: 'done', outputs, count, outputSize }, [outputs.buffer as ArrayBuffer]);
