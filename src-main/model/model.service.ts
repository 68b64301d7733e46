// The model service: implements api/model.api.ts over ir/, formats/, planner/ and sim/ (Node edge;
// no Electron). Opened models live in memory by id; a batch simulation runs in a worker.
import { randomUUID } from 'node:crypto';
import { ApiError, type ServiceImpl } from '../api/contract.ts';
import type { z } from 'zod';
import type { modelApi, SimulateProgressData } from '../api/model.api.ts';
import type { ServiceEnv } from '../services.ts';
import type { Model } from '../ir/graph.ts';
import { validateModel } from '../ir/validate.ts';
import { BitsEditError, bitsPolicyProblems, withBitsEdits, withSchedule } from '../ir/bits-policy.ts';
import { deserializeModel, SchemaError, serializeModel } from '../ir/schema.ts';
import { readInputJson } from '../platform/read-input.ts';
import { writeNetworkYaml } from '../formats/network-yaml.ts';
import { simulate, SimError } from '../sim/simulate.ts';
import type { SimWorkerInput, SimWorkerMessage } from '../sim/sim.worker.ts';
import { startWorker } from '../platform/worker.ts';
import { LruMap } from '../platform/lru.ts';

const MAX_MODELS = 32;
import { writeFileAtomic } from '../project/atomic-write.ts';
import { planModel, type Plan } from '../planner/plan.ts';
import { basename, dirname, join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { ImportError } from '../formats/import-error.ts';
import { inputsFromNpy, izerShape, loadNetworkInWorker, openAi8xModelInWorker, readInputNpyInWorker, writeOutputNpy } from './open-model.ts';
import { IMPORT_ERROR } from '../platform/budgeted-worker.ts';

export function planDto(plan: Plan) {
  return {
    device: plan.device,
    layers: plan.layers,
    weightMemoryBytes: plan.weightMemoryBytes,
    weightMemoryCapacity: plan.weightMemoryCapacity,
    biasMemoryBytes: plan.biasMemoryBytes,
    biasMemoryCapacity: plan.biasMemoryCapacity,
    errors: plan.diagnostics.filter((d) => d.severity === 'error'),
    warnings: plan.diagnostics.filter((d) => d.severity === 'warning'),
  };
}

function argmax(a: Int32Array, from: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (a[from + i]! > a[from + best]!) best = i;
  return best;
}

function runInWorker(model: Model, inputs: Int32Array, engine: SimWorkerInput['engine'], signal: AbortSignal, onProgress: (done: number, total: number) => void): Promise<{ outputs: Int32Array; count: number; outputSize: number }> {
  return new Promise((resolve, reject) => {
    const data: SimWorkerInput = { model: serializeModel(model), inputs, ...(engine ? { engine } : {}) };
    const worker = startWorker(new URL('../sim/sim.worker.ts', import.meta.url), { workerData: data });
    const abort = (): void => { void worker.terminate(); reject(new ApiError('cancelled', 'Cancelled.')); };
    signal.addEventListener('abort', abort, { once: true });
    worker.on('message', (m: SimWorkerMessage) => {
      if (m.type === 'progress') onProgress(m.done, m.total);
      else {
        signal.removeEventListener('abort', abort);
        void worker.terminate();
        if (m.type === 'result') resolve(m);
        else reject(new ApiError('invalid-model', m.message));
      }
    });
    worker.on('error', (e) => { signal.removeEventListener('abort', abort); reject(e); });
  });
}

export function createModelService(_env: ServiceEnv): ServiceImpl<typeof modelApi> {
  // Opened models by id; the least recently used beyond a few dozen are released.
  const models = new LruMap<string, Model>(MAX_MODELS);
  const get = (id: string): Model => {
    const m = models.get(id);
    if (!m) throw new ApiError('not-found', `No opened model with id ${id}; import or load it first.`, 'modelId');
    return m;
  };
  return {
    async ping() {
      return { ok: true as const };
    },
    async importAi8x(req) {
      const { model, warnings } = await openAi8xModelInWorker(req);
      const modelId = randomUUID();
      models.set(modelId, model);
      return { modelId, model: serializeModel(model), warnings, diagnostics: validateModel(model) };
    },
    async get(req) {
      return { model: serializeModel(get(req.modelId)) };
    },
    async validate(req) {
      return { diagnostics: validateModel(get(req.modelId)) };
    },
    async plan(req) {
      return planDto(planModel(get(req.modelId), { ...(req.device ? { device: req.device } : {}), ...(req.replacePlacement ? { replacePlacement: true } : {}) }));
    },
    async simulate(req, ctx) {
      const opened = get(req.modelId);
      const model = req.avgPoolRounding === undefined ? opened : { ...opened, avgPoolRounding: req.avgPoolRounding };
      const arr = await readInputNpyInWorker(req.inputPath, 'inputPath', ctx.signal);
      const { data, count } = inputsFromNpy(arr, model, req.inputPath);
      const batch = arr.shape.length === model.input.dims.length + 2;
      const t0 = performance.now();
      const progressData = (done: number) => ({ done, total: count }) satisfies z.input<typeof SimulateProgressData>;
      ctx.progress({ phase: 'simulate', fraction: 0, message: `${count} input${count === 1 ? '' : 's'}`, data: progressData(0) });
      let outputs: Int32Array;
      let outShape: number[];
      let layers: { name: string; shape: number[]; data: number[] }[] | undefined;
      try {
        if (count === 1) {
          const r = simulate(model, data, { allLayers: req.allLayers ?? false, ...(req.engine ? { engine: req.engine } : {}) });
          outputs = r.output;
          outShape = izerShape(r.shape);
          layers = r.layers?.map((l) => ({ name: l.name, shape: izerShape(l.shape), data: Array.from(l.data) }));
        } else {
          const res = await runInWorker(model, data, req.engine, ctx.signal, (done, total) => ctx.progress({ phase: 'simulate', fraction: done / total, message: `${done} / ${total}`, data: progressData(done) }));
          outputs = res.outputs;
          const last = planModel(model).layers.at(-1)!.outputShape!;
          outShape = izerShape(last);
        }
      } catch (e) {
        if (e instanceof SimError) throw new ApiError('invalid-model', e.message);
        throw e;
      }
      const per = outputs.length / count;
      if (req.outputPath) await writeOutputNpy(req.outputPath, outputs, outShape, count, batch);
      ctx.progress({ phase: 'simulate', fraction: 1, data: progressData(count) });
      return {
        count,
        shape: outShape,
        output: Array.from(outputs.subarray(0, Math.min(outputs.length, req.outputValues ?? Math.min(per, 4096)))),
        batch,
        argmax: Array.from({ length: Math.min(count, 10_000) }, (_, k) => argmax(outputs, k * per, per)),
        ...(layers ? { layers } : {}),
        ...(req.outputPath ? { outputPath: req.outputPath } : {}),
        elapsedMs: performance.now() - t0,
      };
    },
    async load(req) {
      let model: Model;
      const where = req.model ? 'model' : (req.path ?? 'path');
      try {
        if (req.model) model = deserializeModel(req.model);
        else if (req.path) model = deserializeModel(await readInputJson(req.path, 'path'));
        else throw new ApiError('bad-request', 'Give either model (the stored JSON) or path (a model.json file).', 'model');
      } catch (e) {
        if (e instanceof ApiError) throw e;
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new ApiError('not-found', `${req.path}: no such file.`, 'path');
        const field = e instanceof SchemaError ? e.message : (e as Error).message;
        throw new ApiError('invalid-model', `${where}: not a qatwb.model document (${field}).`, req.model ? 'model' : 'path');
      }
      const modelId = randomUUID();
      models.set(modelId, model);
      return { modelId, model: serializeModel(model), diagnostics: validateModel(model) };
    },
    async importNetwork(req) {
      // An uploaded file is kept beside the network file (imports/NAME), so the project holds its source.
      const keep = async (u: { name: string; base64: string }): Promise<string> => {
        const name = basename(u.name).replace(/[^\w.-]/g, '_');
        const dir = join(dirname(req.saveTo), 'imports');
        await mkdir(dir, { recursive: true });
        await writeFileAtomic(join(dir, name), Buffer.from(u.base64, 'base64'));
        return join(dir, name);
      };
      const path = req.upload ? await keep(req.upload) : req.path;
      if (!path) throw new ApiError('bad-request', 'Give the network file: path, or upload.', 'path');
      const checkpoint = req.checkpointUpload ? await keep(req.checkpointUpload) : req.checkpointPath;
      let imported;
      try {
        imported = await loadNetworkInWorker({
          model: path, ...(checkpoint ? { checkpoint } : {}),
          ...(req.inputShape ? { inputShape: req.inputShape } : {}), ...(req.device ? { device: req.device } : {}),
        });
      } catch (e) {
        // The refusal's source node and layer travel as details (the CLI prints them as its error).
        if (e instanceof ImportError) throw new ApiError('invalid-model', e.message, 'path', e.toJSON());
        if (e instanceof ApiError && e.code === IMPORT_ERROR) throw new ApiError('invalid-model', e.message, 'path', e.details);
        throw e;
      }
      await mkdir(dirname(req.saveTo), { recursive: true });
      await writeFileAtomic(req.saveTo, JSON.stringify(serializeModel(imported.model), null, 2) + '\n');
      const modelId = randomUUID();
      models.set(modelId, imported.model);
      return { modelId, model: serializeModel(imported.model), warnings: imported.warnings, diagnostics: validateModel(imported.model), path: req.saveTo };
    },
    async saveNetwork(req) {
      let model: Model;
      try {
        model = deserializeModel(req.model);
      } catch (e) {
        throw new ApiError('invalid-model', `model: not a qatwb.model document (${(e as Error).message}).`, 'model');
      }
      await writeFileAtomic(req.path, JSON.stringify(serializeModel(model), null, 2) + '\n');
      const modelId = randomUUID();
      models.set(modelId, model);
      return { modelId, model: serializeModel(model), diagnostics: validateModel(model), path: req.path };
    },
    async setLayerBits(req) {
      let next = get(req.modelId);
      try {
        if (req.bits && Object.keys(req.bits).length) next = withBitsEdits(next, { layerBits: req.bits });
      } catch (e) {
        if (e instanceof BitsEditError) throw new ApiError('bad-request', e.message.replace(/^layerBits/, 'bits'), e.field.replace(/^layerBits/, 'bits'));
        throw e;
      }
      if (req.bitsSchedule !== undefined) next = withSchedule(next, req.bitsSchedule ?? undefined);
      // Widths set so that no layer follows the schedule any more (e.g. every layer to 8 bits): it is gone.
      if (bitsPolicyProblems(next).some((p) => p.field === 'bitsSchedule' && /no layer follows/.test(p.message))) next = withSchedule(next, undefined);
      const problem = bitsPolicyProblems(next)[0];
      if (problem) throw new ApiError('bad-request', `${problem.field}: ${problem.message}.`, problem.field);
      models.set(req.modelId, next);
      if (req.saveTo) await writeFileAtomic(req.saveTo, JSON.stringify(serializeModel(next), null, 2) + '\n');
      return { model: serializeModel(next), plan: planDto(planModel(next)) };
    },
    async exportYaml(req) {
      const plan = planModel(get(req.modelId), req.device ? { device: req.device } : {});
      const errors = plan.diagnostics.filter((d) => d.severity === 'error');
      if (errors.length) throw new ApiError('invalid-model', `The model breaks ${errors.length} device rule(s); first: ${errors[0]!.message}`);
      await writeFileAtomic(req.path, writeNetworkYaml(plan.model));
      return { path: req.path };
    },
  };
}
