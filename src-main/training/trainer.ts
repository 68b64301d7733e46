// The training engine: float phase, then (from qatStartEpoch) BN folding and quantization-aware
// fine-tuning exactly as ai8x-training does it (max78002.md §1.4–§1.10), with a hand-written step
// (variableGrads + one-buffer Adam), every step in tf.tidy, cancel between batches, early stopping.
import type { Model, WeightBits } from '../ir/graph.ts';
import type { FloatLayerParams } from '../ir/float-params.ts';
import type { Dataset, Split } from '../data/dataset.ts';
import { foldBatchNorm } from '../quant/fold-batchnorm.ts';
import { outputShift } from '../quant/output-shift.ts';
import { initBackend, tf } from './backend.ts';
import { Adam } from './adam.ts';
import { seededRng, shuffleInPlace } from '../data/random.ts';
import { BN_EPS, BN_SETTLED, updateRunningStats, type BatchStats } from './layers/batch-norm.ts';
import {
  createVars, disposeVars, forward, gatherBatch, namedVars, planNetwork, toTorchLayout,
  trainableVars, varsFromParams, type LayerPlan, type NetworkVars, type QatSettings,
} from './network.ts';
import { activationStats, layerRangeStats, type ActivationSample } from './range-stats.ts';
import type { EpochRecord, TrainConfig, TrainProgress, TrainResult, TrainState } from './train-types.ts';
import { planStages, stageLearningRate } from './stages.ts';
import { bitsPolicyProblems } from '../ir/bits-policy.ts';

export type * from './train-types.ts';
export { defaultMilestones, planStages, stageLearningRate, type Stage } from './stages.ts';

export interface TrainHooks {
  signal?: AbortSignal;
  onProgress?(p: TrainProgress): void;
  onEpoch?(r: EpochRecord): void;
  /** After each finished epoch: the whole state, so a run can be written down and resumed after a crash. */
  onCheckpoint?(state: TrainState): void;
}

const PROGRESS_INTERVAL_MS = 100;
const STATS_SAMPLES = 64;

