// Node edge of the model capability: reads the files of an existing ai8x model (checkpoint, network
// YAML, sample/inputs .npy) and turns reader errors into ApiErrors naming file and field. Shared by
// the model service and the CLI.
import { basename } from 'node:path';
import { ApiError } from '../api/contract.ts';
import type { Device, Diagnostic, Model } from '../ir/graph.ts';
import { FormatError } from '../formats/format-error.ts';
import { importAi8x } from '../formats/import-ai8x.ts';
import { readNetworkYaml } from '../formats/network-yaml.ts';
import { readNpy, writeNpy, type NdArray } from '../formats/npy.ts';
import { writeFileAtomic } from '../project/atomic-write.ts';
import { readInputFile } from '../platform/read-input.ts';
import { runBudgeted, type WorkerBudget } from '../platform/budgeted-worker.ts';
import type { loadNetwork, NetworkSpec } from './load-network.ts';

export interface OpenModelRequest {
  checkpointPath: string;
  networkPath: string;
  /** One sample (C,H,W)/(C,L), or a batch with a leading N whose first sample is taken. */
  samplePath?: string;
  /** An already-read sample (C,H,W)/(C,L) and its file name, instead of samplePath. */
  sample?: NdArray;
  sampleName?: string;
  inputDims?: number[];
  device?: Device;
}

function formatToApi(e: unknown, code: string): never {
  if (e instanceof FormatError) throw new ApiError(code, e.message, e.field);
  throw e;
}

export async function readInputNpy(path: string, field = 'inputPath'): Promise<NdArray> {
  const bytes = await readInputFile(path, 'sample', field);
  try {
    return readNpy(bytes, basename(path));
  } catch (e) {
    return formatToApi(e, 'invalid-data');
  }
}

export async function openAi8xModel(req: OpenModelRequest): Promise<{ model: Model; warnings: Diagnostic[] }> {
  const [ckpt, yaml] = await Promise.all([readInputFile(req.checkpointPath, 'checkpoint', 'checkpointPath'), readInputFile(req.networkPath, 'yaml', 'networkPath')]);
  const sample = req.sample ?? (req.samplePath ? (await readSampleOrBatch(req.samplePath, req.networkPath, 'samplePath')).sample : undefined);
  const sampleName = req.sampleName ?? (req.samplePath ? basename(req.samplePath) : 'sample.npy');
  try {
    return importAi8x({
      checkpoint: ckpt, checkpointName: basename(req.checkpointPath),
      yaml: new TextDecoder().decode(yaml), yamlName: basename(req.networkPath),
      ...(sample ? { sample, sampleName } : {}),
      ...(req.inputDims ? { inputDims: req.inputDims } : {}),
      ...(req.device ? { device: req.device } : {}),
    });
  } catch (e) {
    return formatToApi(e, 'invalid-model');
  }
}

/**
 * openAi8xModel in a worker with a time and memory budget: what the app's services use, so a
 * hostile checkpoint cannot freeze the event loop (web mode's ping, Electron's main process).
 */
export async function openAi8xModelInWorker(req: OpenModelRequest, signal?: AbortSignal, budget?: Partial<WorkerBudget>): Promise<{ model: Model; warnings: Diagnostic[] }> {
  return runBudgeted(new URL('./open-model.worker.ts', import.meta.url), { kind: 'import', req }, basename(req.checkpointPath),
    { ...(signal ? { signal } : {}), ...(budget ? { budget } : {}) });
}

/**
 * loadNetwork (ONNX, ai8x YAML + checkpoint, model.json) in a budgeted worker; an ImportError
 * arrives as an ApiError with code IMPORT_ERROR and the importer's message.
 */
export async function loadNetworkInWorker(spec: NetworkSpec, signal?: AbortSignal): Promise<Awaited<ReturnType<typeof loadNetwork>>> {
  return runBudgeted(new URL('./open-model.worker.ts', import.meta.url), { kind: 'network', spec }, basename(spec.model), signal ? { signal } : {});
}

