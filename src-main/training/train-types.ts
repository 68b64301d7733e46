// The training engine's public types: configuration, progress, per-epoch records with layer-wise
// range statistics, the result and the resumable state. Plain data (typed arrays for weights), so
// they cross worker boundaries with structured clone.
import type { WeightBits } from '../ir/graph.ts';
import type { FloatLayerParams } from '../ir/float-params.ts';

/**
 * Learning-rate schedule of one phase (or one width of a bits schedule). Epochs count from the
 * phase's first epoch; the phase's length is the planned one.
 */
export type LrSchedule =
  /** Constant. */
  | { kind: 'none' }
  /** lr × gamma (default 0.1) at each milestone (default 50 % and 75 % of the phase), or every `stepSize` epochs. */
  | { kind: 'step'; milestones?: number[]; stepSize?: number; gamma?: number }
  /** Cosine annealing from the phase's learning rate to minLr (default 0) over the phase. */
  | { kind: 'cosine'; minLr?: number }
  /** Reduce on plateau: lr × factor (default 0.5) after `patience` (default 3) epochs without a better monitored metric. */
  | { kind: 'plateau'; factor?: number; patience?: number; minLr?: number };

/** Early stopping of one phase. */
export interface EarlyStopping {
  /** Epochs without improvement of the monitored metric before the phase ends. */
  patience: number;
  /** Default valLoss (lower is better); valAccuracy: higher is better. */
  monitor?: 'valLoss' | 'valAccuracy';
  /** At the phase's end, go back to the weights of its best epoch (default true). */
  restoreBest?: boolean;
}

/** What the QAT phase does differently from the float phase (a width of the model's bit schedule may set its own learning rate). */
export interface PhaseSettings {
  learningRate?: number;
  lrSchedule?: LrSchedule;
  batchSize?: number;
  earlyStopping?: EarlyStopping;
}

/** How to train; what to train, with every layer's weight bits and the bit schedule, is the Model (ir/graph.ts). */
export interface TrainConfig {
  /** Planned epochs, float phase + QAT phase. An early-stopped float phase moves the QAT phase earlier, keeping its length. */
  epochs: number;
  /** First QAT epoch (ai8x `start_epoch`): BN is folded and fake quantization starts here; ≥ epochs = no QAT. */
  qatStartEpoch: number;
  /** Batch size of the float phase (and of QAT unless `qat.batchSize`). */
  batchSize: number;
  /** Adam learning rate of the float phase (and of QAT unless `qat.learningRate`). */
  learningRate: number;
  /** Schedule of the float phase (and of QAT unless `qat.lrSchedule`). */
  lrSchedule?: LrSchedule;
  /** Early stopping of the float phase: ends it and starts QAT. */
  earlyStopping?: EarlyStopping;
  /** The QAT phase's own settings. */
  qat?: PhaseSettings;
  /** Quantile of |w ∪ b| that sets the output shift (policy `shift_quantile`, default 1). */
  shiftQuantile?: number;
  /** Conv layers get BatchNorm (γ/β) in the float phase, folded at QAT start (ai8x Fused*BN*). */
  batchNorm?: boolean;
  /** Per-layer BN choice by layer name; wins over `batchNorm`. */
  layerBatchNorm?: Record<string, boolean>;
  /** Weight per class in the cross-entropy. */
  classWeights?: number[];
  /** Shorthand: the same validation-loss patience in both phases (no restore), unless earlyStopping / qat.earlyStopping are set. */
  earlyStopPatience?: number;
  /** Seed for initialisation and shuffling (default 1). */
  seed?: number;
  resumeFrom?: TrainState;
}

export interface TrainProgress {
  phase: 'float' | 'qat';
  /** 0-based epoch. */
  epoch: number;
  epochs: number;
  /** Batches done in this epoch. */
  batch: number;
  batches: number;
  /** Running mean training loss of this epoch. */
  loss: number;
  accuracy: number;
  samplesPerSecond: number;
  /** Samples per second of the engine process's CPU time this epoch (PyTorch engine): on a shared machine it moves less with the load than the wall-clock rate. */
  samplesPerCpuSecond?: number;
  etaSeconds: number;
}

export interface Histogram {
  /** Bin edges, counts.length + 1 values. */
  edges: number[];
  counts: number[];
}

