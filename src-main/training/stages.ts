// The stage plan of a training run (pure, no tfjs): the float phase, then the QAT phase split into
// one stage per width of a bits schedule, and each stage's learning rate by epoch. Both engines
// follow it: the embedded trainer directly, the PyTorch engine from the plan the app hands it.
import type { WeightBits } from '../ir/graph.ts';
import type { EarlyStopping, LrSchedule, TrainConfig } from './train-types.ts';

/**
 * One stretch of training with its own settings: the float phase, then the QAT phase, which a
 * bits schedule splits into one stage per width. An early stop ends the stage and moves the
 * later ones earlier, keeping their lengths.
 */
export interface Stage {
  phase: 'float' | 'qat';
  /** Planned epochs. */
  length: number;
  /** Default weight bits (QAT stages). */
  bits: WeightBits;
  learningRate: number;
  lrSchedule: LrSchedule;
  batchSize: number;
  earlyStopping?: EarlyStopping;
}

/** The stages of a config; `qatStart` (the actual one) sets the float phase's length. */
export function planStages(config: TrainConfig, qatStart = config.qatStartEpoch): Stage[] {
  const none: LrSchedule = { kind: 'none' };
  const legacy: EarlyStopping | undefined = config.earlyStopPatience !== undefined
    ? { patience: config.earlyStopPatience, monitor: 'valLoss', restoreBest: false }
    : undefined;
  const float: Stage = {
    phase: 'float', length: Math.min(qatStart, config.epochs), bits: config.weightBits, learningRate: config.learningRate,
    lrSchedule: config.lrSchedule ?? none, batchSize: config.batchSize, ...((config.earlyStopping ?? legacy) ? { earlyStopping: config.earlyStopping ?? legacy } : {}),
  };
  const q = config.qat ?? {};
  const qatLength = Math.max(0, config.epochs - config.qatStartEpoch);
  const qatEs = q.earlyStopping ?? legacy;
  const steps = [...(config.bitsSchedule ?? [])].filter((s) => s.epoch < qatLength).sort((a, b) => a.epoch - b.epoch);
  if (!steps.length || steps[0]!.epoch > 0) steps.unshift({ epoch: 0, bits: config.weightBits });
  const qat: Stage[] = steps.map((step, i) => ({
    phase: 'qat', length: (steps[i + 1]?.epoch ?? qatLength) - step.epoch, bits: step.bits,
    learningRate: step.learningRate ?? q.learningRate ?? config.learningRate,
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

