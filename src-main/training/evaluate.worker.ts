// Worker adapter for evaluation off the main thread: the bit-exact simulator over an int8 batch
// (PTQ / QAT integer models), or predictFloat over a float batch (the float row). Either can take
// a minute on MNIST; running PTQ and QAT in two workers uses both cores.
import { parentPort, workerData } from 'node:worker_threads';
import { workerInput } from '../platform/worker.ts';
import { createThrottle } from '../platform/throttle.ts';
import type { Model } from '../ir/graph.ts';
import type { FloatLayerParams } from '../ir/float-params.ts';
import { simulateBatch } from '../sim/simulate.ts';
import { predictFloat } from './predict-float.ts';

type Input =
  | { kind: 'simulate'; model: Model; batch: Int8Array }
  | { kind: 'float'; model: Model; params: FloatLayerParams[]; x: Float32Array; n: number; classes: number };

const input = workerInput<Input>(workerData);
const pass = createThrottle(200);
const progress = (done: number) => {
  if (pass()) parentPort!.postMessage({ type: 'progress', done });
};
if (input.kind === 'simulate') {
  const { outputs, count, outputSize } = simulateBatch(input.model, input.batch, { progressEvery: 10, onProgress: progress });
  parentPort!.postMessage({ type: 'done', outputs, count, outputSize }, [outputs.buffer as ArrayBuffer]);
} else {
  // In chunks, so progress flows and memory stays flat.
  const per = input.x.length / input.n;
  const outputs = new Float32Array(input.n * input.classes);
  for (let s = 0; s < input.n; s += 25) {
    const k = Math.min(25, input.n - s);
    outputs.set(predictFloat(input.model, input.params, input.x.subarray(s * per, (s + k) * per), k), s * input.classes);
    progress(s + k);
  }
  parentPort!.postMessage({ type: 'done', outputs, count: input.n, outputSize: input.classes }, [outputs.buffer as ArrayBuffer]);
}
