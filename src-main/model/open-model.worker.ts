// Worker side of openAi8xModelInWorker: reads and imports an ai8x model off the main thread.
import { parentPort, workerData } from 'node:worker_threads';
import { answerBudgeted } from '../platform/budgeted-worker.ts';
import { workerInput } from '../platform/worker.ts';
import { openAi8xModel, readInputNpy, type OpenModelRequest } from './open-model.ts';
import { loadNetwork, type NetworkSpec } from './load-network.ts';

type Job = { kind: 'import'; req: OpenModelRequest } | { kind: 'npy'; path: string; field: string } | { kind: 'network'; spec: NetworkSpec };

const job = workerInput<Job>(workerData);
await answerBudgeted((m) => parentPort!.postMessage(m), async () =>
  job.kind === 'import' ? openAi8xModel(job.req) : job.kind === 'network' ? loadNetwork(job.spec) : readInputNpy(job.path, job.field));
