// Writes a trained run into a folder, replaced as a whole (staging folder + rename, so a crash never
// leaves a half-written export or new files beside old ones): the izer-ready checkpoint, the planned network YAML, the sample
// input and its expected simulator output, the float ONNX model, quantization.json and model.json.
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { replaceFolder, writeSynced } from '../platform/replace-folder.ts';
import type { InputScaling, Model, WeightBits } from '../ir/graph.ts';
import type { FloatLayerParams } from '../ir/float-params.ts';
import { writeNpy } from '../formats/npy.ts';
import { writeNetworkYaml } from '../formats/network-yaml.ts';
import { writeOnnx } from '../formats/onnx.ts';
import { writeIzerCheckpoint } from '../formats/izer-checkpoint.ts';
import { serializeModel } from '../ir/schema.ts';
import { planModel } from '../planner/plan.ts';
import { simulate } from '../sim/simulate.ts';
import { ApiError } from '../api/contract.ts';
import { verifyCheckpoint, type Verification } from '../formats/checkpoint-verify.ts';

/**
 * The float parameters the exported float model uses: the trained ones, except that a wide
 * (32-bit) layer's weights and bias are scaled by 2^−outputShift, as ai8x does in QAT (a wide layer
 * scales its weights but never shifts its output). The float model's logits are then on the
 * device's scale: device value = logit · 2^(6+b). Exact (a power-of-two scaling).
 */
export function exportFloatParams(model: Model, params: readonly FloatLayerParams[]): FloatLayerParams[] {
  return params.map((p) => {
    const layer = model.layers.find((l) => l.name === p.name);
    if (!layer || layer.outputWidth !== 32 || layer.outputShift === 0) return p;
    const s = 2 ** -layer.outputShift;
    return { name: p.name, weight: p.weight.map((v) => v * s), bias: p.bias ? p.bias.map((v) => v * s) : null };
  });
}

export interface ReportInput {
  /** The integer QAT model (bits and shifts set). */
  model: Model;
  /** Training policy of the run. */
  policy: { epochs: number; qatStart: number; bits: WeightBits; layerBits?: Record<string, WeightBits>; shiftQuantile?: number };
  /** Accuracy rows (float / PTQ / QAT) on the same test samples. */
  accuracy: { float: number; ptq: number | null; qat: number | null; table: unknown[]; testSamples: number };
  /** Per-layer quantization of the QAT model and of PTQ. */
  layers: { name: string; bits: WeightBits; outputShift: number; clippedShare: number }[];
  ptqLayers?: { name: string; outputShift: number; clippedShare: number }[];
  /** Per-epoch history of the engine; each entry's `layers` holds that epoch's per-layer statistics. */
  history: readonly { epoch: number; phase: string; layers?: readonly unknown[]; [figure: string]: unknown }[];
  sample: { index: number; label: number; className: string };
  /** The feature scaling the data was trained with (raw [min, max] → [0, 1]), so raw windows are scaled the same way. */
  scaling?: InputScaling | null;
}

/**
 * quantization.json: per layer and per epoch the ranges / histograms / clipped share / shift /
 * bits from the engine's history, the float / PTQ / QAT table, and the scales a consumer needs:
 * device input = round(x·128); a 32-bit output / 2^(6+b) = the float model's logit (model.onnx).
 */
