// The training service: implements api/training.api.ts. Runs the engine in its worker, streams
// progress through ctx.progress, then quantizes (QAT and PTQ), measures float / PTQ INT8 / QAT
// INT8 accuracy on the same test samples and writes the exports (Node edge; no Electron).
import { randomUUID } from 'node:crypto';
import { ApiError, type CallContext, type ServiceImpl } from '../api/contract.ts';
import type { z } from 'zod';
import {
  TRAIN_DEFAULTS, type ComparisonRowDto, type EpochDto, type RunSummaryDto, type trainingApi, type TrainRequest, type TrainResultDto,
  type TrainBatchProgress, type TrainEpochProgress, type TrainStartProgress,
} from '../api/training.api.ts';
import { join, resolve } from 'node:path';
import { listProjectRuns, newRunFile, projectRunDir, readRunFile, readState, runJson, stateJson, writeRunFile, writeState, type RunFile } from './run-store.ts';
import { planModel } from '../planner/plan.ts';
import { classReport, collapseReasons, deviceToLogits, floatWeightBytes, logitError } from './comparison.ts';
import type { ServiceEnv } from '../services.ts';
import type { Model, WeightBits } from '../ir/graph.ts';
import { zoo, zooForData } from '../ir/zoo.ts';
import { basename } from 'node:path';
import { deserializeModel, SchemaError } from '../ir/schema.ts';
import { atWidths, BitsEditError, bitsAt, bitsPolicyProblems, commonWidth, withBitsEdits, withBitsSettings } from '../ir/bits-policy.ts';
import { ImportError } from '../formats/import-error.ts';
import { networkKind, ZOO_NAMES } from '../model/load-network.ts';
import { datasetStore, prepareData, type PreparedData } from '../data/source.ts';
import { LruMap } from '../platform/lru.ts';
import { IMPORT_ERROR } from '../platform/budgeted-worker.ts';
import { loadNetworkInWorker } from '../model/open-model.ts';
import { classWeights } from '../data/summary.ts';
import { quantizeModel } from '../quant/quantize.ts';
import { postTrainingQuantize } from '../quant/ptq.ts';
import { runTrainingInWorker } from './train-in-worker.ts';
import type { TrainHooks } from './trainer.ts';
import { checkComputeDevice, trainWithPytorch, type ComputeDevice } from './pytorch-engine.ts';
import { resolveTorchPython } from './torch-python.ts';
import { runSettings } from '../toolchain/settings.ts';
import type { EpochRecord, TrainConfig, TrainProgress, TrainResult, TrainState } from './train-types.ts';
import { floatAccuracyInWorker, simulatedAccuracyInWorker, toInt8Batch, type Accuracy, type AccuracyRow } from './evaluate.ts';
import type { FloatLayerParams } from '../ir/float-params.ts';
import { checkpointVerification, quantizationReport, writeExports } from './export.ts';

interface RunRecord {
  id: string;
  /** When the run started (ISO time): a kept run's run.json says the same. */
  createdAt: string;
  request: TrainRequest;
  data: PreparedData;
  /** The float IR (bits per layer set, no params). */
  model: Model;
  /** The network as named by the request, before fitting it to the data. */
  base: Model;
  /** Where the network came from: `zoo`, `onnx ecg.onnx`, `builder`, ... */
  source: string;
  result?: TrainResult;
  dto?: TrainResultDto;
  epochsDone: number;
  /** Width snapshots the source run had already made (their rows are the source's). */
  segmentsBefore?: number;
  /** Comparison rows of the run this one continued (a chain keeps every width's row). */
  carriedRows?: ComparisonRowDto[];
  /** Set when the run left the live set: only dto and history remain. */
  released?: boolean;
  history?: ReturnType<typeof historyDto>;
  /** Where the run is kept (its folder) and what run.json says. */
  dir?: string;
  file?: RunFile;
  keep?: ReturnType<typeof keeper>;
}

type EpochDtoType = z.infer<typeof EpochDto>;

/** Runs training now in this process (a kept run marked running but not here was interrupted). */
const active = new Set<string>();

/**
 * Runs of this session. The newest MAX_LIVE_RUNS keep their data set, model and engine state (so
 * they can be resumed); older ones are cut down to their result and history, which is what the
 * run list and getRun show. Without this, every run kept its own copy of the data (RSS doubled
 * over five 5k-sample runs).
 */
export const MAX_LIVE_RUNS = 6;
const runs = new Map<string, RunRecord>();
const live = new LruMap<string, RunRecord>(MAX_LIVE_RUNS, (_id, run) => release(run));

/** Runs listed at all (their summaries are small); the oldest beyond this are forgotten. */
const MAX_LISTED_RUNS = 200;

function keep(run: RunRecord): void {
  runs.set(run.id, run);
  live.set(run.id, run);
  while (runs.size > MAX_LISTED_RUNS) runs.delete(runs.keys().next().value!);
}

/** Drops the heavy parts of a run that left the live set; its result and history stay. */
function release(run: RunRecord): void {
  if (!run.result) return; // still training: the engine holds it; a later run's eviction is not its end
  run.history ??= historyDto(run.result);
  run.released = true;
  delete run.result;
  (run as { data?: PreparedData }).data = undefined;
  (run as { model?: Model }).model = undefined;
  (run as { base?: Model }).base = undefined;
}

/** Test windows written with an export (test.windows.npy): enough for any live check's statistics. */
const MAX_TEST_WINDOWS = 5000;

/**
 * Float accuracy by (data set, parameter content): branches resumed from one float phase share the
 * same float model, and its evaluation is the slowest of the three rows.
 */
const floatEvalCache = new LruMap<string, Promise<FloatAccuracy>>(MAX_LIVE_RUNS);
type FloatAccuracy = Accuracy & { outputs: Float32Array };

