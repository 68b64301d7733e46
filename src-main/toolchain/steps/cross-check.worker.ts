// Worker adapter: runs the cross-check (checkpoint import + bit-exact simulation) off the main
// thread, since a large model takes seconds to simulate.
import { parentPort, workerData } from 'node:worker_threads';
import { workerInput } from '../../platform/worker.ts';
import { crossCheck, type CrossCheckInput } from './cross-check.ts';

crossCheck(workerInput<CrossCheckInput>(workerData)).then(
  (result) => parentPort!.postMessage({ type: 'done', result }),
  (error: Error) => parentPort!.postMessage({ type: 'error', message: error.message, name: error.name }),
);
