// Runs train() in a worker_threads worker (training never blocks the caller's event loop).
// Protocol — to the worker: {type:'start', model, data, config, checkpoints} once, then {type:'cancel'};
// from the worker: 'progress' (throttled), 'epoch', 'checkpoint' (when asked), then one 'result' (buffers transferred) or 'error'.
import type { Worker } from 'node:worker_threads';
import type { Model } from '../ir/graph.ts';
import type { Dataset, Split } from '../data/dataset.ts';
import { startWorker } from '../platform/worker.ts';
import type { EpochRecord, TrainConfig, TrainProgress, TrainResult, TrainState } from './train-types.ts';
import type { TrainHooks } from './trainer.ts';

export type ToWorker =
  | { type: 'start'; model: Model; data: { dataset: Dataset; split: Split }; config: TrainConfig; checkpoints: boolean }
  | { type: 'cancel' };

export type FromWorker =
  | { type: 'progress'; progress: TrainProgress }
  | { type: 'epoch'; record: EpochRecord }
  | { type: 'checkpoint'; state: TrainState }
  | { type: 'result'; result: TrainResult }
  | { type: 'error'; message: string; stack?: string | undefined };

/** Buffers of a result that can be moved instead of copied (the worker ends after sending it). */
export function resultTransferables(r: TrainResult): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>();
  const add = (a: Float32Array | null | undefined) => {
    if (a && a.buffer instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength) seen.add(a.buffer);
  };
  for (const p of [...r.floatParams, ...(r.floatModelParams ?? [])]) {
    add(p.weight);
    add(p.bias);
  }
  for (const v of r.state.variables) add(v.data);
  add(r.state.optimizer?.m);
  add(r.state.optimizer?.v);
  return [...seen];
}

/**
 * train() in a worker. The data set is copied (structured clone), so the caller keeps its arrays.
 * Aborting `hooks.signal` stops the run within one batch; the promise then resolves with
 * `cancelled: true` and the state reached.
 */
export function runTrainingInWorker(
  model: Model,
  data: { dataset: Dataset; split: Split },
  config: TrainConfig,
  hooks: TrainHooks = {},
): Promise<TrainResult> {
  const worker: Worker = startWorker(new URL('./train.worker.ts', import.meta.url));
  return new Promise<TrainResult>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      hooks.signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      fn();
    };
    const onAbort = () => worker.postMessage({ type: 'cancel' } satisfies ToWorker);
    hooks.signal?.addEventListener('abort', onAbort);
    worker.on('message', (msg: FromWorker) => {
      if (msg.type === 'progress') hooks.onProgress?.(msg.progress);
      else if (msg.type === 'epoch') hooks.onEpoch?.(msg.record);
      else if (msg.type === 'checkpoint') hooks.onCheckpoint?.(msg.state);
      else if (msg.type === 'result') finish(() => resolve(msg.result));
      else if (msg.type === 'error') {
        finish(() => reject(Object.assign(new Error(msg.message), msg.stack ? { stack: msg.stack } : {})));
      }
    });
    worker.on('error', (e) => finish(() => reject(e)));
    worker.on('exit', (code) => finish(() => reject(new Error(`training worker exited with code ${code} before a result`))));
    worker.postMessage({ type: 'start', model, data, config, checkpoints: !!hooks.onCheckpoint } satisfies ToWorker);
    if (hooks.signal?.aborted) onAbort();
  });
}