export async function train(
  model: Model,
  data: { dataset: Dataset; split: Split },
  config: TrainConfig,
  hooks: TrainHooks = {},
): Promise<TrainResult> {
  const backend = await initBackend();
  validateConfig(model, data, config);
  const { dataset, split } = data;
  const resume = config.resumeFrom;
  // BatchNorm per layer: the config's choice, else the IR's (an imported Conv+BN), else the config default.
  const bnWanted = (name: string) => config.layerBatchNorm?.[name] ?? (model.layers.find((l) => l.name === name)?.batchNorm || config.batchNorm) ?? false;
  let bnFolded = resume?.bnFolded ?? false;
  let plans = planNetwork(model, bnFolded ? () => false : bnWanted);
  const classes = plans[plans.length - 1]!.outShape.reduce((a, b) => a * b, 1);
  if (classes !== dataset.classNames.length) {
    throw new Error(`training: the model outputs ${classes} values but dataset '${dataset.name}' has ${dataset.classNames.length} classes`);
  }
  let vars = inTidy(() => (resume ? varsFromState(plans, resume.variables) : createVars(plans, seededRng(config.seed ?? 1))));
  let adam = new Adam(trainableVars(vars), 0.9, 0.999, 1e-8, resume?.optimizer);
  const history: EpochRecord[] = [...(resume?.history ?? [])];
  let floatModelParams = resume?.floatModelParams;
  // The saved QAT start holds once QAT began (it may have come early); before, this config's rules.
  let qatStart = resume?.bnFolded ? resume.qatStart ?? config.qatStartEpoch : config.qatStartEpoch;
  const stages = planStages(model, config, qatStart);
  const planKey = JSON.stringify(stages);
  const shuffleSeed = resume?.seed ?? (config.seed ?? 1) * 7919 + 17;
  const inShape = plans[0]!.inShape;
  let trainedSamples = 0;
  let trainSeconds = 0;
  let cancelled = false;
  let stoppedAt = { epoch: 0, batch: 0 };
  let epoch = resume?.epoch ?? 0;
  // Where the run stands: the saved stage if it fits this plan, else the stage holding `epoch`.
  let stage: number;
  let stageStart: number;
  const fits = resume?.stage !== undefined && resume.stageStart !== undefined && resume.planKey === planKey;
  if (fits) {
    stage = resume!.stage!;
    stageStart = resume!.stageStart!;
  } else {
    stage = 0;
    stageStart = 0;
    while (stage < stages.length && epoch >= stageStart + stages[stage]!.length) stageStart += stages[stage++]!.length;
  }
  let best = fits ? resume!.best : undefined;
  let lrScale = fits ? resume!.lrScale ?? 1 : 1;
  let plateauStale = fits ? resume!.plateauStale ?? 0 : 0;
  let stale = fits ? resume!.epochsWithoutImprovement : 0;
  const stopped = { float: false, qat: false, ...resume?.stopped };
  const bestEpochs: { float?: number; qat?: number } = { ...resume?.bestEpochs };
  const segments = [...(resume?.segments ?? [])];
  let bits = bitsFor(plans, stages[Math.min(stage, stages.length - 1)]?.layerBits ?? model.layers.map((l) => l.weightBits));

  const snapshot = () => namedVars(plans, vars).map(({ name, v }) => ({ name, shape: v.shape, data: v.dataSync().slice() as Float32Array }));
  const state = (): TrainState => ({
    epoch, bnFolded, variables: snapshot(), optimizer: adam.state(), history: [...history],
    bestValLoss: best?.value ?? Infinity, epochsWithoutImprovement: stale, seed: shuffleSeed,
    stage, stageStart, planKey, qatStart, lrScale, plateauStale, stopped: { ...stopped }, bestEpochs: { ...bestEpochs }, segments: [...segments],
    ...(best ? { best } : {}),
    ...(floatModelParams ? { floatModelParams } : {}),
  });
  /** Ends the current stage at `end` (its first epoch not trained): restore best, snapshot a QAT width. */
  const endStage = (end: number, early: boolean) => {
    const st = stages[stage]!;
    const restore = st.earlyStopping && (st.earlyStopping.restoreBest ?? true) && best?.variables;
    if (restore && best!.epoch !== end - 1) assignVars(plans, vars, best!.variables!);
    const kept = restore ? best!.epoch : end - 1;
    if (early) stopped[st.phase] = true;
    bestEpochs[st.phase] = kept;
    if (st.phase === 'qat') {
      segments.push({
        bits: st.bits, layerBits: [...st.layerBits], fromEpoch: stageStart, toEpoch: end - 1,
        bestEpoch: kept, stoppedEarly: early, params: exportParams(plans, vars),
      });
    }
    stage++;
    stageStart = end;
    best = undefined;
    stale = 0;
    lrScale = 1;
    plateauStale = 0;
  };

  try {
    for (;;) {
      while (stage < stages.length && epoch >= stageStart + stages[stage]!.length) endStage(epoch, false);
      if (stage >= stages.length) break;
      const st = stages[stage]!;
      const isQat = st.phase === 'qat';
      if (isQat && !bnFolded) {
        // ai8x at start_epoch: fuse BN, new optimizer, then initiate_qat.
        const folded = exportParams(plans, vars);
        floatModelParams = folded;
        const plainPlans = planNetwork(model, () => false);
        const next = inTidy(() => varsFromParams(plainPlans, folded));
        adam.dispose();
        disposeVars(vars);
        plans = plainPlans;
        vars = next;
        adam = new Adam(trainableVars(vars));
        bnFolded = true;
        qatStart = epoch;
      }
      bits = bitsFor(plans, st.layerBits);
      const lr = stageLearningRate(st, epoch - stageStart, lrScale);
      const batches = Math.ceil(split.train.length / st.batchSize);
      const order = shuffleInPlace(split.train.slice(), seededRng(shuffleSeed + epoch * 1013));
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      let lastReport = 0;
      const epochStart = performance.now();
      const remainingEpochs = stages.slice(stage).reduce((a, s) => a + s.length, 0) - (epoch - stageStart) - 1;
      for (let b = 0; b < batches; b++) {
        if (hooks.signal?.aborted) {
          cancelled = true;
          stoppedAt = { epoch, batch: b };
          break;
        }
        const idx = order.subarray(b * st.batchSize, Math.min((b + 1) * st.batchSize, order.length));
        const qat = isQat ? { shifts: currentShifts(vars, config.shiftQuantile ?? 1), bits } : undefined;
        const metrics = trainStep(plans, vars, adam, dataset, idx, inShape, classes, lr, qat, config, model.avgPoolRounding);
        lossSum += metrics.loss * idx.length;
        correct += metrics.correct;
        seen += idx.length;
        const now = performance.now();
        if (hooks.onProgress && (now - lastReport >= PROGRESS_INTERVAL_MS || b === batches - 1)) {
          lastReport = now;
          const elapsed = (now - epochStart) / 1000;
          const rate = seen / Math.max(elapsed, 1e-9);
          const remainingSamples = (batches - b - 1) * st.batchSize + remainingEpochs * split.train.length;
          hooks.onProgress({
            phase: st.phase, epoch, epochs: epoch + remainingEpochs + 1, batch: b + 1, batches,
            loss: lossSum / seen, accuracy: correct / seen, samplesPerSecond: rate, etaSeconds: remainingSamples / rate,
          });
        }
        // Let messages (cancel) in between batches.
        await new Promise((resolve) => setImmediate(resolve));
      }
      trainSeconds += (performance.now() - epochStart) / 1000;
      trainedSamples += seen;
      if (cancelled) break;
      const qat: QatSettings | undefined = isQat ? { shifts: currentShifts(vars, config.shiftQuantile ?? 1), bits } : undefined;
      const val = evaluate(plans, vars, dataset, split.validation, inShape, classes, config, qat, model.avgPoolRounding);
      const params = exportParams(plans, vars);
      const record: EpochRecord = {
        epoch, phase: st.phase, trainLoss: lossSum / Math.max(seen, 1), trainAccuracy: correct / Math.max(seen, 1),
        valLoss: val.loss, valAccuracy: val.accuracy, lr, bits: st.bits,
        ranges: plans.flatMap((p, i) => {
          const fp = params.find((x) => x.name === p.layer.name);
          return fp ? [layerRangeStats(p.layer, fp, bits[i]!, config.shiftQuantile ?? 1, val.activations[i])] : [];
        }),
      };
      history.push(record);
      hooks.onEpoch?.(record);
      epoch++;
      const es = st.earlyStopping;
      const plateau = st.lrSchedule.kind === 'plateau' ? st.lrSchedule : undefined;
      const monitor = es?.monitor ?? 'valLoss';
      const value = monitor === 'valLoss' ? val.loss : val.accuracy;
      let stopNow = false;
      if ((es || plateau) && Number.isFinite(value)) {
        if (!best || (monitor === 'valLoss' ? value < best.value : value > best.value)) {
          const keep = es && (es.restoreBest ?? true);
          best = { value, epoch: record.epoch, ...(keep ? { variables: snapshot() } : {}) };
          stale = 0;
          plateauStale = 0;
        } else {
          stale++;
          if (plateau && ++plateauStale >= (plateau.patience ?? 3)) {
            lrScale *= plateau.factor ?? 0.5;
            plateauStale = 0;
          }
          stopNow = !!es && stale >= es.patience;
        }
      }
      if (stopNow) endStage(epoch, true);
      hooks.onCheckpoint?.(state());
    }
    const finalParams = exportParams(plans, vars);
    return {
      floatParams: finalParams,
      outputShifts: finalParams.map((p) => outputShift(p.weight, p.bias, config.shiftQuantile ?? 1)),
      layerBits: bits,
      history, state: state(),
      ...(floatModelParams ? { floatModelParams } : {}),
      backend: backend.description,
      samplesPerSecond: trainedSamples / Math.max(trainSeconds, 1e-9),
      ...(cancelled ? { cancelled, stoppedAt } : {}),
      qatStart, stoppedEarly: { ...stopped }, bestEpoch: { ...bestEpochs }, segments: [...segments],
    };
  } finally {
    adam.dispose();
    disposeVars(vars);
  }
}