function paramsHash(params: readonly FloatLayerParams[]): string {
  let h = 0x811c9dc5;
  for (const p of params) {
    for (const a of [p.weight, p.bias]) {
      if (!a) continue;
      const u = new Uint32Array(a.buffer, a.byteOffset, a.length);
      for (let i = 0; i < u.length; i++) h = Math.imul(h ^ u[i]!, 0x01000193);
    }
  }
  return (h >>> 0).toString(16);
}

function cachedFloatAccuracy(data: PreparedData, model: Model, params: readonly FloatLayerParams[], run: () => Promise<FloatAccuracy>): Promise<FloatAccuracy> {
  const key = `${data.id}|${model.arch}|${paramsHash(params)}`;
  let hit = floatEvalCache.get(key);
  if (!hit) {
    hit = run();
    floatEvalCache.set(key, hit);
    hit.catch(() => floatEvalCache.delete(key));
  }
  return hit;
}

/** The network a request names, as loaded (zoo defaults, or the file's / builder's network). */
export async function resolveNetwork(req: Pick<TrainRequest, 'model' | 'checkpoint' | 'inputShape' | 'device'>): Promise<{ model: Model; source: string }> {
  if (typeof req.model !== 'string' && 'kind' in req.model) {
    const ref = req.model;
    if (!(ZOO_NAMES as string[]).includes(ref.arch)) throw new ApiError('invalid-model', `model.arch: "${ref.arch}" is not a built-in network (${ZOO_NAMES.join(', ')}).`, 'model.arch');
    return { model: withBitsSettings(zoo[ref.arch as keyof typeof zoo](req.device ?? 'MAX78002'), ref), source: 'zoo' };
  }
  if (typeof req.model !== 'string') {
    try {
      return { model: deserializeModel(req.model), source: 'builder' };
    } catch (error) {
      if (error instanceof SchemaError) throw new ApiError('invalid-model', `The network: ${error.message}.`, `model.${error.field}`);
      throw error;
    }
  }
  const spec = req.model;
  try {
    const kind = networkKind(spec);
    if (kind === 'zoo') return { model: zoo[spec as keyof typeof zoo](req.device ?? 'MAX78002'), source: 'zoo' };
    // In a budgeted worker: a hostile network file must not freeze the service's event loop.
    const loaded = await loadNetworkInWorker({
      model: spec, ...(req.checkpoint ? { checkpoint: req.checkpoint } : {}), ...(req.inputShape ? { inputShape: req.inputShape } : {}), ...(req.device ? { device: req.device } : {}),
    });
    return { model: loaded.model, source: `${kind} ${basename(spec)}` };
  } catch (error) {
    if (error instanceof ImportError || (error instanceof ApiError && error.code === IMPORT_ERROR)) throw new ApiError('invalid-model', error.message, 'model');
    throw error;
  }
}

/**
 * The network to train on this data: a zoo network sized to the data, or the given one as is (checked),
 * with the request's bit edits (the CLI's --bits, --layer-bits, --bits-schedule) made in its IR; from
 * here on the IR alone says each layer's bits and the schedule.
 */
export function buildModel(req: Pick<TrainRequest, 'model' | 'device' | 'bits' | 'layerBits' | 'bitsSchedule'>, data: PreparedData, base: Model): Model {
  const { dataset } = data;
  const device = req.device ?? base.device;
  const classes = dataset.classNames.length;
  let model: Model;
  // A built-in network by name, or by the project's reference with its bit policy.
  const zooRef = typeof req.model === 'string' ? undefined : 'kind' in req.model ? req.model : undefined;
  const named = typeof req.model === 'string' ? req.model : zooRef?.arch;
  const zooName = named !== undefined && (ZOO_NAMES as string[]).includes(named) ? (named as keyof typeof zoo) : undefined;
  if (zooName) {
    const sized = zooForData(zooName, device, { channels: dataset.channels, dims: dataset.dims, classes });
    if (!sized) {
      const takes = zooName === 'ecgnet' ? '1-D samples (C × L)' : '2-D samples (C × H × W)';
      throw new ApiError('invalid-data', `${zooName} takes ${takes}; the data set has ${dataset.channels}×${dataset.dims.join('×')}.`, 'model');
    }
    model = zooRef ? withBitsSettings(sized, zooRef) : sized;
  } else {
    model = { ...base, device, layers: base.layers.map((l) => ({ ...l })) };
    const want = [model.input.channels, ...model.input.dims].join('×');
    const have = [dataset.channels, ...dataset.dims].join('×');
    if (want !== have)
      throw new ApiError('invalid-data', `The network ${model.arch} takes ${want} samples but the data set has ${have}. Choose data of that shape, or change the network's input.`, 'model');
    const out = model.layers[model.layers.length - 1]!;
    const outputs = out.op === 'passthrough' ? 0 : out.outChannels;
    if (outputs !== classes)
      throw new ApiError('invalid-data', `The network ${model.arch} outputs ${outputs} values (last layer ${out.name}) but the data set has ${classes} classes. Set the last layer's outputs to ${classes}.`, 'model');
  }
  model.dataset = dataset.name;
  try {
    return withBitsEdits(model, {
      ...(req.bits !== undefined ? { bits: req.bits } : {}),
      ...(req.layerBits ? { layerBits: req.layerBits } : {}),
      ...(req.bitsSchedule?.length ? { bitsSchedule: req.bitsSchedule } : {}),
    });
  } catch (error) {
    if (error instanceof BitsEditError) throw new ApiError('bad-request', error.message, error.field);
    throw error;
  }
}

async function resolveData(req: TrainRequest): Promise<PreparedData> {
  if ('datasetId' in req.data) {
    const p = datasetStore.get(req.data.datasetId);
    if (!p) throw new ApiError('not-found', `No imported data set with id ${req.data.datasetId}; import it first.`, 'data.datasetId');
    return p;
  }
  return prepareData(req.data.source, {
    ...(req.data.limit ? { limit: req.data.limit } : {}),
    ...(req.data.split ? { split: req.data.split } : {}),
  });
}

