// Worker adapter for simulating a data set off the main thread: receives a stored model and the
// inputs, runs the pure core, posts throttled progress and the outputs (transferred, not copied).
import { parentPort, workerData } from 'node:worker_threads';
import { workerInput } from '../platform/worker.ts';
import { createThrottle } from '../platform/throttle.ts';
import { deserializeModel, type StoredModel } from '../ir/schema.ts';
import { simulateBatch, type SimOptions } from './simulate.ts';

export interface SimWorkerInput {
  model: StoredModel;
  inputs: Int32Array;
  engine?: SimOptions['engine'];
}

export type SimWorkerMessage =
  | { type: 'progress'; done: number; total: number }
  | { type: 'result'; outputs: Int32Array; count: number; outputSize: number }
  | { type: 'error'; message: string };

const { model, inputs, engine } = workerInput<SimWorkerInput>(workerData);
const post = (m: SimWorkerMessage, transfer: ArrayBuffer[] = []): void => parentPort!.postMessage(m, transfer);
try {
  const m = deserializeModel(model);
  const per = m.input.channels * m.input.dims.reduce((a, b) => a * b, 1);
  const total = inputs.length / per;
  const pass = createThrottle(100);
  const res = simulateBatch(m, inputs, {
    ...(engine ? { engine } : {}),
    progressEvery: 10,
    onProgress: (done) => {
      if (pass()) post({ type: 'progress', done, total });
    },
  });
  post({ type: 'result', outputs: res.outputs, count: res.count, outputSize: res.outputSize }, [res.outputs.buffer as ArrayBuffer]);
} catch (e) {
  post({ type: 'error', message: (e as Error).message });
}