export interface LayerRangeStats {
  layer: string;
  /** Range of the float weights (BN folded) in the ai8x float scale. */
  weightMin: number;
  weightMax: number;
  /** Histogram of the weights after the 2^−shift scaling, over [−1, 1] plus overflow bins at the ends. */
  weightHistogram: Histogram;
  /** Range of the layer's output before the clamp (after activation and output scale). */
  activationMin: number;
  activationMax: number;
  activationHistogram: Histogram;
  /** Share of output values outside the clamp range. */
  clippedShare: number;
  /** Share of scaled weights outside the b-bit grid range [−1, (2^(b−1)−1)/2^(b−1)]. */
  weightClippedShare: number;
  outputShift: number;
  weightBits: WeightBits;
}

export interface EpochRecord {
  epoch: number;
  phase: 'float' | 'qat';
  trainLoss: number;
  trainAccuracy: number;
  valLoss: number;
  valAccuracy: number;
  lr: number;
  /** Default weight bits of the epoch (QAT: the width of the bits schedule then). */
  bits?: number;
  ranges: LayerRangeStats[];
}

export interface TrainState {
  /** Next epoch to run. */
  epoch: number;
  /** BN already folded (QAT started). */
  bnFolded: boolean;
  /** Variables by name (tfjs layout), including BN γ/β/running stats while unfolded. */
  variables: { name: string; shape: number[]; data: Float32Array }[];
  /** Adam's moments; absent: a fresh optimizer (a run continued from another one at a new width). */
  optimizer?: { m: Float32Array; v: Float32Array; step: number };
  history: EpochRecord[];
  bestValLoss: number;
  epochsWithoutImprovement: number;
  /** Float-phase snapshot (BN folded), kept for the PTQ comparison. */
  floatModelParams?: FloatLayerParams[];
  /** Seed state of the shuffler. */
  seed: number;
  /** Where the run is: the stage (float, then one per QAT width) and the epoch it began. */
  stage?: number;
  stageStart?: number;
  /** The stage plan `stage` indexes (a state resumed under another plan is placed by its epoch). */
  planKey?: string;
  /** Actual first QAT epoch (earlier than planned after an early-stopped float phase). */
  qatStart?: number;
  /** Best monitored value of the stage, its epoch, and the weights then (for restore-best). */
  best?: { value: number; epoch: number; variables?: { name: string; shape: number[]; data: Float32Array }[] };
  /** Reduce-on-plateau multiplier of the stage and its epochs without improvement. */
  lrScale?: number;
  plateauStale?: number;
  stopped?: { float: boolean; qat: boolean };
  bestEpochs?: { float?: number; qat?: number };
  segments?: WidthSegment[];
}

/** The weights at the end of one width of the QAT phase (one row of the comparison each). */
export interface WidthSegment {
  /** Default bits of the segment and the per-layer bits. */
  bits: number;
  layerBits: number[];
  fromEpoch: number;
  /** Last epoch trained at this width. */
  toEpoch: number;
  /** The epoch whose weights these are (the best one with restore-best). */
  bestEpoch: number;
  stoppedEarly: boolean;
  params: FloatLayerParams[];
}

export interface TrainResult {
  /** BN folded, in the ai8x float scale (what quantize.py reads: before the 2^−shift scaling). */
  floatParams: FloatLayerParams[];
  /** Per layer, from the quantile rule on the final weights. */
  outputShifts: number[];
  layerBits: WeightBits[];
  history: EpochRecord[];
  state: TrainState;
  /** Snapshot at the end of the float phase (BN folded), for the PTQ comparison. */
  floatModelParams?: FloatLayerParams[];
  backend: string;
  samplesPerSecond: number;
  /** The run stopped on cancel; the state's epoch is the unfinished one (it reruns on resume). */
  cancelled?: boolean;
  /** Where a cancelled run stopped: 0-based epoch and the number of batches of it trained. */
  stoppedAt?: { epoch: number; batch: number };
  /** Actual first QAT epoch. */
  qatStart: number;
  /** Which phase ended on its early-stopping patience, and the epoch whose weights each phase kept. */
  stoppedEarly: { float: boolean; qat: boolean };
  bestEpoch: { float?: number; qat?: number };
  /** One per width the QAT phase trained (one for a fixed width), in order. */
  segments: WidthSegment[];
}