/** The engine's config for a request; defaults from TRAIN_DEFAULTS (batch 64: fastest tfjs-wasm batch, training-speed.md). */
export function engineConfig(req: TrainRequest, data: PreparedData, epochs: number, model: Model): TrainConfig {
  const lr = req.learningRate ?? TRAIN_DEFAULTS.learningRate;
  const classes = data.dataset.classNames.length;
  if (Array.isArray(req.classWeights) && req.classWeights.length !== classes) {
    throw new ApiError('bad-request', `classWeights: ${req.classWeights.length} weights given, the data set has ${classes} classes (${data.dataset.classNames.join(', ')}).`, 'classWeights');
  }
  const problem = bitsPolicyProblems(model, epochs - req.qatStart)[0];
  if (problem) throw new ApiError('bad-request', `The network's ${problem.field}: ${problem.message}.`, problem.field);
  return {
    epochs,
    qatStartEpoch: req.qatStart,
    batchSize: req.batchSize ?? TRAIN_DEFAULTS.batchSize,
    learningRate: lr,
    ...(req.lrSchedule ? { lrSchedule: req.lrSchedule } : {}),
    ...(req.earlyStopping ? { earlyStopping: req.earlyStopping } : {}),
    qat: { ...req.qat, learningRate: req.qat?.learningRate ?? lr * TRAIN_DEFAULTS.qatLearningRateFactor },
    ...(req.shiftQuantile !== undefined ? { shiftQuantile: req.shiftQuantile } : {}),
    ...(req.batchNorm ? { batchNorm: true } : {}),
    ...(req.seed !== undefined ? { seed: req.seed } : {}),
    ...(Array.isArray(req.classWeights) ? { classWeights: req.classWeights } : {}),
    ...(req.classWeights === true ? { classWeights: classWeights(data.dataset.y, classes, data.split.train) } : {}),
  };
}

/** The layers whose width differs from the model's common one, by name (quantization.json's policy). */
function mixedBits(m: Model): { layerBits?: Record<string, WeightBits> } {
  const common = commonWidth(m);
  const own = Object.fromEntries(m.layers.filter((l) => l.params && l.weightBits !== common).map((l) => [l.name, l.weightBits]));
  return Object.keys(own).length ? { layerBits: own } : {};
}

const rowName = (kind: 'ptq' | 'qat', bits: number, layerBits: readonly number[]): string =>
  `${kind === 'ptq' ? 'PTQ' : 'QAT'} ${bits}-bit${layerBits.some((b) => b !== bits) ? ' mixed' : ''}`;

/** Runs async jobs at most `n` at a time (evaluation workers on a small machine). */
async function pooled<T>(jobs: (() => Promise<T>)[], n: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, jobs.length) }, async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]!();
    }
  }));
  return out;
}