/** readInputNpy in a budgeted worker. */
export async function readInputNpyInWorker(path: string, field: string, signal?: AbortSignal): Promise<NdArray> {
  return runBudgeted(new URL('./open-model.worker.ts', import.meta.url), { kind: 'npy', path, field }, basename(path), signal ? { signal } : {});
}

/** Input .npy values → planar int32, with the number of samples (a leading N is a batch). */
export function inputsFromNpy(a: NdArray, model: Model, file: string): { data: Int32Array; count: number } {
  const per = model.input.channels * model.input.dims.reduce((x, y) => x * y, 1);
  const sampleShape = [model.input.channels, ...model.input.dims];
  const single = a.shape.length === sampleShape.length && a.shape.every((d, i) => d === sampleShape[i]);
  const batch = a.shape.length === sampleShape.length + 1 && a.shape.slice(1).every((d, i) => d === sampleShape[i]);
  if (!single && !batch)
    throw new ApiError('invalid-data', `${file}: shape: expected (${sampleShape.join(', ')}) or (N, ${sampleShape.join(', ')}) for this model (got (${a.shape.join(', ')}))`, 'shape');
  if (a.dtype === 'float32' || a.dtype === 'float64' || a.dtype === 'bool')
    throw new ApiError('invalid-data', `${file}: dtype: expected integer int8 codes (int64 as the izer wants, or int8/int16/int32) (got ${a.dtype})`, 'dtype');
  const data = new Int32Array(a.data.length);
  for (let i = 0; i < data.length; i++) {
    const v = Number(a.data[i]!);
    if (v < -128 || v > 127) throw new ApiError('invalid-data', `${file}: data[${i}]: expected a value in -128..127 (got ${v})`, `data[${i}]`);
    data[i] = v;
  }
  return { data, count: single ? 1 : data.length / per };
}

/** Writes outputs as int64 .npy, shape (C, 1, 1)-like per sample or (N, ...) for a batch, atomically. */
export async function writeOutputNpy(path: string, outputs: Int32Array, sampleShape: number[], count: number, batch: boolean): Promise<void> {
  const shape = batch ? [count, ...sampleShape] : sampleShape;
  const data = BigInt64Array.from(outputs, (v) => BigInt(v));
  await writeFileAtomic(path, writeNpy({ dtype: 'int64', shape, data }));
}

/** Output shape as the izer's expected.npy has it: (C, 1, 1) for a Linear layer, (C, H, W), (C, L, 1). */
export function izerShape(shape: { channels: number; dims: number[] }): number[] {
  return shape.dims.length === 1 ? [shape.channels, shape.dims[0]!, 1] : [shape.channels, ...shape.dims];
}

/** The op of the first layer in a network YAML file (to tell a (C,L) batch from a (C,H,W) sample). */
export async function firstLayerOp(networkPath: string): Promise<string> {
  const text = new TextDecoder().decode(await readInputFile(networkPath, 'yaml', 'networkPath'));
  try {
    return readNetworkYaml(text, basename(networkPath)).config.layers[0]!.op;
  } catch (e) {
    return formatToApi(e, 'invalid-model');
  }
}

/**
 * An input .npy as the model will see it: one sample, or a batch with a leading N (rank 4, or rank 3
 * when the network's first layer is Conv1d, whose samples are (C, L)); `sample` is its first sample,
 * which fixes the model's input size as the izer's sample does.
 */
export async function readSampleOrBatch(inputPath: string, networkPath: string, field = 'input'): Promise<{ input: NdArray; sample: NdArray; isBatch: boolean }> {
  const input = await readInputNpy(inputPath, field);
  const oneD = (await firstLayerOp(networkPath)) === 'conv1d';
  const isBatch = input.shape.length === (oneD ? 3 : 4);
  const shape = isBatch ? input.shape.slice(1) : input.shape;
  const sample = { ...input, shape, data: isBatch ? input.data.subarray(0, shape.reduce((a, b) => a * b, 1)) : input.data };
  return { input, sample, isBatch };
}
