// The data service: implements api/data.api.ts over the data capability (Node edge; no Electron).
import { ApiError, type ServiceImpl } from '../api/contract.ts';
import type { z } from 'zod';
import type { dataApi, DatasetSummaryDto, ImportProgressData } from '../api/data.api.ts';
import type { ServiceEnv } from '../services.ts';
import { datasetStore, prepareDataInWorker, type PreparedData } from './source.ts';
import { classWeights, summarize } from './summary.ts';
import { toDeviceInt8 } from './normalize.ts';

export function summaryDto(p: PreparedData): DatasetSummaryDto {
  const s = summarize(p.dataset, p.split);
  return { datasetId: p.id, ...s, classWeights: classWeights(p.dataset.y, p.dataset.classNames.length, p.split.train) };
}

function get(id: string): PreparedData {
  const p = datasetStore.get(id);
  if (!p) throw new ApiError('not-found', `No imported data set with id ${id}; import it first.`, 'datasetId');
  return p;
}

/**
 * The order the preview pages through: one class's samples, or for "all classes" the classes taken
 * in turn (sample files are often sorted by label, and a first page of only one class hides the rest).
 */
const previewOrders = new WeakMap<PreparedData, Map<number, Int32Array>>();
function previewOrder(p: PreparedData, classIndex: number | undefined): Int32Array {
  let byKey = previewOrders.get(p);
  if (!byKey) previewOrders.set(p, (byKey = new Map()));
  const key = classIndex ?? -1;
  let order = byKey.get(key);
  if (!order) {
    const { y, count, classNames } = p.dataset;
    const byClass: number[][] = classNames.map(() => []);
    for (let i = 0; i < count; i++) byClass[y[i]!]?.push(i);
    const picked: number[] = [];
    if (classIndex !== undefined) picked.push(...(byClass[classIndex] ?? []));
    else for (let k = 0; picked.length < count; k++) for (const c of byClass) if (k < c.length) picked.push(c[k]!);
    order = Int32Array.from(picked);
    byKey.set(key, order);
  }
  return order;
}

export function createDataService(_env: ServiceEnv): ServiceImpl<typeof dataApi> {
  return {
    async ping() {
      return { ok: true as const };
    },
    async import(req, ctx) {
      ctx.progress({ phase: 'import', fraction: 0, message: `Reading ${req.source.kind === 'example' ? req.source.name : req.source.kind === 'csv' ? req.source.file : req.source.xFile}` });
      const prepared = await prepareDataInWorker(req.source, { ...(req.limit ? { limit: req.limit } : {}), ...(req.split ? { split: req.split } : {}) }, ctx.signal);
      ctx.signal.throwIfAborted();
      datasetStore.set(prepared.id, prepared);
      ctx.progress({ phase: 'import', fraction: 1, message: `${prepared.dataset.count} samples`, data: { samples: prepared.dataset.count } satisfies z.input<typeof ImportProgressData> });
      return summaryDto(prepared);
    },
    async summary(req) {
      return summaryDto(get(req.datasetId));
    },
    async preview(req) {
      const { dataset } = get(req.datasetId);
      const per = dataset.channels * dataset.dims.reduce((a, b) => a * b, 1);
      const count = req.count ?? 8;
      const order = previewOrder(get(req.datasetId), req.classIndex);
      const samples = [];
      for (const i of order.subarray(req.offset ?? 0, (req.offset ?? 0) + count)) {
        samples.push({
          index: i,
          label: dataset.y[i]!,
          className: dataset.classNames[dataset.y[i]!]!,
          values: Array.from(dataset.x.subarray(i * per, (i + 1) * per), toDeviceInt8),
        });
      }
      return { samples };
    },
  };
}