async function finish(run: RunRecord, result: TrainResult & { engine: 'embedded' | 'pytorch'; device: string }, ctx: CallContext, started: number): Promise<TrainResultDto> {
  const { request: req, data, model } = run;
  const { dataset, split } = data;
  const test = split.test;
  const labels = Int32Array.from(test, (i) => dataset.y[i]!);
  const layerBitsOf = (m: Model) => m.layers.filter((l) => l.params).map((l) => l.weightBits as number);
  const shiftQuantile = req.shiftQuantile ?? 1;
  // Widths trained in this run (segments carried from a continued run's state are rows of that run).
  const ownSegments = result.segments.slice(run.segmentsBefore ?? 0);
  const qatRan = result.segments.length > 0;
  const quantized = ownSegments.map((seg) => ({
    seg,
    q: quantizeModel(atWidths(model, seg.layerBits), seg.params, { shiftQuantile }),
  }));
  const qat = quantized.length ? quantized[quantized.length - 1]!.q : qatRan ? quantizeModel(model, result.floatParams, { shiftQuantile }) : undefined;
  const floatPhase = result.floatModelParams ?? (qatRan ? undefined : result.floatParams);
  // A chain carries its source's float and PTQ rows; it measures only its own widths (and the float logits, for the error).
  // PTQ rounds the float model to the widths QAT starts from (a schedule's first; else the final ones).
  const ptq = floatPhase && !run.carriedRows?.length ? postTrainingQuantize(atWidths(model, bitsAt(model, 0)), floatPhase) : undefined;
  // The model that is exported and deployed: the last QAT width, or PTQ when no QAT epoch ran.
  const deployed = qat ?? ptq!;

  ctx.progress({ phase: 'evaluate', fraction: 0, message: `float, PTQ and ${quantized.length} QAT row(s) on ${test.length} test samples` });
  const floatParams = floatPhase ?? result.floatParams;
  const progress = (name: string) => (done: number, total: number) =>
    ctx.progress({ phase: 'evaluate', fraction: done / total, message: `${name}: ${done}/${total} samples` });
  const sim = (name: string, m: Model) => () => simulatedAccuracyInWorker(m, dataset, test, { signal: ctx.signal, onProgress: progress(name) });
  const [f, p, ...qs] = await pooled<Accuracy & { outputs: Float32Array | Int32Array }>([
    () => cachedFloatAccuracy(data, model, floatParams, () =>
      floatAccuracyInWorker(model, floatParams, dataset, test, { signal: ctx.signal, onProgress: progress('float') })),
    ...(ptq ? [sim('PTQ', ptq.model)] : []),
    ...quantized.map(({ seg, q }) => sim(rowName('qat', seg.bits, layerBitsOf(q.model)), q.model)),
  ], 3);
  const pAcc = ptq ? p! : undefined;
  const qAccs = ptq ? qs : [p!, ...qs].slice(0, quantized.length);
  const floatLogits = f!.outputs as Float32Array;
  const classes = dataset.classNames.length;
  const lossCurve = result.history.map((h) => ({ epoch: h.epoch, loss: h.trainLoss }));
  const warnings: string[] = [];
  const row = (
    kind: ComparisonRowDto['kind'], name: string, bits: number, layerBits: number[], acc: Accuracy, logits: ArrayLike<number>,
    weightBytes: number, losses: { epoch: number; loss: number }[], extra: Partial<ComparisonRowDto> = {},
  ): ComparisonRowDto => {
    const report = classReport(acc.predictions, labels, dataset.classNames);
    const err = logitError(floatLogits, logits);
    const reasons = collapseReasons(losses, classes, acc.predictions);
    for (const r of reasons) warnings.push(`${name}: ${r}`);
    return {
      name, kind, bits, layerBits, accuracy: acc.accuracy, perClass: report.perClass, macroF1: report.macroF1, confusion: report.confusion,
      weightBytes, mae: err.mae, mse: err.mse, sqnrDb: kind === 'float' ? null : err.sqnrDb, via: kind === 'float' ? 'float-forward' : 'simulator',
      runId: run.id, collapsed: reasons.length > 0, ...extra,
    };
  };
  const floatLosses = lossCurve.filter((_, i) => result.history[i]!.phase === 'float');
  const rows: ComparisonRowDto[] = [...(run.carriedRows ?? [])];
  // A chain's carried rows keep their flag; the warning says where they were measured.
  for (const r of run.carriedRows ?? []) if (r.collapsed) warnings.push(`${r.name}: collapsed in run ${r.runId.slice(0, 8)}, which this run continued`);
  if (!run.carriedRows?.length) {
    rows.push(row('float', 'float (end of float phase)', 32, floatParams.map(() => 32), f!, floatLogits, floatWeightBytes(floatParams), floatLosses));
    const ptqBits = ptq && commonWidth(ptq.model);
    if (ptq && ptqBits && pAcc) rows.push(row('ptq', rowName('ptq', ptqBits, layerBitsOf(ptq.model)), ptqBits, layerBitsOf(ptq.model), pAcc, deviceToLogits(ptq.model, pAcc.outputs as Int32Array), planModel(ptq.model).weightMemoryBytes, []));
  }
  quantized.forEach(({ seg, q }, i) => {
    const acc = qAccs[i]!;
    const losses = lossCurve.filter((l) => l.epoch >= seg.fromEpoch && l.epoch <= seg.toEpoch);
    rows.push(row('qat', rowName('qat', seg.bits, layerBitsOf(q.model)), seg.bits, layerBitsOf(q.model), acc, deviceToLogits(q.model, acc.outputs as Int32Array),
      planModel(q.model).weightMemoryBytes, losses, { epochs: { from: seg.fromEpoch, to: seg.toEpoch, best: seg.bestEpoch } }));
  });

  const table: AccuracyRow[] = [{ name: 'float', accuracy: f!.accuracy, correct: f!.correct, total: f!.total, via: 'float-forward' }];
  if (pAcc) table.push({ name: 'ptq', accuracy: pAcc.accuracy, correct: pAcc.correct, total: pAcc.total, via: 'simulator' });
  const lastQ = qAccs[qAccs.length - 1];
  if (lastQ) table.push({ name: 'qat', accuracy: lastQ.accuracy, correct: lastQ.correct, total: lastQ.total, via: 'simulator' });
  const floatEpochs = result.history.filter((h) => h.phase === 'float').length;
  const qatEpochs = result.history.length - floatEpochs;
  const dto: TrainResultDto = {
    runId: run.id,
    floatAccuracy: f!.accuracy,
    ptqAccuracy: pAcc?.accuracy ?? null,
    qatAccuracy: lastQ?.accuracy ?? null,
    table,
    layers: deployed.layers.map((l) => ({ name: l.name, bits: l.bits, outputShift: l.outputShift, clippedShare: l.clippedShare })),
    samplesPerSecond: result.samplesPerSecond,
    backend: result.backend,
    engine: result.engine,
    device: result.device,
    epochsDone: run.epochsDone,
    seconds: (Date.now() - started) / 1000,
    rows,
    stoppedEarly: result.stoppedEarly.float || result.stoppedEarly.qat,
    bestEpoch: (qatRan ? result.bestEpoch.qat : result.bestEpoch.float) ?? (result.history.length ? result.history[result.history.length - 1]!.epoch : null),
    phases: {
      float: { epochs: floatEpochs, stoppedEarly: result.stoppedEarly.float, bestEpoch: result.bestEpoch.float ?? null },
      qat: { epochs: qatEpochs, stoppedEarly: result.stoppedEarly.qat, bestEpoch: result.bestEpoch.qat ?? null },
    },
    qatStart: result.qatStart,
    collapsed: rows.some((r) => r.collapsed),
    collapseWarnings: warnings,
    scaling: dataset.scaling ?? null,
    network: { arch: model.arch, source: run.source, layers: model.layers.length, batchNormLayers: model.layers.filter((l) => l.batchNorm).length },
  };
  {
    const { batchNormLeft, qatParameters, onGrid } = checkpointVerification(deployed.model);
    dto.verification = { batchNormLeft, qatParameters, onGrid };
  }
  const dir = req.outDir;
  if (dir) {
    ctx.progress({ phase: 'export', message: `writing exports to ${dir}` });
    const sampleIndex = test[0]!;
    // The project's own windows for the virtual device and the live check; capped so a large data
    // set does not make every export tens of megabytes.
    const windowIndices = Array.from(test).slice(0, MAX_TEST_WINDOWS);
    const exported = await writeExports(dir, {
      model: deployed.model,
      floatParams: result.floatParams,
      sample: toInt8Batch(dataset, [sampleIndex]),
      testWindows: { x: toInt8Batch(dataset, windowIndices), labels: Array.from(windowIndices, (i) => dataset.y[i]!) },
      // A kept run whose folder is the export folder: its files go in with the export, in one swap.
      runFiles: [
        ...comparisonFiles(dto),
        ...(run.dir && run.file && resolve(run.dir) === resolve(dir) ? [['state.json', stateJson(result.state)], ['run.json', runJson({ ...run.file, epochsDone: result.state.epoch, history: result.history.map(epochDto) })]] as [string, string][] : []),
      ],
      epoch: run.epochsDone - 1,
      scaling: dataset.scaling ?? null,
      quantization: quantizationReport({
        model: deployed.model,
        policy: {
          epochs: run.epochsDone,
          qatStart: result.qatStart,
          bits: commonWidth(deployed.model),
          ...mixedBits(deployed.model),
          ...(model.bitsSchedule ? { bitsSchedule: model.bitsSchedule } : {}),
          shiftQuantile,
        },
        accuracy: { float: dto.floatAccuracy, ptq: dto.ptqAccuracy, qat: dto.qatAccuracy, table, testSamples: test.length },
        layers: deployed.layers,
        ...(ptq ? { ptqLayers: ptq.layers } : {}),
        history: result.history.map(({ ranges, ...figures }) => ({ ...figures, layers: ranges })),
        sample: { index: sampleIndex, label: dataset.y[sampleIndex]!, className: dataset.classNames[dataset.y[sampleIndex]!]! },
        scaling: dataset.scaling ?? null,
      }),
    });
    dto.outDir = exported.dir;
    dto.files = exported.files;
  }
  run.result = result;
  run.dto = dto;
  return dto;
}

