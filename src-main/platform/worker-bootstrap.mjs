// Loads a TypeScript worker module through tsx (see worker.ts for why).
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';
register();
await import(workerData.__entry);
