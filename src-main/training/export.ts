// Writes a trained run into a folder, each file atomically (temp file + rename, so a crash never
// leaves a half-written file): the izer-ready checkpoint, the planned network YAML, the sample
// input and its expected simulator output, the float ONNX model, quantization.json and model.json.
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Model } from '../ir/graph.ts';
import type { FloatLayerParams } from '../ir/float-params.ts';
import { writeNpy } from '../formats/npy.ts';
import { writeNetworkYaml } from '../formats/network-yaml.ts';
import { writeOnnx } from '../formats/onnx.ts';
import { writeIzerCheckpoint } from '../formats/izer-checkpoint.ts';
import { serializeModel } from '../ir/schema.ts';
import { planModel } from '../planner/plan.ts';
import { simulate } from '../sim/simulate.ts';
import { ApiError } from '../api/contract.ts';

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
  policy: { epochs: number; qatStart: number; bits: number; layerBits?: Record<string, number>; shiftQuantile?: number };
  /** Accuracy rows (float / PTQ / QAT) on the same test samples. */
  accuracy: { float: number; ptq: number | null; qat: number | null; table: unknown[]; testSamples: number };
  /** Per-layer quantization of the QAT model and of PTQ. */
  layers: { name: string; bits: number; outputShift: number; clippedShare: number }[];
  ptqLayers?: { name: string; outputShift: number; clippedShare: number }[];
  /** Per-epoch history of the engine; each entry's `layers` holds that epoch's per-layer statistics. */
  history: readonly { epoch: number; phase: string; layers?: readonly unknown[]; [figure: string]: unknown }[];
  sample: { index: number; label: number; className: string };
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
   * The test split as planar int8 device input, back to back, with its labels: written as
   * test.windows.npy / test.labels.npy, the project's own windows for the virtual device's sensor
   * and the live check.
   */
  testWindows?: { x: Int8Array; labels: ArrayLike<number> };
}

export interface ExportResult {
  dir: string;
  files: string[];
  /** Simulator output for the sample (what sample.expected.npy holds). */
  expected: Int32Array;
  /** The model with the planner's placement, as written to network.yaml and model.json. */
  planned: Model;
}

async function writeAtomic(dir: string, name: string, data: Uint8Array | string): Promise<void> {
  const tmp = join(dir, `.${name}.${process.pid}.${Date.now()}.tmp`);
  try {
    await writeFile(tmp, data);
    await rename(tmp, join(dir, name));
  } catch (error) {
    await rm(tmp, { force: true });
    throw new ApiError('io', `${join(dir, name)}: cannot write (${(error as Error).message}).`, name);
  }
}

export async function writeExports(dir: string, input: ExportInput): Promise<ExportResult> {
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
  const files: [string, Uint8Array | string][] = [
    ['checkpoint.pth.tar', writeIzerCheckpoint(planned, { epoch: input.epoch })],
    ['network.yaml', writeNetworkYaml(planned)],
    ['sample.input.npy', writeNpy({ dtype: 'int64', shape, data: BigInt64Array.from(input.sample, (v) => BigInt(v)) })],
    ['sample.expected.npy', writeNpy({ dtype: 'int64', shape: [expected.length, 1, 1], data: BigInt64Array.from(expected, (v) => BigInt(v)) })],
    ['model.onnx', writeOnnx(model, exportFloatParams(model, input.floatParams))],
    ['quantization.json', JSON.stringify(input.quantization, null, 2) + '\n'],
    ['model.json', JSON.stringify(serializeModel(planned), null, 2) + '\n'],
  ];
  if (input.testWindows) {
    const { x, labels } = input.testWindows;
    files.push(
      ['test.windows.npy', writeNpy({ dtype: 'int8', shape: [labels.length, ...shape], data: x })],
      ['test.labels.npy', writeNpy({ dtype: 'int64', shape: [labels.length], data: BigInt64Array.from(Array.from(labels), (v) => BigInt(v)) })],
    );
  }
  await mkdir(dir, { recursive: true });
  for (const [name, data] of files) await writeAtomic(dir, name, data);
  return { dir, files: files.map(([n]) => n), expected, planned };
}