/** comparison.json (the rows and the summary) and comparison.csv (one line per row and class). */
function comparisonFiles(dto: TrainResultDto): [string, string][] {
  const summary = {
    runId: dto.runId, rows: dto.rows, stoppedEarly: dto.stoppedEarly, bestEpoch: dto.bestEpoch, phases: dto.phases,
    collapsed: dto.collapsed, collapseWarnings: dto.collapseWarnings, scaling: dto.scaling,
  };
  return [['comparison.json', JSON.stringify(summary, null, 2) + '\n'], ['comparison.csv', comparisonCsv(dto.rows)]];
}

export function comparisonCsv(rows: readonly ComparisonRowDto[]): string {
  const q = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const lines = ['row,bits,accuracy,macro_f1,weight_bytes,mae,mse,sqnr_db,class,precision,recall,f1,support'];
  for (const r of rows) {
    for (const c of r.perClass) {
      lines.push([q(r.name), r.bits, r.accuracy, r.macroF1, r.weightBytes, r.mae, r.mse, r.sqnrDb ?? '', q(c.label), c.precision, c.recall, c.f1, c.support].join(','));
    }
  }
  return lines.join('\n') + '\n';
}

/**
 * Writes a kept run down as it goes: run.json at the start, state.json then run.json after every
 * epoch, and the outcome at the end. Writes queue one after another; `flush()` waits for them.
 */
function keeper(run: RunRecord) {
  let chain: Promise<void> = Promise.resolve();
  let failed: Error | undefined;
  const later = (work: () => Promise<void>) => {
    if (!run.dir) return;
    chain = chain.then(work).catch((e: Error) => void (failed ??= e));
  };
  return {
    start: () => later(() => writeRunFile(run.dir!, run.file!)),
    checkpoint(state: TrainState) {
      later(async () => {
        await writeState(run.dir!, state);
        run.file!.epochsDone = state.epoch;
        run.file!.history = state.history.map(epochDto);
        await writeRunFile(run.dir!, run.file!);
      });
    },
    end(status: RunFile['status'], result?: TrainResult, extra: Partial<RunFile> = {}) {
      later(async () => {
        if (result) {
          await writeState(run.dir!, result.state);
          run.file!.epochsDone = result.state.epoch;
          run.file!.history = result.history.map(epochDto);
        }
        Object.assign(run.file!, { status, ...extra });
        await writeRunFile(run.dir!, run.file!);
      });
    },
    async flush(): Promise<void> {
      await chain;
      if (failed) throw new ApiError('io', `Cannot keep run ${run.id} in ${run.dir}: ${failed.message}`, 'projectDir');
    },
  };
}

/**
 * The engine seam: the embedded engine in its worker, or the PyTorch engine as a child process. Both
 * take the same TrainConfig and hooks and return a TrainResult, so everything after training is shared.
 */
async function runEngine(env: ServiceEnv, run: RunRecord, config: TrainConfig, hooks: TrainHooks): Promise<TrainResult & { engine: 'embedded' | 'pytorch'; device: string }> {
  const req = run.request;
  const data = { dataset: run.data.dataset, split: run.data.split };
  if ((req.engine ?? 'embedded') === 'embedded') {
    for (const f of ['computeDevice', 'gpus', 'threads'] as const) {
      if (req[f] !== undefined) throw new ApiError('bad-request', `${f} applies to the PyTorch engine only (engine: "pytorch").`, f);
    }
    return { ...(await runTrainingInWorker(run.model, data, config, hooks)), engine: 'embedded', device: 'cpu' };
  }
  // The Python comes from Settings or the CLI's --python only: a program the app runs has no API field.
  const settings = await runSettings(env);
  const python = await resolveTorchPython(settings);
  const device = (req.computeDevice ?? 'cpu') as ComputeDevice;
  return trainWithPytorch(run.model, data, config, {
    python: python.path, device,
    ...(req.gpus ? { processes: req.gpus } : {}),
    ...(req.threads ? { threads: req.threads } : {}),
    ...(settings.trainRemotePrefix?.length ? { remotePrefix: settings.trainRemotePrefix } : {}),
  }, hooks);
}

/** CUDA asked for but not there fails before data is loaded or a run is kept (the engine would only say so after). */
async function checkEngineDevice(env: ServiceEnv, req: TrainRequest, signal: AbortSignal): Promise<void> {
  if ((req.engine ?? 'embedded') !== 'pytorch' || !req.computeDevice?.startsWith('cuda')) return;
  const python = await resolveTorchPython(await runSettings(env));
  await checkComputeDevice(python.path, req.computeDevice as ComputeDevice, req.gpus ?? 1, { signal });
}

