// A trainable network built from the IR: per-layer plan (shapes from ir/shapes.ts in NHWC terms,
// the op's training entry from layers/ops.ts), tfjs variables in NHWC/[kh,kw,in,out] layout, and
// the ai8x forward pass (max78002.md §1.3) in float or QAT mode. Conversions to and from
// FloatLayerParams (PyTorch layout) live here too.
import * as tf from '@tensorflow/tfjs';
import type { DataShape, Layer, Model } from '../ir/graph.ts';
import type { FloatLayerParams } from '../ir/float-params.ts';
import { inferLayerShapes } from '../ir/shapes.ts';
import { TRAINING_OPS, type TrainingOp } from './layers/ops.ts';
import { pool, type PoolSpec } from './layers/pooling.ts';
import { batchNorm, BN_EPS, BN_SETTLED, type BatchNormVars, type BatchStats } from './layers/batch-norm.ts';
import { foldBatchNorm } from '../quant/fold-batchnorm.ts';
import { activate, fakeQuantParam, quantizeAvgPool } from './fake-quant.ts';
import { ACTIVATION, avgPoolRounds } from '../quant/fixed-point.ts';

export interface LayerPlan {
  layer: Layer;
  index: number;
  /** The op's training entry (layers/ops.ts). */
  op: TrainingOp;
  /** Input [H, W, C] (NHWC without N; 1-D data: [1, L, C]). */
  inShape: [number, number, number];
  /** Shape after the optional pooling. */
  pooledShape: [number, number, number];
  outShape: [number, number, number];
  pool?: PoolSpec;
  /** Variable shape of the weight: conv [kh,kw,in,out] (conv1d [1,k,in,out]), linear [in, out]; [] for a pooling-only layer. */
  weightShape: number[];
  /** False for a pooling-only (passthrough) layer. */
  hasWeights: boolean;
  isWide: boolean;
  hasBatchNorm: boolean;
}

export interface NetworkVars {
  /** null for a pooling-only layer. */
  weights: (tf.Variable | null)[];
  biases: (tf.Variable | null)[];
  bn: (BatchNormVars | null)[];
}

export interface QatSettings {
  /** Output shift per layer. */
  shifts: number[];
  /** Weight bits per layer. */
  bits: number[];
}

/** Check the model is trainable here and derive each layer's shapes (ir/shapes.ts) and weight shape. */
export function planNetwork(model: Model, batchNormLayers: (name: string) => boolean): LayerPlan[] {
  const oneD = model.input.dims.length === 1;
  const hwc = (s: DataShape): [number, number, number] =>
    s.dims.length === 1 ? [1, s.dims[0]!, s.channels] : [s.dims[0]!, s.dims[1]!, s.channels];
  const shapes = inferLayerShapes(model);
  return model.layers.map((layer, index) => {
    const where = `model.layers[${index}] (${layer.name})`;
    const op = TRAINING_OPS[layer.op];
    if (!op) throw new Error(`training: ${where}: unknown op '${layer.op}'`);
    const shape = shapes[index]!;
    let weightShape: number[];
    try {
      weightShape = op.weightShape(layer, hwc(shape.pooled));
    } catch (e) {
      throw new Error(`training: ${where}: ${(e as Error).message}`, { cause: e });
    }
    if (layer.inputs && !(layer.inputs.length === 1 && layer.inputs[0] === index - 1)) {
      throw new Error(`training: ${where}: inputs ${JSON.stringify(layer.inputs)}: only sequential models are trainable`);
    }
    if (layer.eltwise) throw new Error(`training: ${where}: not trainable yet: the fused element-wise '${layer.eltwise}', because the engine trains sequential networks only`);
    if (layer.inDim) throw new Error(`training: ${where}: not trainable yet: in_dim, because the engine does not reshape between layers`);
    if (layer.stride !== 1 || (layer.dilation ?? 1) !== 1) {
      throw new Error(`training: ${where}: stride ${layer.stride}/dilation ${layer.dilation}: only 1 is trainable`);
    }
    if (!shape.output) throw new Error(`training: ${where}: ${shape.problem}`);
    const pool: PoolSpec | undefined = layer.pool && {
      kind: layer.pool.kind,
      size: oneD ? [1, layer.pool.size[0]] : [layer.pool.size[0], layer.pool.size[1]],
      stride: oneD ? [1, layer.pool.stride[0]] : [layer.pool.stride[0], layer.pool.stride[1]],
    };
    const hasWeights = weightShape.length > 0;
    const hasBatchNorm = hasWeights && layer.op !== 'linear' && batchNormLayers(layer.name);
    if (hasBatchNorm && !layer.hasBias) {
      // ai8x asserts bias=True for BN layers; the folded bias needs a home.
      throw new Error(`training: ${where}: batchNorm needs hasBias: true (ai8x asserts bias with BatchNorm)`);
    }
    return {
      layer, index, op, inShape: hwc(shape.input), pooledShape: hwc(shape.pooled), outShape: hwc(shape.output),
      ...(pool ? { pool } : {}), weightShape, hasWeights, isWide: hasWeights && layer.outputWidth === 32, hasBatchNorm,
    };
  });
}

