// The stage plan of a training run (pure, no tfjs): the float phase, then the QAT phase split into
// one stage per width of the network's bit policy (ir/bits-policy.ts: Model.bitsSchedule and each
// Layer's), and each stage's learning rate by epoch. Both engines follow it: the embedded trainer
// directly, the PyTorch engine from the plan the app hands it (its per-layer bits included).
import type { Model, WeightBits } from '../ir/graph.ts';
import { bitsAt, modelBitsAt, modelStepAt, widthBoundaries } from '../ir/bits-policy.ts';
import type { EarlyStopping, LrSchedule, TrainConfig } from './train-types.ts';

/**
 * One stretch of training with its own settings: the float phase, then the QAT phase, which a
 * bit schedule splits into one stage per width. An early stop ends the stage and moves the
 * later ones earlier, keeping their lengths.
 */
export interface Stage {
  phase: 'float' | 'qat';
  /** Planned epochs. */
  length: number;
  /** The width that names the stage ("QAT 4-bit"): the model schedule's, else the most common layer width. */
  bits: WeightBits;
  /** Every layer's weight bits in this stage, in layer order (the float stage: the final widths). */
  layerBits: WeightBits[];
  learningRate: number;
  lrSchedule: LrSchedule;
  batchSize: number;
  earlyStopping?: EarlyStopping;
}

/** The stages of training `model` with `config`; `qatStart` (the actual one) sets the float phase's length. */
export function planStages(model: Model, config: TrainConfig, qatStart = config.qatStartEpoch): Stage[] {
  const none: LrSchedule = { kind: 'none' };
  const legacy: EarlyStopping | undefined = config.earlyStopPatience !== undefined
    ? { patience: config.earlyStopPatience, monitor: 'valLoss', restoreBest: false }
    : undefined;
  const finalBits = model.layers.map((l) => l.weightBits);
  const float: Stage = {
    phase: 'float', length: Math.min(qatStart, config.epochs), bits: modelBitsAt(model, Infinity), layerBits: finalBits, learningRate: config.learningRate,
    lrSchedule: config.lrSchedule ?? none, batchSize: config.batchSize, ...((config.earlyStopping ?? legacy) ? { earlyStopping: config.earlyStopping ?? legacy } : {}),
  };
  const q = config.qat ?? {};
  const qatLength = Math.max(0, config.epochs - config.qatStartEpoch);
  const qatEs = q.earlyStopping ?? legacy;
  const starts = widthBoundaries(model, qatLength);
  const qat: Stage[] = starts.map((from, i) => ({
    phase: 'qat', length: (starts[i + 1] ?? qatLength) - from, bits: modelBitsAt(model, from), layerBits: bitsAt(model, from),
    learningRate: modelStepAt(model, from)?.learningRate ?? q.learningRate ?? config.learningRate,
    lrSchedule: q.lrSchedule ?? config.lrSchedule ?? none, batchSize: q.batchSize ?? config.batchSize,
    ...(qatEs ? { earlyStopping: qatEs } : {}),
  }));
  return [float, ...qat].filter((s) => s.length > 0);
}

/** Learning rate in epoch `k` of a stage (0-based); `scale` is reduce-on-plateau's running factor. */
export function stageLearningRate(stage: Pick<Stage, 'learningRate' | 'lrSchedule' | 'length'>, k: number, scale = 1): number {
  const s = stage.lrSchedule;
  const lr = stage.learningRate;
  switch (s.kind) {
    case 'none':
      return lr;
    case 'plateau':
      return Math.max(s.minLr ?? 0, lr * scale);
    case 'cosine': {
      const min = s.minLr ?? 0;
      return min + ((lr - min) * (1 + Math.cos((Math.PI * k) / Math.max(stage.length, 1)))) / 2;
    }
    case 'step': {
      const gamma = s.gamma ?? 0.1;
      const milestones = s.milestones ?? (s.stepSize ? [] : defaultMilestones(stage.length));
      const drops = s.stepSize && !s.milestones ? Math.floor(k / s.stepSize) : milestones.filter((m) => m <= k).length;
      return lr * gamma ** drops;
    }
  }
}

/** Step schedule default: × gamma at 50 % and 75 % of the stage (no drop in a 1-epoch stage). */
export function defaultMilestones(length: number): number[] {
  return [...new Set([Math.ceil(length * 0.5), Math.ceil(length * 0.75)])].filter((m) => m > 0 && m < length);
}