async function train(env: ServiceEnv, run: RunRecord, config: TrainConfig, ctx: CallContext): Promise<TrainResult & { engine: 'embedded' | 'pytorch'; device: string }> {
  const t0 = Date.now();
  const keep = keeper(run);
  active.add(run.id);
  let result: TrainResult & { engine: 'embedded' | 'pytorch'; device: string };
  try {
    keep.start();
    result = await runEngine(env, run, config, {
      signal: ctx.signal,
      onProgress(p: TrainProgress) {
        ctx.progress({
          phase: p.phase,
          fraction: Math.min(1, (p.epoch + p.batch / Math.max(1, p.batches)) / Math.max(1, p.epochs)),
          message: `epoch ${p.epoch + 1}/${p.epochs} (${p.phase}) batch ${p.batch}/${p.batches} loss ${p.loss.toFixed(4)}`,
          data: { kind: 'batch', ...p } satisfies z.input<typeof TrainBatchProgress>,
        });
      },
      onEpoch(e: EpochRecord) {
        // The UI charts every epoch: never dropped by the progress rate limit.
        ctx.progress({
          phase: e.phase,
          fraction: Math.min(1, (e.epoch + 1) / Math.max(1, config.epochs)),
          message: `epoch ${e.epoch + 1}/${config.epochs} (${e.phase}${e.phase === 'qat' && e.bits ? ` ${e.bits}-bit` : ''}) done: loss ${e.trainLoss.toFixed(4)}, val acc ${finite(e.valAccuracy)?.toFixed(4) ?? '—'}, lr ${e.lr.toPrecision(3)}`,
          data: {
            kind: 'epoch',
            epoch: e.epoch,
            ...(finite(e.trainLoss) !== undefined ? { epochLoss: e.trainLoss } : {}),
            ...(finite(e.trainAccuracy) !== undefined ? { trainAccuracy: e.trainAccuracy } : {}),
            ...(finite(e.valAccuracy) !== undefined ? { validationAccuracy: e.valAccuracy } : {}),
            ...(finite(e.valLoss) !== undefined ? { validationLoss: e.valLoss } : {}),
            lr: e.lr,
            ...(e.bits !== undefined ? { bits: e.bits } : {}),
          } satisfies z.input<typeof TrainEpochProgress>,
        }, { mustDeliver: true });
      },
      ...(run.dir ? { onCheckpoint: (state: TrainState) => keep.checkpoint(state) } : {}),
    });
  } catch (error) {
    keep.end('failed', undefined, { error: (error as Error).message });
    await keep.flush().catch(() => undefined);
    active.delete(run.id);
    throw error;
  }
  if (result.cancelled || ctx.signal.aborted) {
    // Keep the state reached, so the run can be resumed.
    run.result = result;
    run.epochsDone = result.state.epoch;
    keep.end('cancelled', result);
    await keep.flush();
    active.delete(run.id);
    throw new ApiError('cancelled', `Cancelled after ${result.state.epoch} epoch(s); resume continues from there.`);
  }
  ctx.progress({ phase: 'trained', fraction: 1, message: `trained in ${((Date.now() - t0) / 1000).toFixed(1)} s` });
  run.keep = keep;
  return result;
}

/** Finishes a run: the comparison and exports, then (kept runs) the outcome on disk. */
async function complete(run: RunRecord, result: TrainResult & { engine: 'embedded' | 'pytorch'; device: string }, ctx: CallContext, started: number): Promise<TrainResultDto> {
  try {
    // Checkpoint writes first: the export swaps the run's folder as a whole.
    await run.keep?.flush();
    const dto = await finish(run, result, ctx, started);
    run.keep?.end('done', result, { result: dto });
    await run.keep?.flush();
    return dto;
  } catch (error) {
    run.keep?.end('failed', result, { error: (error as Error).message });
    await run.keep?.flush().catch(() => undefined);
    throw error;
  } finally {
    active.delete(run.id);
    if (!live.has(run.id)) release(run); // evicted while it trained
  }
}

/** The request with its data written out, so it means the same after a restart. */
function keptRequest(req: TrainRequest, data: PreparedData): TrainRequest {
  if (!('datasetId' in req.data)) return req;
  const o = data.options ?? {};
  return { ...req, data: { source: data.source, ...(o.limit !== undefined ? { limit: o.limit } : {}), ...(o.split ? { split: o.split } : {}) } };
}

/** A kept run's folder: by id in the project (or this session's record of it). */
async function findRunDir(runId: string, projectDir?: string): Promise<string | undefined> {
  const mem = runs.get(runId);
  if (mem?.dir) return mem.dir;
  if (!projectDir) return undefined;
  const dir = projectRunDir(projectDir, runId);
  try {
    await readRunFile(dir);
    return dir;
  } catch {
    return (await listProjectRuns(projectDir)).runs.find((r) => r.run.runId === runId)?.dir;
  }
}

/** What a run list calls the network: its zoo name or file, or a stored model's arch. */
const modelName = (m: TrainRequest['model']): string => (typeof m === 'string' ? m : m.arch);

/** The common final width of the network a request names, where the request itself says it. */
function requestBits(m: TrainRequest['model']): number {
  if (typeof m === 'string') return TRAIN_DEFAULTS.weightBits;
  if ('kind' in m) return m.bitsSchedule?.at(-1)?.bits ?? commonWidth({ layers: Object.values(m.layers ?? {}).map((l) => ({ op: 'conv2d', weightBits: l.weightBits })) });
  return commonWidth(m);
}

/** A run's width: its last row's, else what its request sets (an edit, or the network it sends). */
const runBits = (req: TrainRequest, result: TrainResultDto | null): number =>
  result?.rows.at(-1)?.bits ?? req.bits ?? req.bitsSchedule?.at(-1)?.bits ?? requestBits(req.model);

const diskStatus = (f: RunFile): RunFile['status'] => (f.status === 'running' && !active.has(f.runId) ? 'interrupted' : f.status);

/** What a run list says of a run: network, width, planned epochs per phase and the QAT widths in order. */
function planned(req: TrainRequest, result: TrainResultDto | null): Pick<RunSummaryDto, 'model' | 'bits' | 'phases' | 'widths'> {
  const bits = runBits(req, result);
  // A chain (fromRun) trains QAT only: its request's epochs all come after the source's.
  const qat = req.fromRun ? req.epochs : req.epochs - req.qatStart;
  // Measured: the widths of its own QAT rows; planned: the request's schedule, else its one width.
  const measured = result?.rows.filter((r) => r.kind === 'qat' && r.runId === result.runId).map((r) => r.bits) ?? [];
  return {
    model: modelName(req.model), bits, phases: { float: req.epochs - qat, qat },
    widths: measured.length ? measured : req.bitsSchedule?.length ? req.bitsSchedule.map((s) => s.bits) : [bits],
  };
}

