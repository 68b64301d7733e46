// Worker adapter: loads, subsets and splits a data set off the main thread (a full MIT-BIH CSV is
// ~400 MB of text and takes seconds to parse). Transfers the sample buffers back.
import { parentPort, workerData } from 'node:worker_threads';
import { workerInput } from '../platform/worker.ts';
import type { DataSource, SplitSpec } from '../api/data.api.ts';
import { ApiError } from '../api/contract.ts';
import { prepareData } from './source.ts';

const { source, options } = workerInput<{ source: DataSource; options: { limit?: number; split?: SplitSpec } }>(workerData);
try {
  const p = await prepareData(source, options);
  const buffers = [p.dataset.x.buffer, p.dataset.y.buffer, p.split.train.buffer, p.split.validation.buffer, p.split.test.buffer] as ArrayBuffer[];
  parentPort!.postMessage({ ok: true, prepared: p }, buffers);
} catch (error) {
  const e = error as Error;
  parentPort!.postMessage({ ok: false, error: error instanceof ApiError ? error.toJSON() : { code: 'internal', message: e.message ?? String(e) } });
}