export function quantizationReport(r: ReportInput): Record<string, unknown> {
  const { model } = r;
  const last = model.layers[model.layers.length - 1]!;
  const statsOf = (entry: ReportInput['history'][number], name: string, i: number): unknown => {
    const list = entry.layers ?? [];
    const named = (l: unknown) => (l as { name?: string; layer?: string } | null)?.name ?? (l as { layer?: string } | null)?.layer;
    return list.find((l) => named(l) === name) ?? list[i] ?? null;
  };
  const weighted = model.layers.map((l, i) => ({ l, i })).filter(({ l }) => l.params);
  return {
    schema: 'qatwb.quantization',
    version: 1,
    arch: model.arch,
    dataset: model.dataset,
    device: model.device,
    input: {
      scale: 1 / 128,
      shape: [model.input.channels, ...model.input.dims],
      format: model.input.format,
      normalize: 'ai8x.normalize: [0,1] -> round((x-0.5)*256) clamped to [-128,127]; training sees that / 128',
      /** Raw feature value v → (v − min) / (max − min) in [0, 1] before ai8x.normalize (int8: v is already the code). */
      scaling: r.scaling ?? null,
    },
    output: {
      layer: last.name,
      width: last.outputWidth,
      weightBits: last.weightBits,
      outputShift: last.outputShift,
      /** device value / scale = float logit (model.onnx output). */
      scale: last.outputWidth === 32 ? 2 ** (6 + last.weightBits) : 128,
    },
    policy: r.policy,
    accuracy: r.accuracy,
    /** Per-epoch figures (loss, accuracy, learning rate) without the per-layer statistics. */
    epochs: r.history.map(({ layers: _l, ...figures }) => figures),
    sample: r.sample,
    layers: weighted.map(({ l, i }) => {
      const q = r.layers.find((x) => x.name === l.name);
      const p = r.ptqLayers?.find((x) => x.name === l.name);
      return {
        name: l.name,
        op: l.op,
        bits: l.weightBits,
        outputShift: l.outputShift,
        clippedShare: q?.clippedShare ?? 0,
        ...(p ? { ptq: { outputShift: p.outputShift, clippedShare: p.clippedShare } } : {}),
        epochs: r.history.map((e) => ({ epoch: e.epoch, phase: e.phase, stats: statsOf(e, l.name, i) })),
      };
    }),
  };
}

export interface ExportInput {
  /** The integer (QAT) model: params, weightBits and outputShift on every layer with weights. */
  model: Model;
  /** Float parameters of the same run (BN folded), for the ONNX file. */
  floatParams: readonly FloatLayerParams[];
  /** One test sample as planar int8 device input (C×dims). */
  sample: Int8Array;
  /** Last epoch, written to the checkpoint. */
  epoch: number;
  /** Content of quantization.json. */
  quantization: Record<string, unknown>;
  /**
   * The feature scaling the data was trained with, written into model.json `input.scaling` (what
   * the live check and the virtual device apply to raw windows); null drops one the model carried in.
   */
  scaling?: InputScaling | null;
  /**
   * The test split as planar int8 device input, back to back, with its labels: written as
   * test.windows.npy / test.labels.npy, the project's own windows for the virtual device's sensor
   * and the live check.
   */
  testWindows?: { x: Int8Array; labels: ArrayLike<number> };
  /** Files of the run kept with its export (run.json, state.json, comparison.json/csv), swapped in with it. */
  runFiles?: [string, Uint8Array | string][];
}

export interface ExportResult {
  dir: string;
  files: string[];
  /** Simulator output for the sample (what sample.expected.npy holds). */
  expected: Int32Array;
  /** The model with the planner's placement, as written to network.yaml and model.json. */
  planned: Model;
  /** Checkpoint verification of the written checkpoint (it passed, or nothing was written). */
  verification: Verification;
}

/** The three lines an export must pass, judged on the checkpoint bytes; `ok` false lists why. */
export function checkpointVerification(model: Model): Verification {
  return verifyCheckpoint(writeIzerCheckpoint(model));
}

/** Written last into every export folder: marks it as ours (so a later export may replace it whole). */
export const EXPORT_MANIFEST = 'export.json';

/** A seam for tests: called before each file is written into the staging folder; may throw. */
export interface ExportHooks {
  beforeFile?(name: string): void | Promise<void>;
}

/**
 * Writes `files` and the manifest as the new content of `dir`, swapped in whole
 * (platform/replace-folder.ts): a failure (or kill -9) at any point leaves the previous export
 * complete, never a mix of new and old files. A folder of other files is never replaced.
 */