/** Builds variables inside tidy so the initial-value tensors are released (variables survive). */
function inTidy(make: () => NetworkVars): NetworkVars {
  return tf.tidy(() => make() as unknown as tf.TensorContainer) as unknown as NetworkVars;
}

/** One optimisation step on the batch `idx` (exported for bench/train.bench.ts). */
export function trainStep(
  plans: LayerPlan[], vars: NetworkVars, adam: Adam, dataset: Dataset, idx: Int32Array, inShape: [number, number, number],
  classes: number, lr: number, qat: QatSettings | undefined, config: TrainConfig, avgPoolRounding?: boolean,
): { loss: number; correct: number } {
  const bnStats: (BatchStats | null)[] = plans.map(() => null);
  const metrics = tf.tidy(() => {
    const x = tf.tensor4d(gatherBatch(dataset.x, idx, inShape), [idx.length, ...inShape]);
    const { target, labels } = targets(dataset, idx, classes, config.classWeights);
    let correct: tf.Tensor | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const logits = forward(plans, vars, x, { training: true, ...(qat ? { qat } : {}), avgPoolRounding, bnStats });
      correct = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32')));
      return crossEntropy(logits, target);
    }, trainableVars(vars));
    adam.apply(grads, lr);
    const out = tf.stack([value, correct!]);
    correct!.dispose();
    return out;
  });
  const [loss, correct] = metrics.dataSync();
  metrics.dispose();
  plans.forEach((_, i) => {
    const s = bnStats[i];
    if (s) updateRunningStats(vars.bn[i]!, s);
  });
  return { loss: loss!, correct: correct! };
}