// Variables get engine-generated names (tfjs names are process-global); state files use these keys.
export function namedVars(plans: LayerPlan[], vars: NetworkVars): { name: string; v: tf.Variable }[] {
  const out: { name: string; v: tf.Variable }[] = [];
  plans.forEach((p, i) => {
    const n = p.layer.name;
    if (!vars.weights[i]) return;
    out.push({ name: `${n}.weight`, v: vars.weights[i]! });
    const b = vars.biases[i];
    if (b) out.push({ name: `${n}.bias`, v: b });
    const bn = vars.bn[i];
    if (bn) {
      out.push({ name: `${n}.bn.weight`, v: bn.gamma }, { name: `${n}.bn.bias`, v: bn.beta });
      out.push({ name: `${n}.bn.running_mean`, v: bn.runningMean }, { name: `${n}.bn.running_var`, v: bn.runningVar });
      out.push({ name: `${n}.bn.num_batches_tracked`, v: bn.tracked });
    }
  });
  return out;
}

/**
 * The layer's starting weights: its imported float init (Layer.init, PyTorch layout) when present,
 * else PyTorch's default U(−1/√fan_in, 1/√fan_in) for weights and biases. An init that carries
 * BatchNorm for a layer that trains without it is folded first, so the function stays the same.
 */
export function createVars(plans: LayerPlan[], rng: () => number): NetworkVars {
  const weights: (tf.Variable | null)[] = [];
  const biases: (tf.Variable | null)[] = [];
  const bn: (BatchNormVars | null)[] = [];
  for (const p of plans) {
    if (!p.hasWeights) {
      weights.push(null), biases.push(null), bn.push(null);
      continue;
    }
    const c = p.layer.outChannels;
    let init = p.layer.init;
    if (init) {
      if (init.bn && !p.hasBatchNorm) {
        const folded = foldBatchNorm(init.weight, init.bias, { ...init.bn, eps: BN_EPS });
        init = { weight: folded.weight, bias: folded.bias };
      }
      if (init.bias && init.bias.length !== c) throw new Error(`training: ${p.layer.name}.init.bias has ${init.bias.length} values for ${c} output channels`);
      weights.push(tf.variable(tf.tensor(fromTorchLayout(p, init.weight), p.weightShape), true));
      biases.push(p.layer.hasBias ? tf.variable(tf.tensor1d(init.bias ?? new Float32Array(c)), true) : null);
    } else {
      const fanIn = p.layer.op === 'linear' ? p.weightShape[0]! : p.weightShape[0]! * p.weightShape[1]! * p.weightShape[2]!;
      const bound = 1 / Math.sqrt(fanIn);
      const size = p.weightShape.reduce((a, b) => a * b, 1);
      const w = new Float32Array(size).map(() => (rng() * 2 - 1) * bound);
      weights.push(tf.variable(tf.tensor(w, p.weightShape), true));
      biases.push(p.layer.hasBias ? tf.variable(tf.tensor1d(new Float32Array(c).map(() => (rng() * 2 - 1) * bound)), true) : null);
    }
    const stats = p.hasBatchNorm ? init?.bn : undefined;
    bn.push(p.hasBatchNorm ? {
      gamma: tf.variable(stats ? tf.tensor1d(stats.gamma) : tf.ones([c]), true),
      beta: tf.variable(stats ? tf.tensor1d(stats.beta) : tf.zeros([c]), true),
      runningMean: tf.variable(stats ? tf.tensor1d(stats.runningMean) : tf.zeros([c]), false),
      runningVar: tf.variable(stats ? tf.tensor1d(stats.runningVar) : tf.ones([c]), false),
      // Imported statistics count as settled: the running average continues at the ai8x momentum.
      tracked: tf.variable(tf.tensor1d([stats ? BN_SETTLED : 0]), false),
    } : null);
  }
  return { weights, biases, bn };
}

