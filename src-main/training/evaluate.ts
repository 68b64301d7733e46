// Accuracy of one trained network three ways on the same test samples: the float model (tfjs,
// predictFloat), and integer models (PTQ and QAT) run through the bit-exact simulator — the
// numbers the device will reproduce. Float samples become device input as round(x·128) clamped.
import type { Model } from '../ir/graph.ts';
import type { FloatLayerParams } from '../ir/float-params.ts';
import type { Dataset } from '../data/dataset.ts';
import { toDeviceInt8 } from '../data/normalize.ts';
import { simulateBatch } from '../sim/simulate.ts';

export interface Accuracy {
  /** Correct / total, as a fraction. */
  accuracy: number;
  correct: number;
  total: number;
  /** Predicted class per evaluated sample, in `indices` order. */
  predictions: Int32Array;
}

/** Accuracy row of the float / PTQ / QAT table. */
export interface AccuracyRow extends Omit<Accuracy, 'predictions'> {
  name: 'float' | 'ptq' | 'qat';
  /** How it was measured. */
  via: 'float-forward' | 'simulator';
}

const perSample = (ds: Dataset): number => ds.channels * ds.dims.reduce((a, b) => a * b, 1);

/** The selected samples as planar int8 device input, back to back. */
export function toInt8Batch(ds: Dataset, indices: ArrayLike<number>): Int8Array {
  const per = perSample(ds);
  const out = new Int8Array(indices.length * per);
  for (let i = 0; i < indices.length; i++) {
    const base = indices[i]! * per;
    for (let k = 0; k < per; k++) out[i * per + k] = toDeviceInt8(ds.x[base + k]!);
  }
  return out;
}

/** The selected samples as float32 (training range), back to back. */
export function toFloatBatch(ds: Dataset, indices: ArrayLike<number>): Float32Array {
  const per = perSample(ds);
  const out = new Float32Array(indices.length * per);
  for (let i = 0; i < indices.length; i++) out.set(ds.x.subarray(indices[i]! * per, (indices[i]! + 1) * per), i * per);
  return out;
}

/** Index of the largest value of each row (first on ties). */
export function argmaxRows(values: ArrayLike<number>, rows: number, width: number): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < width; c++) if (values[r * width + c]! > values[r * width + best]!) best = c;
    out[r] = best;
  }
  return out;
}

export function score(predictions: Int32Array, ds: Dataset, indices: ArrayLike<number>): Accuracy {
  let correct = 0;
  for (let i = 0; i < indices.length; i++) if (predictions[i] === ds.y[indices[i]!]) correct++;
  return { accuracy: indices.length ? correct / indices.length : 0, correct, total: indices.length, predictions };
}

export interface SimEvalOptions {
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** Accuracy of an integer IR model (params present) on the selected samples, via the simulator. */
export function simulatedAccuracy(model: Model, ds: Dataset, indices: ArrayLike<number>, options: SimEvalOptions = {}): Accuracy & { outputs: Int32Array } {
  const batch = toInt8Batch(ds, indices);
  const { outputs, count, outputSize } = simulateBatch(model, batch, {
    progressEvery: 50,
    ...(options.onProgress ? { onProgress: (done: number) => options.onProgress!(done, indices.length) } : {}),
    ...(options.signal ? { shouldStop: () => options.signal!.aborted } : {}),
  });
  options.signal?.throwIfAborted();
  if (count !== indices.length) throw new Error(`simulator stopped after ${count} of ${indices.length} samples.`);
  return { ...score(argmaxRows(outputs, count, outputSize), ds, indices), outputs };
}

type WorkerJob =
  | { kind: 'simulate'; model: Model; batch: Int8Array }
  | { kind: 'float'; model: Model; params: readonly FloatLayerParams[]; x: Float32Array; n: number; classes: number };

async function inWorker(job: WorkerJob, total: number, options: SimEvalOptions): Promise<{ outputs: Int32Array | Float32Array; count: number; outputSize: number }> {
  const { startWorker } = await import('../platform/worker.ts');
  const worker = startWorker(new URL('./evaluate.worker.ts', import.meta.url), { workerData: job });
  try {
    return await new Promise((resolve, reject) => {
      options.signal?.throwIfAborted();
      options.signal?.addEventListener('abort', () => reject(options.signal!.reason ?? new Error('Cancelled.')), { once: true });
      worker.on('message', (m: { type: string; done?: number; outputs?: Int32Array; count?: number; outputSize?: number }) => {
        if (m.type === 'progress') options.onProgress?.(m.done!, total);
        else if (m.type === 'done') resolve({ outputs: m.outputs!, count: m.count!, outputSize: m.outputSize! });
      });
      worker.on('error', reject);
      worker.on('exit', (code) => reject(new Error(`evaluation worker exited (${code}).`)));
    });
  } finally {
    await worker.terminate();
  }
}

/** simulatedAccuracy in a worker thread (never blocks the caller's event loop); abort terminates it. */
export async function simulatedAccuracyInWorker(
  model: Model, ds: Dataset, indices: ArrayLike<number>, options: SimEvalOptions = {},
): Promise<Accuracy & { outputs: Int32Array }> {
  const r = await inWorker({ kind: 'simulate', model, batch: toInt8Batch(ds, indices) }, indices.length, options);
  return { ...score(argmaxRows(r.outputs, r.count, r.outputSize), ds, indices), outputs: r.outputs as Int32Array };
}

/** Float accuracy (predictFloat, ai8x float mode, no quantization) in a worker thread. */
export async function floatAccuracyInWorker(
  model: Model, params: readonly FloatLayerParams[], ds: Dataset, indices: ArrayLike<number>, options: SimEvalOptions = {},
): Promise<Accuracy & { outputs: Float32Array }> {
  const classes = model.layers[model.layers.length - 1]!.outChannels;
  const r = await inWorker({ kind: 'float', model, params, x: toFloatBatch(ds, indices), n: indices.length, classes }, indices.length, options);
  return { ...score(argmaxRows(r.outputs, r.count, r.outputSize), ds, indices), outputs: r.outputs as Float32Array };
}
