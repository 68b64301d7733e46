// Loads a DataSource (api/data.api.ts) from disk or the built-in example into a Dataset, and keeps
// imported data sets in memory for the data and training services (Node edge: reads files).
import { randomUUID } from 'node:crypto';
import type { DataSource, SplitSpec } from '../api/data.api.ts';
import type { Dataset, Split } from './dataset.ts';
import { ApiError } from '../api/contract.ts';
import { parseCsv } from './csv.ts';
import { parseNpyPair } from './npy-pair.ts';
import { loadMnistExample } from './mnist.ts';
import { readInputFile } from '../platform/read-input.ts';
import { LruMap } from '../platform/lru.ts';
import { selectSamples, splitDataset, subsetIndices } from './split.ts';

const readBytes = (file: string) => readInputFile(file, 'dataset', file);

export async function loadDataSource(source: DataSource): Promise<Dataset> {
  switch (source.kind) {
    case 'example':
      return loadMnistExample();
    case 'csv': {
      const text = new TextDecoder().decode(await readBytes(source.file));
      return parseCsv(text, {
        file: source.file,
        ...(source.labelColumn !== undefined ? { labelColumn: source.labelColumn } : {}),
        ...(source.scaling ? { scaling: source.scaling } : {}),
        ...(source.shape ? { shape: source.shape } : {}),
      });
    }
    case 'npy':
      return parseNpyPair(await readBytes(source.xFile), await readBytes(source.yFile), {
        xFile: source.xFile,
        yFile: source.yFile,
        ...(source.scaling ? { scaling: source.scaling } : {}),
      });
  }
}

export interface PreparedData {
  id: string;
  source: DataSource;
  /** The subset and split asked for, so a kept run can prepare the same data again. */
  options?: { limit?: number; split?: SplitSpec };
  dataset: Dataset;
  split: Split;
}

/** Loads, optionally subsets (stratified, seeded), and splits. */
export async function prepareData(source: DataSource, options: { limit?: number; split?: SplitSpec } = {}): Promise<PreparedData> {
  let dataset = await loadDataSource(source);
  const seed = options.split?.seed ?? 1;
  if (options.limit !== undefined && options.limit < dataset.count) dataset = selectSamples(dataset, subsetIndices(dataset, options.limit, seed));
  const split = splitDataset(dataset, { ...options.split, seed });
  if (split.train.length === 0) throw new ApiError('invalid-data', `${dataset.name}: the split leaves no training samples (${dataset.count} samples).`, 'split');
  if (split.test.length === 0) throw new ApiError('invalid-data', `${dataset.name}: the split leaves no test samples (${dataset.count} samples); raise split.test.`, 'split.test');
  return { id: randomUUID(), source, options, dataset, split };
}

/** prepareData in a worker thread (the main event loop stays free while a big file parses). */
export async function prepareDataInWorker(
  source: DataSource,
  options: { limit?: number; split?: SplitSpec } = {},
  signal?: AbortSignal,
): Promise<PreparedData> {
  const { startWorker } = await import('../platform/worker.ts');
  const { PARSE_BUDGET } = await import('../platform/budgeted-worker.ts');
  const worker = startWorker(new URL('./import.worker.ts', import.meta.url), {
    workerData: { source, options },
    // A data set that needs more heap than this ends only its worker, with the file named.
    resourceLimits: { maxOldGenerationSizeMb: PARSE_BUDGET.heapMb },
  });
  const what = source.kind === 'csv' ? source.file : source.kind === 'npy' ? source.xFile : 'the example';
  try {
    return await new Promise<PreparedData>((resolve, reject) => {
      signal?.addEventListener('abort', () => reject(new ApiError('cancelled', 'Cancelled.')), { once: true });
      worker.once('message', (m: { ok: boolean; prepared?: PreparedData; error?: { code: string; message: string; field?: string } }) =>
        m.ok ? resolve(m.prepared!) : reject(new ApiError(m.error!.code, m.error!.message, m.error!.field)));
      worker.once('error', (e: Error & { code?: string }) => reject(e.code === 'ERR_WORKER_OUT_OF_MEMORY'
        ? new ApiError('invalid-data', `${what}: reading needs more than ${PARSE_BUDGET.heapMb} MB of memory; the file is too large or malformed.`, 'source')
        : e));
      worker.once('exit', (code) => reject(new Error(`data import worker exited (${code}).`)));
    });
  } finally {
    await worker.terminate();
  }
}

/**
 * Imported data sets of this process, by id (the UI imports once, then trains on the id). Only the
 * most recent few are kept: each can be hundreds of megabytes, and a new import replaces the old.
 */
export const MAX_DATASETS = 4;
export const datasetStore = new LruMap<string, PreparedData>(MAX_DATASETS);
