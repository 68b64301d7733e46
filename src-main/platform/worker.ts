// Starts a worker_threads worker from a module URL. A `.ts` module (source checkout, tests, CLI)
// is loaded through a tiny bootstrap that registers tsx inside the worker, because Node 20
// ignores `--import` in worker execArgv; a `.js` module (bundled build) is started directly.
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function startWorker(moduleUrl: URL, options: WorkerOptions = {}): Worker {
  if (!moduleUrl.pathname.endsWith('.ts')) return new Worker(moduleUrl, options);
  const bootstrap = new URL('./worker-bootstrap.mjs', import.meta.url);
  return new Worker(bootstrap, {
    ...options,
    workerData: { __entry: moduleUrl.href, data: options.workerData },
  });
}

/** Inside a worker started by startWorker: the workerData the caller passed. */
export function workerInput<T>(raw: unknown): T {
  const box = raw as { __entry?: string; data?: T } | undefined;
  return (box && typeof box === 'object' && '__entry' in box ? box.data : raw) as T;
}