export function trainableVars(vars: NetworkVars): tf.Variable[] {
  const list: tf.Variable[] = [];
  vars.weights.forEach((w, i) => {
    if (!w) return;
    list.push(w);
    const b = vars.biases[i];
    if (b) list.push(b);
    const bn = vars.bn[i];
    if (bn) list.push(bn.gamma, bn.beta);
  });
  return list;
}

export function disposeVars(vars: NetworkVars): void {
  for (const v of [...vars.weights, ...vars.biases, ...vars.bn.flatMap((b) => (b ? [b.gamma, b.beta, b.runningMean, b.runningVar, b.tracked] : []))]) v?.dispose();
}

export interface ForwardOptions {
  training: boolean;
  qat?: QatSettings;
  avgPoolRounding?: boolean;
  /** Collect the BN batch statistics (training only). */
  bnStats?: (BatchStats | null)[];
  /** Receives each layer's pre-clamp activation (after the output scale), for range statistics. */
  tap?: (layer: number, preClamp: tf.Tensor) => void;
}

/** Runs the network on NHWC input [N, H, W, C]; returns the flattened output [N, features]. */
export function forward(plans: LayerPlan[], vars: NetworkVars, x: tf.Tensor4D, opts: ForwardOptions): tf.Tensor2D {
  let h: tf.Tensor = x;
  for (const p of plans) {
    const i = p.index;
    const isFirst = i === 0;
    const qat = opts.qat;
    if (p.pool) {
      // QAT activations of an 8-bit layer lie on the 1/128 grid: ties in a max pool go to the first.
      const onGrid = qat && i > 0 && !plans[i - 1]!.isWide;
      h = pool(h as tf.Tensor4D, p.pool, onGrid ? { grid: ACTIVATION.step } : {});
      if (p.pool.kind === 'avg') h = qat ? quantizeAvgPool(h, avgPoolRounds(opts.avgPoolRounding, p.layer.op)) : tf.clipByValue(h, ACTIVATION.lo, ACTIVATION.hi);
    }
    if (!p.hasWeights) {
      h = p.op.apply(h as tf.Tensor4D, null, null, p.layer, isFirst);
      opts.tap?.(i, h);
      continue;
    }
    const layer = p.layer;
    const bn = vars.bn[i];
    if (p.op.block && !opts.tap && !(bn && !qat)) {
      // The fused block; BatchNorm in the float phase and range taps need the steps apart.
      const q = qat ? { qat: { bits: qat.bits[i]!, shift: qat.shifts[i]! } } : {};
      h = p.op.block(h as tf.Tensor4D, vars.weights[i]!, vars.biases[i] ?? null, layer, { isFirst, activation: layer.activation, wide: p.isWide, ...q });
      continue;
    }
    let w: tf.Tensor = vars.weights[i]!;
    let b: tf.Tensor | null = vars.biases[i] ?? null;
    if (qat) {
      w = fakeQuantParam(w, qat.bits[i]!, qat.shifts[i]!);
      if (b) b = fakeQuantParam(b, qat.bits[i]!, qat.shifts[i]!);
    }
    let y = p.op.apply(h as tf.Tensor4D, w, b, layer, isFirst);
    if (bn && !qat) {
      const r = batchNorm(y as tf.Tensor4D, bn, opts.training);
      y = r.out;
      if (opts.bnStats) opts.bnStats[i] = r.stats ?? null;
    }
    const outScale = qat && !p.isWide ? 2 ** qat.shifts[i]! : 1;
    if (opts.tap) {
      const scaled = outScale === 1 ? y : tf.mul(y, outScale);
      opts.tap(i, layer.activation === 'relu' ? tf.relu(scaled) : layer.activation === 'abs' ? tf.abs(scaled) : scaled);
    }
    h = activate(y, { activation: layer.activation, wide: p.isWide, quantize: !!qat, outScale });
  }
  return tf.reshape(h, [h.shape[0]!, -1]) as tf.Tensor2D;
}

