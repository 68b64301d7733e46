// Worker adapter for the training engine: messages discriminated on `type` (see
// train-in-worker.ts for the protocol); cancel aborts train() between batches.
import { parentPort } from 'node:worker_threads';
import { train, type TrainState } from './trainer.ts';
import { resultTransferables, type FromWorker, type ToWorker } from './train-in-worker.ts';

const port = parentPort;
if (!port) throw new Error('train.worker.ts must run in a worker thread');
const controller = new AbortController();
const post = (msg: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'cancel') {
    controller.abort();
    return;
  }
  if (msg.type !== 'start') return;
  train(msg.model, msg.data, msg.config, {
    signal: controller.signal,
    onProgress: (progress) => post({ type: 'progress', progress }),
    onEpoch: (record) => post({ type: 'epoch', record }),
    ...(msg.checkpoints ? { onCheckpoint: (state: TrainState) => post({ type: 'checkpoint', state }) } : {}),
  }).then(
    (result) => post({ type: 'result', result }, resultTransferables(result)),
    (e: unknown) => post({ type: 'error', message: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined }),
  );
});