async function replaceExportFolder(dir: string, files: [string, Uint8Array | string][], hooks: ExportHooks = {}): Promise<void> {
  if (existsSync(dir) && !(await isReplaceable(dir))) {
    throw new ApiError('io', `${dir}: holds files that are not a QAT Workbench export; choose an empty or new folder for the exports.`, 'outDir');
  }
  try {
    await replaceFolder(dir, async (staging) => {
      const manifest = { format: 'qatwb.export', version: 1, files: [] as { name: string; bytes: number }[] };
      for (const [name, data] of files) {
        await hooks.beforeFile?.(name);
        await writeSynced(join(staging, name), data);
        manifest.files.push({ name, bytes: typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength });
      }
      await writeSynced(join(staging, EXPORT_MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
    });
  } catch (error) {
    throw error instanceof ApiError ? error : new ApiError('io', `${dir}: cannot write the exports (${(error as Error).message}).`, 'outDir');
  }
}

/** Files an export holds (an export from before the manifest is recognised by these alone). */
const EXPORT_FILES = new Set(['checkpoint.pth.tar', 'network.yaml', 'sample.input.npy', 'sample.expected.npy', 'model.onnx',
  'quantization.json', 'model.json', 'test.windows.npy', 'test.labels.npy', EXPORT_MANIFEST,
  // A kept run's own files (training/run-store.ts): a run folder is also its export folder.
  'run.json', 'state.json', 'comparison.json', 'comparison.csv']);

/** An export folder we may replace: empty, holding our manifest, or only export files. */
async function isReplaceable(dir: string): Promise<boolean> {
  const names = await readdir(dir);
  return names.includes(EXPORT_MANIFEST) || names.every((n) => EXPORT_FILES.has(n) || /^\..+\.tmp$/.test(n));
}

/** The model with this training run's input scaling (a model.json trained on other data carries its own). */
function withScaling(model: Model, scaling: InputScaling | null): Model {
  const { scaling: _old, ...input } = model.input;
  return { ...model, input: scaling ? { ...input, scaling: { kind: scaling.kind, min: scaling.min, max: scaling.max } } : input };
}

export async function writeExports(dir: string, input: ExportInput, hooks?: ExportHooks): Promise<ExportResult> {
  const { model } = input;
  const plan = planModel(model);
  const errors = plan.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) {
    throw new ApiError('invalid-model', `The model does not fit ${model.device}: ${errors.map((d) => `${d.layerName ?? d.layer}: ${d.message}`).join('; ')}`);
  }
  const planned = plan.model;
  // Everything is built in memory first, so a failure here writes nothing.
  const shape = [model.input.channels, ...model.input.dims];
  const expected = simulate(planned, input.sample).output;
  const checkpoint = writeIzerCheckpoint(planned, { epoch: input.epoch });
  const verification = verifyCheckpoint(checkpoint);
  if (!verification.ok) {
    throw new ApiError('verification-failed', `The checkpoint fails its verification, so nothing was exported: ${verification.problems.join(' ')}`);
  }
  const { batchNormLeft, qatParameters, onGrid } = verification;
  const files: [string, Uint8Array | string][] = [
    ['checkpoint.pth.tar', checkpoint],
    ['network.yaml', writeNetworkYaml(planned)],
    ['sample.input.npy', writeNpy({ dtype: 'int64', shape, data: BigInt64Array.from(input.sample, (v) => BigInt(v)) })],
    ['sample.expected.npy', writeNpy({ dtype: 'int64', shape: [expected.length, 1, 1], data: BigInt64Array.from(expected, (v) => BigInt(v)) })],
    ['model.onnx', writeOnnx(model, exportFloatParams(model, input.floatParams))],
    ['quantization.json', JSON.stringify({ ...input.quantization, verification: { batchNormLeft, qatParameters, onGrid } }, null, 2) + '\n'],
    ['model.json', JSON.stringify(serializeModel(withScaling(planned, input.scaling ?? null)), null, 2) + '\n'],
  ];
  if (input.testWindows) {
    const { x, labels } = input.testWindows;
    files.push(
      ['test.windows.npy', writeNpy({ dtype: 'int8', shape: [labels.length, ...shape], data: x })],
      ['test.labels.npy', writeNpy({ dtype: 'int64', shape: [labels.length], data: BigInt64Array.from(Array.from(labels), (v) => BigInt(v)) })],
    );
  }
  files.push(...(input.runFiles ?? []));
  await replaceExportFolder(resolve(dir), files, hooks);
  return { dir, files: files.map(([n]) => n), expected, planned, verification };
}