// ---- PyTorch layout ↔ variable layout ----

/**
 * For each element of a layer's weight variable (NHWC / [kh][kw][in][out], linear [h·w·c][out]),
 * its index in PyTorch layout (conv [out][in][kh][kw], conv1d [out][in][k], linear [out][in]
 * channel-major). One permutation serves both directions, so they cannot drift apart.
 */
function torchIndexOf(p: LayerPlan): Int32Array {
  return p.op.torchIndex(p.layer, p.weightShape, p.pooledShape);
}

/** Variable data → PyTorch layout (conv [out][in][kh][kw], conv1d [out][in][k], linear [out][in] channel-major). */
export function toTorchLayout(p: LayerPlan, data: Float32Array): Float32Array {
  const perm = torchIndexOf(p);
  const out = new Float32Array(data.length);
  for (let i = 0; i < perm.length; i++) out[perm[i]!] = data[i]!;
  return out;
}

/** PyTorch layout → variable layout (inverse of toTorchLayout). */
export function fromTorchLayout(p: LayerPlan, torch: Float32Array): Float32Array {
  const perm = torchIndexOf(p);
  if (torch.length !== perm.length) {
    throw new Error(`training: params for ${p.layer.name}: weight has ${torch.length} values, expected ${perm.length} (${p.weightShape.join('x')})`);
  }
  const out = new Float32Array(perm.length);
  for (let i = 0; i < perm.length; i++) out[i] = torch[perm[i]!]!;
  return out;
}

/** Load FloatLayerParams (PyTorch layout, BN folded) into fresh variables without BN. */
export function varsFromParams(plans: LayerPlan[], params: FloatLayerParams[]): NetworkVars {
  const byName = new Map(params.map((p) => [p.name, p]));
  const weights: (tf.Variable | null)[] = [];
  const biases: (tf.Variable | null)[] = [];
  for (const p of plans) {
    if (!p.hasWeights) {
      weights.push(null), biases.push(null);
      continue;
    }
    const fp = byName.get(p.layer.name);
    if (!fp) throw new Error(`training: params: no entry for layer '${p.layer.name}'`);
    weights.push(tf.variable(tf.tensor(fromTorchLayout(p, fp.weight), p.weightShape)));
    if (p.layer.hasBias) {
      if (!fp.bias || fp.bias.length !== p.layer.outChannels) {
        throw new Error(`training: params for ${p.layer.name}: bias must have ${p.layer.outChannels} values`);
      }
      biases.push(tf.variable(tf.tensor1d(fp.bias)));
    } else {
      biases.push(null);
    }
  }
  return { weights, biases, bn: plans.map(() => null) };
}

/** NHWC batch from channel-first samples (C, H, W) / (C, L) at the given indices. */
export function gatherBatch(x: Float32Array, indices: ArrayLike<number>, shape: [number, number, number]): Float32Array {
  const [h, w, c] = shape;
  const per = h * w * c;
  const hw = h * w;
  const out = new Float32Array(indices.length * per);
  for (let n = 0; n < indices.length; n++) {
    const src = indices[n]! * per;
    const dst = n * per;
    if (c === 1) {
      out.set(x.subarray(src, src + per), dst);
      continue;
    }
    for (let ci = 0; ci < c; ci++) {
      for (let s = 0; s < hw; s++) out[dst + s * c + ci] = x[src + ci * hw + s]!;
    }
  }
  return out;
}