/**
 * Weighted softmax cross-entropy: Σ w_y·(−log p_y) / Σ w_y (torch CrossEntropyLoss with weight), on
 * the float-mode output as is: train.py's division by 128 (and 256 more for wide layers) applies
 * only to the integer `-8` simulate mode, whose outputs are integers (max78002.md §1.11).
 */
function crossEntropy(logits: tf.Tensor2D, target: tf.Tensor2D): tf.Scalar {
  return tf.div(tf.neg(tf.sum(tf.mul(target, tf.logSoftmax(logits)))), tf.sum(target)) as tf.Scalar;
}

function targets(dataset: Dataset, idx: Int32Array, classes: number, classWeights?: number[]) {
  const t = new Float32Array(idx.length * classes);
  const labels = new Int32Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    const y = dataset.y[idx[i]!]!;
    labels[i] = y;
    t[i * classes + y] = classWeights?.[y] ?? 1;
  }
  return { target: tf.tensor2d(t, [idx.length, classes]), labels: tf.tensor1d(labels, 'int32') };
}

function evaluate(
  plans: LayerPlan[], vars: NetworkVars, dataset: Dataset, indices: Int32Array, inShape: [number, number, number],
  classes: number, config: TrainConfig, qat: QatSettings | undefined, avgPoolRounding?: boolean,
): { loss: number; accuracy: number; activations: (ActivationSample | undefined)[] } {
  const activations: (ActivationSample | undefined)[] = plans.map(() => undefined);
  if (indices.length === 0) return { loss: NaN, accuracy: NaN, activations };
  let lossSum = 0;
  let weightSum = 0;
  let correct = 0;
  const batch = Math.max(config.batchSize, 64);
  for (let start = 0; start < indices.length; start += batch) {
    const idx = indices.subarray(start, Math.min(start + batch, indices.length));
    const taps: tf.Tensor[] = [];
    const wantTaps = start === 0;
    const out = tf.tidy(() => {
      const x = tf.tensor4d(gatherBatch(dataset.x, idx, inShape), [idx.length, ...inShape]);
      const { target, labels } = targets(dataset, idx, classes, config.classWeights);
      const logits = forward(plans, vars, x, {
        training: false, ...(qat ? { qat } : {}), avgPoolRounding,
        ...(wantTaps ? { tap: (_: number, t: tf.Tensor) => taps.push(tf.keep(tf.slice(t, 0, Math.min(STATS_SAMPLES, idx.length)))) } : {}),
      });
      const lossTotal = tf.neg(tf.sum(tf.mul(target, tf.logSoftmax(logits))));
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32'));
      return tf.stack([lossTotal, tf.sum(target), hits]);
    });
    const [l, w, c] = out.dataSync();
    out.dispose();
    lossSum += l!;
    weightSum += w!;
    correct += c!;
    taps.forEach((t, i) => {
      activations[i] = activationStats(t.dataSync() as Float32Array, plans[i]!.isWide);
      t.dispose();
    });
  }
  return { loss: lossSum / weightSum, accuracy: correct / indices.length, activations };
}