function summary(f: RunFile, dir: string | null, result: TrainResultDto | null): RunSummaryDto {
  return {
    runId: f.runId, status: diskStatus(f), createdAt: f.createdAt, epochsDone: f.epochsDone, epochsPlanned: f.epochsPlanned,
    dir, fromRun: f.fromRun ?? null, ...planned(f.request, result ?? f.result ?? null), result: result ?? f.result ?? null,
  };
}

/** A new run that continues `fromRun` at new bits: its weights, its rows, and a fresh QAT phase of `req.epochs` epochs. */
async function chainFrom(req: TrainRequest): Promise<{ file: RunFile; state: TrainState }> {
  if (req.qatStart !== 0) throw new ApiError('bad-request', `fromRun continues a finished run with QAT only: qatStart must be 0 (got ${req.qatStart}).`, 'qatStart');
  const file = await readRunFile(req.fromRun!);
  if (file.status !== 'done' || !file.result) throw new ApiError('bad-request', `${req.fromRun}: run ${file.runId} is ${diskStatus(file)}, not finished; continue it first.`, 'fromRun');
  return { file, state: await readState(req.fromRun!) };
}

export function createTrainingService(env: ServiceEnv): ServiceImpl<typeof trainingApi> {
  return {
    async ping() {
      return { ok: true as const };
    },
    async train(req, ctx) {
      const started = Date.now();
      if (req.qatStart > req.epochs) throw new ApiError('bad-request', `qatStart ${req.qatStart} is after the last epoch (${req.epochs}).`, 'qatStart');
      await checkEngineDevice(env, req, ctx.signal);
      const chain = req.fromRun ? await chainFrom(req) : undefined;
      const id = randomUUID();
      const dir = req.projectDir ? projectRunDir(req.projectDir, id) : req.outDir;
      // The run id comes first (the RPC may drop a progress message that follows another within 50 ms; this one leads).
      ctx.progress({ phase: 'start', fraction: 0, message: `run ${id}${chain ? ` from ${chain.file.runId}` : ''}`, data: { kind: 'start', runId: id, ...(dir ? { dir } : {}) } satisfies z.input<typeof TrainStartProgress> }, { mustDeliver: true });
      ctx.progress({ phase: 'data', message: 'loading data' });
      const data = await resolveData(req);
      const network = await resolveNetwork(req);
      const model = buildModel(req, data, network.model);
      const request: TrainRequest = { ...req, ...(dir && !req.outDir ? { outDir: dir } : {}) };
      const before = chain?.state.epoch ?? 0;
      const createdAt = new Date().toISOString();
      const run: RunRecord = {
        id, createdAt, request, data, model, base: network.model, source: network.source, epochsDone: before,
        ...(dir ? { dir, file: newRunFile(id, keptRequest(request, data), before + req.epochs, { createdAt, epochsDone: before, ...(chain ? { fromRun: resolve(req.fromRun!), carriedRows: chain.file.result!.rows, segmentsBefore: chain.state.segments?.length ?? 0 } : {}) }) } : {}),
        ...(chain ? { carriedRows: chain.file.result!.rows, segmentsBefore: chain.state.segments?.length ?? 0 } : {}),
      };
      keep(run);
      let config = engineConfig(req, data, req.epochs, model);
      if (chain) {
        // The source's float phase is this run's past: QAT (at the new bits) starts at its last epoch, with a fresh optimizer.
        const { stage: _a, stageStart: _b, planKey: _c, best: _d, optimizer: _e, ...kept } = chain.state;
        config = { ...engineConfig({ ...req, qatStart: before, epochs: before + req.epochs }, data, before + req.epochs, model), resumeFrom: { ...kept, qatStart: before, lrScale: 1, plateauStale: 0, epochsWithoutImprovement: 0 } };
      }
      const result = await train(env, run, config, ctx);
      run.epochsDone = result.state.epoch;
      return complete(run, result, ctx, started);
    },
    async resume(req, ctx) {
      const started = Date.now();
      const source = live.get(req.runId) ?? runs.get(req.runId);
      if (source?.released) {
        throw new ApiError('not-found', `Run ${req.runId} was released from memory (only the last ${MAX_LIVE_RUNS} runs can be resumed); continue it from its kept folder or start a new run.`, 'runId');
      }
      if (!source?.result) throw new ApiError('not-found', `No finished run ${req.runId} in this session.`, 'runId');
      const done = source.result.state.epoch;
      const qatStarted = source.result.state.bnFolded;
      const qatStart = qatStarted ? source.result.qatStart : (req.qatStart ?? Math.max(done, source.request.qatStart));
      if (!qatStarted && qatStart < done) throw new ApiError('bad-request', `qatStart ${qatStart} is before the next epoch (${done}).`, 'qatStart');
      const total = done + req.epochs;
      // New bits replace the source's widths and its schedule.
      const { outDir: _ignored, projectDir, fromRun: _f, ...kept } = source.request;
      const { bitsSchedule: _bs, ...unscheduled } = kept;
      const rest = req.bits ? unscheduled : kept;
      const id = randomUUID();
      const dir = projectDir ? projectRunDir(projectDir, id) : undefined;
      const request: TrainRequest = {
        ...rest,
        epochs: total,
        qatStart: Math.min(qatStart, total),
        ...(req.bits ? { bits: req.bits } : {}),
        ...(req.layerBits ? { layerBits: req.layerBits } : {}),
        ...(projectDir ? { projectDir } : {}),
        ...(req.outDir ? { outDir: req.outDir } : dir ? { outDir: dir } : {}),
      };
      await checkEngineDevice(env, request, ctx.signal);
      const model = buildModel(request, source.data, source.base);
      const createdAt = new Date().toISOString();
      const run: RunRecord = {
        id, createdAt, request, data: source.data, model, base: source.base, source: source.source, epochsDone: done, segmentsBefore: source.result.segments.length,
        ...(dir ? { dir, file: newRunFile(id, keptRequest(request, source.data), total, { createdAt }) } : {}),
      };
      keep(run);
      ctx.progress({ phase: 'start', fraction: 0, message: `run ${run.id} from ${source.id}`, data: { kind: 'start', runId: run.id } satisfies z.input<typeof TrainStartProgress> });
      // A finished run's stage plan ended; the new plan places the run by its epoch. A cancelled one goes on where it stood
      // when the plan is the same (the engine checks).
      const { stage: _s, stageStart: _ss, ...placed } = source.result.state;
      const resumeFrom = source.result.cancelled ? source.result.state : placed;
      const result = await train(env, run, { ...engineConfig(request, run.data, total, model), resumeFrom }, ctx);
      run.epochsDone = result.state.epoch;
      return complete(run, result, ctx, started);
    },
    async continueRun(req, ctx) {
      const started = Date.now();
      if (active.has(req.runId)) throw new ApiError('bad-request', `Run ${req.runId} is running now.`, 'runId');
      const dir = await findRunDir(req.runId, req.projectDir);
      if (!dir) throw new ApiError('not-found', `No kept run ${req.runId} in ${join(req.projectDir, 'runs')}.`, 'runId');
      const file = await readRunFile(dir);
      if (file.status === 'done') throw new ApiError('bad-request', `Run ${req.runId} has finished; train more as a new run (resume) instead.`, 'runId');
      const state = await readState(dir);
      await checkEngineDevice(env, file.request, ctx.signal);
      ctx.progress({ phase: 'start', fraction: state.epoch / Math.max(1, file.epochsPlanned), message: `run ${file.runId} from epoch ${state.epoch + 1}`, data: { kind: 'start', runId: file.runId, dir } satisfies z.input<typeof TrainStartProgress> }, { mustDeliver: true });
      ctx.progress({ phase: 'data', message: 'loading data' });
      const data = await resolveData(file.request);
      const network = await resolveNetwork(file.request);
      const model = buildModel(file.request, data, network.model);
      const run: RunRecord = {
        id: file.runId, createdAt: file.createdAt, request: file.request, data, model, base: network.model, source: network.source, epochsDone: state.epoch, dir, file: { ...file, status: 'running', error: undefined },
        ...(file.carriedRows ? { carriedRows: file.carriedRows } : {}), ...(file.segmentsBefore !== undefined ? { segmentsBefore: file.segmentsBefore } : {}),
      };
      keep(run);
      const chained = file.fromRun !== undefined;
      const before = chained ? file.epochsPlanned - file.request.epochs : 0;
      const config = chained
        ? engineConfig({ ...file.request, qatStart: before, epochs: file.epochsPlanned }, data, file.epochsPlanned, model)
        : engineConfig(file.request, data, file.request.epochs, model);
      const result = await train(env, run, { ...config, resumeFrom: state }, ctx);
      run.epochsDone = result.state.epoch;
      return complete(run, result, ctx, started);
    },
    async getRun(req) {
      const run = runs.get(req.runId);
      const history = run?.result ? historyDto(run.result) : run?.history;
      if (run?.dto && history) return { result: run.dto, status: 'done' as const, history, request: { ...run.request } };
      const dir = await findRunDir(req.runId, req.projectDir);
      if (!dir) throw new ApiError('not-found', `No run ${req.runId} in this session${req.projectDir ? ` or in ${join(req.projectDir, 'runs')}` : ''}.`, 'runId');
      const file = await readRunFile(dir);
      return { result: file.result ?? null, status: diskStatus(file), history: file.history as EpochDtoType[], request: { ...file.request } };
    },
    async listRuns(req) {
      const out = new Map<string, RunSummaryDto>();
      const { runs: kept, skipped } = req.projectDir ? await listProjectRuns(req.projectDir) : { runs: [], skipped: [] };
      for (const { dir, run } of kept) out.set(run.runId, summary(run, dir, null));
      for (const r of [...runs.values()].reverse()) {
        if (out.has(r.id) || !r.dto) continue;
        out.set(r.id, {
          runId: r.id, status: 'done', createdAt: r.createdAt, epochsDone: r.epochsDone, epochsPlanned: r.request.epochs,
          dir: r.dir ?? null, fromRun: r.request.fromRun ?? null, ...planned(r.request, r.dto ?? null), result: r.dto,
        });
      }
      // Newest first, kept and session runs alike.
      const list = [...out.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
      return { runs: list, skipped };
    },
  };
}

const finite = (v: number | undefined): number | undefined => (v !== undefined && Number.isFinite(v) ? v : undefined);

function epochDto(e: EpochRecord): EpochDtoType {
  const trainAccuracy = finite(e.trainAccuracy);
  const validationAccuracy = finite(e.valAccuracy);
  const validationLoss = finite(e.valLoss);
  return {
    epoch: e.epoch,
    phase: e.phase,
    loss: finite(e.trainLoss) ?? -1,
    ...(trainAccuracy !== undefined ? { trainAccuracy } : {}),
    ...(validationAccuracy !== undefined ? { validationAccuracy } : {}),
    ...(validationLoss !== undefined ? { validationLoss } : {}),
    lr: e.lr,
    ...(e.bits !== undefined ? { bits: e.bits } : {}),
    // A diverged run can leave ±Infinity/NaN ranges, which JSON and the schema cannot carry.
    layers: e.ranges.map((l) => ({
      ...l,
      weightMin: finite(l.weightMin) ?? 0,
      weightMax: finite(l.weightMax) ?? 0,
      activationMin: finite(l.activationMin) ?? 0,
      activationMax: finite(l.activationMax) ?? 0,
    })),
  };
}

function historyDto(result: TrainResult) {
  return result.history.map(epochDto);
}
