// Exports a network with the project's own exporter and runs the real ai8x-synthesis on it, so a
// test can hold the izer's verdict, its known answer and its resource report against ours.
// Weights are seeded random floats quantized by the project's quantizer (what QAT ends with).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Model, WeightBits } from '../../src-main/ir/graph.ts';
import type { FloatLayerParams } from '../../src-main/ir/float-params.ts';
import { inferLayerShapes } from '../../src-main/ir/validate.ts';
import { opSpec } from '../../src-main/ir/ops/registry.ts';
import { seededRng } from '../../src-main/data/random.ts';
import { foldBatchNorm } from '../../src-main/quant/fold-batchnorm.ts';
import { quantizeModel } from '../../src-main/quant/quantize.ts';
import { planModel, type Plan } from '../../src-main/planner/plan.ts';
import { simulate } from '../../src-main/sim/simulate.ts';
import { writeExports } from '../../src-main/training/export.ts';
import { writeIzerCheckpoint } from '../../src-main/formats/izer-checkpoint.ts';
import { writeNetworkYaml } from '../../src-main/formats/network-yaml.ts';
import { readNpy, toNumbers, writeNpy } from '../../src-main/formats/npy.ts';
import { runSynthesize, type SynthesizeStepResult } from '../../src-main/toolchain/steps/synthesize.ts';
import { izerDir, PYTHON } from '../support/fixtures.ts';
import { withBitsEdits } from '../../src-main/ir/bits-policy.ts';

export interface ExportOptions {
  seed?: number;
  /** Weight bits per layer name, or one width for all. */
  bits?: WeightBits | Record<string, WeightBits>;
  /** Fold a random BatchNorm into every conv layer first (as QAT start does). */
  batchNorm?: boolean;
  /** Write the artifacts even when the planner finds errors (to see whether the izer refuses too). */
  despitePlanErrors?: boolean;
}

export interface Exported {
  dir: string;
  artifacts: { checkpoint: string; yaml: string; sampleInput: string; sampleExpected: string };
  plan: Plan;
  sample: Int8Array;
  /** Our simulator's output for the sample (what sample.expected.npy holds). */
  expected: Int32Array;
  /** True when the full exporter (with ONNX) wrote the folder; false for ops the float export lacks. */
  fullExport: boolean;
}

/** Seeded float parameters for every layer with weights, roughly He-scaled so activations move. */
export function randomFloatParams(model: Model, seed: number, batchNorm = false): FloatLayerParams[] {
  const rng = seededRng(seed);
  const shapes = inferLayerShapes(model);
  const out: FloatLayerParams[] = [];
  model.layers.forEach((layer, i) => {
    const spec = opSpec(layer.op);
    if (!spec.hasWeights) return;
    const n = spec.weightCount(layer, shapes[i]!.pooled);
    const bound = 2 / Math.sqrt(n / layer.outChannels);
    let weight: Float32Array = Float32Array.from({ length: n }, () => (rng() * 2 - 1) * bound);
    let bias: Float32Array | null = layer.hasBias ? Float32Array.from({ length: layer.outChannels }, () => (rng() * 2 - 1) * 0.2) : null;
    if (batchNorm && layer.op !== 'linear' && layer.op !== 'convtranspose2d') {
      const c = layer.outChannels;
      const f = (lo: number, hi: number) => Float32Array.from({ length: c }, () => lo + rng() * (hi - lo));
      const folded = foldBatchNorm(weight, bias, { gamma: f(0.5, 2), beta: f(-0.3, 0.3), runningMean: f(-0.2, 0.2), runningVar: f(0.05, 0.5), eps: 1e-5 });
      weight = folded.weight;
      bias = layer.hasBias ? folded.bias : null;
    }
    out.push({ name: layer.name, weight, bias });
  });
  return out;
}

/** Quantizes seeded weights and writes the izer-ready artifacts into a fresh temp folder. */
export async function exportNetwork(model0: Model, opts: ExportOptions = {}): Promise<Exported> {
  const seed = opts.seed ?? 1;
  const floatParams = randomFloatParams(model0, seed, opts.batchNorm);
  const bits = opts.bits === undefined ? model0 : withBitsEdits(model0, typeof opts.bits === 'number' ? { bits: opts.bits } : { layerBits: opts.bits });
  const { model } = quantizeModel(bits, floatParams);
  const rng = seededRng(seed + 1000);
  const size = model.input.channels * model.input.dims.reduce((a, b) => a * b, 1);
  const sample = Int8Array.from({ length: size }, () => Math.floor(rng() * 256) - 128);
  const dir = mkdtempSync(join(tmpdir(), `qatwb-izer-${model.arch}-`));
  const exportDir = join(dir, 'export');
  const plan = planModel(model);
  const unsupportedByOnnx = model.layers.some((l) => l.op === 'convtranspose2d' || l.eltwise || ['add', 'sub', 'or', 'xor'].includes(l.op) || (l.inputs && l.inputs.length > 0));
  let expected: Int32Array;
  if (!unsupportedByOnnx && !opts.despitePlanErrors) {
    const r = await writeExports(exportDir, { model, floatParams, sample, epoch: 1, quantization: {} });
    expected = r.expected;
  } else {
    // The float (ONNX) export has no element-wise or transposed ops; the izer artifacts are
    // written by the same writers writeExports uses.
    await mkdir(exportDir, { recursive: true });
    const planned = plan.model;
    expected = simulate(planned, sample).output;
    const shape = [model.input.channels, ...model.input.dims];
    writeFileSync(join(exportDir, 'checkpoint.pth.tar'), writeIzerCheckpoint(planned, { epoch: 1 }));
    writeFileSync(join(exportDir, 'network.yaml'), writeNetworkYaml(planned));
    writeFileSync(join(exportDir, 'sample.input.npy'), writeNpy({ dtype: 'int64', shape, data: BigInt64Array.from(sample, (v) => BigInt(v)) }));
    writeFileSync(join(exportDir, 'sample.expected.npy'), writeNpy({ dtype: 'int64', shape: [expected.length, 1, 1], data: BigInt64Array.from(expected, (v) => BigInt(v)) }));
  }
  return {
    dir,
    artifacts: {
      checkpoint: join(exportDir, 'checkpoint.pth.tar'),
      yaml: join(exportDir, 'network.yaml'),
      sampleInput: join(exportDir, 'sample.input.npy'),
      sampleExpected: join(exportDir, 'sample.expected.npy'),
    },
    plan,
    sample,
    expected,
    fullExport: !unsupportedByOnnx,
  };
}

/** What the izer run needs of an export: its folder and files, the target, and the model's avg-pool rounding. */
export type IzerInput = Pick<Exported, 'dir' | 'artifacts'> & { plan: Pick<Plan, 'device'> & { model?: Pick<Plan['model'], 'avgPoolRounding'> } };

/** Runs the real ai8xize.py on an export (project in `<dir>/izer/<prefix>`), with the model's avg-pool rounding. */
export async function runRealIzer(e: IzerInput, prefix = 'net'): Promise<SynthesizeStepResult & { izerOutput: number[] }> {
  const r = await runSynthesize({ python: PYTHON, izerDir: izerDir(), artifacts: e.artifacts, testDir: join(e.dir, 'izer'), prefix, device: e.plan.device, timeoutMs: 120_000,
    extraArgs: e.plan.model?.avgPoolRounding ? ['--avg-pool-rounding'] : [] });
  const npy = readNpy(readFileSync(r.izerExpectedNpy), r.izerExpectedNpy);
  return { ...r, izerOutput: Array.from(toNumbers(npy, r.izerExpectedNpy) as ArrayLike<number>, Number) };
}