/** Float parameters in PyTorch layout with BN folded (what the checkpoint and quantize.py read). */
export function exportParams(plans: LayerPlan[], vars: NetworkVars): FloatLayerParams[] {
  return plans.filter((p) => p.hasWeights).map((p) => {
    const i = p.index;
    const weight = toTorchLayout(p, vars.weights[i]!.dataSync() as Float32Array);
    const bias = vars.biases[i] ? (vars.biases[i]!.dataSync().slice() as Float32Array) : null;
    const bn = vars.bn[i];
    if (!bn) return { name: p.layer.name, weight, bias };
    const folded = foldBatchNorm(weight, bias, {
      gamma: bn.gamma.dataSync() as Float32Array, beta: bn.beta.dataSync() as Float32Array,
      runningMean: bn.runningMean.dataSync() as Float32Array, runningVar: bn.runningVar.dataSync() as Float32Array, eps: BN_EPS,
    });
    return { name: p.layer.name, weight: folded.weight, bias: folded.bias };
  });
}

/** Output shifts from the current float weights (ai8x recomputes them every forward pass). */
function currentShifts(vars: NetworkVars, shiftQuantile: number): number[] {
  return vars.weights.map((w, i) => (w ? outputShift(w.dataSync() as Float32Array, vars.biases[i]?.dataSync() as Float32Array | null ?? null, shiftQuantile) : 0));
}

/** Per-plan bits from a stage's per-layer bits (layer order; the IR decides them, ir/bits-policy.ts). */
function bitsFor(plans: LayerPlan[], layerBits: readonly WeightBits[]): WeightBits[] {
  return plans.map((p) => layerBits[p.index]!);
}

function assignVars(plans: LayerPlan[], vars: NetworkVars, saved: { name: string; data: Float32Array }[]): void {
  const byName = new Map(saved.map((v) => [v.name, v.data]));
  for (const { name, v } of namedVars(plans, vars)) {
    const data = byName.get(name);
    if (!data) throw new Error(`training: restore-best: no saved '${name}'`);
    tf.tidy(() => v.assign(tf.tensor(data, v.shape)));
  }
}

function varsFromState(plans: LayerPlan[], variables: TrainState['variables']): NetworkVars {
  const byName = new Map(variables.map((v) => [v.name, v]));
  const take = (name: string, shape: number[]) => {
    const v = byName.get(name);
    const size = shape.reduce((a, b) => a * b, 1);
    if (!v || v.data.length !== size) {
      throw new Error(`training: resumeFrom.variables: '${name}' missing or not ${shape.join('x')} (${size} values)`);
    }
    return tf.variable(tf.tensor(v.data, shape));
  };
  return {
    weights: plans.map((p) => (p.hasWeights ? take(`${p.layer.name}.weight`, p.weightShape) : null)),
    biases: plans.map((p) => (p.hasWeights && p.layer.hasBias ? take(`${p.layer.name}.bias`, [p.layer.outChannels]) : null)),
    bn: plans.map((p) => {
      if (!p.hasBatchNorm) return null;
      const c = [p.layer.outChannels];
      const n = p.layer.name;
      const bn = {
        gamma: take(`${n}.bn.weight`, c), beta: take(`${n}.bn.bias`, c),
        runningMean: take(`${n}.bn.running_mean`, c), runningVar: take(`${n}.bn.running_var`, c),
        // States from before the count was kept had trained long enough to be settled.
        tracked: byName.has(`${n}.bn.num_batches_tracked`) ? take(`${n}.bn.num_batches_tracked`, [1]) : tf.variable(tf.tensor1d([BN_SETTLED])),
      };
      bn.tracked.trainable = false;
      bn.runningMean.trainable = false;
      bn.runningVar.trainable = false;
      return bn;
    }),
  };
}

function validateConfig(model: Model, data: { dataset: Dataset; split: Split }, c: TrainConfig): void {
  const bad = (field: string, expected: string, got: unknown) => {
    throw new Error(`training config: ${field} must be ${expected} (got ${JSON.stringify(got)})`);
  };
  if (!Number.isInteger(c.epochs) || c.epochs < 1) bad('epochs', 'an integer ≥ 1', c.epochs);
  if (!Number.isInteger(c.qatStartEpoch) || c.qatStartEpoch < 0) bad('qatStartEpoch', 'an integer ≥ 0', c.qatStartEpoch);
  if (!Number.isInteger(c.batchSize) || c.batchSize < 1) bad('batchSize', 'an integer ≥ 1', c.batchSize);
  if (!(c.learningRate > 0)) bad('learningRate', '> 0', c.learningRate);
  const policy = bitsPolicyProblems(model);
  if (policy.length) throw new Error(`training: model.${policy[0]!.field}: ${policy[0]!.message}`);
  if (c.qat?.learningRate !== undefined && !(c.qat.learningRate > 0)) bad('qat.learningRate', '> 0', c.qat.learningRate);
  if (c.qat?.batchSize !== undefined && !(Number.isInteger(c.qat.batchSize) && c.qat.batchSize >= 1)) bad('qat.batchSize', 'an integer ≥ 1', c.qat.batchSize);
  for (const [field, es] of [['earlyStopping', c.earlyStopping], ['qat.earlyStopping', c.qat?.earlyStopping]] as const) {
    if (es && !(Number.isInteger(es.patience) && es.patience >= 1)) bad(`${field}.patience`, 'an integer ≥ 1', es.patience);
  }
  if (c.shiftQuantile !== undefined && !(c.shiftQuantile > 0 && c.shiftQuantile <= 1)) bad('shiftQuantile', 'in (0, 1]', c.shiftQuantile);
  const classes = data.dataset.classNames.length;
  if (c.classWeights && (c.classWeights.length !== classes || c.classWeights.some((w) => !(w >= 0)))) {
    bad('classWeights', `${classes} non-negative numbers`, c.classWeights);
  }
  const { dataset } = data;
  if (dataset.channels !== model.input.channels || dataset.dims.join('x') !== model.input.dims.join('x')) {
    throw new Error(`training: dataset '${dataset.name}' samples are ${dataset.channels}x${dataset.dims.join('x')}, the model expects ${model.input.channels}x${model.input.dims.join('x')}`);
  }
  if (data.split.train.length === 0) throw new Error(`training: split.train of dataset '${dataset.name}' is empty`);
}
export { predictFloat } from './predict-float.ts';
export { runTrainingInWorker } from './train-in-worker.ts';
