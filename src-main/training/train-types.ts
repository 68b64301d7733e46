// The training engine's public types: configuration, progress, per-epoch records with layer-wise
// range statistics, the result and the resumable state. Plain data (typed arrays for weights), so
// they cross worker boundaries with structured clone.
import type { WeightBits } from '../ir/graph.ts';
import type { FloatLayerParams } from '../ir/float-params.ts';

export type LrSchedule =
  /** lr × gamma at each milestone epoch (or every `stepSize` epochs). */
  | { kind: 'step'; milestones?: number[]; stepSize?: number; gamma?: number }
  /** Cosine annealing from learningRate to minLr (default 0) over all epochs. */
  | { kind: 'cosine'; minLr?: number };

export interface TrainConfig {
  /** Total epochs, float phase + QAT phase. */
  epochs: number;
  /** First QAT epoch (ai8x `start_epoch`): BN is folded and fake quantization starts here; ≥ epochs = no QAT. */
  qatStartEpoch: number;
  batchSize: number;
  /** Adam learning rate. */
  learningRate: number;
  lrSchedule?: LrSchedule;
  /** Default weight (and bias) bits in QAT (policy `weight_bits`). */
  weightBits: WeightBits;
  /** Per-layer overrides by layer name (policy `overrides`). */
  layerBits?: Record<string, WeightBits>;
  /** Progressive default bits: from `epoch` on, the default is `bits` (overrides still win). */
  bitsSchedule?: { epoch: number; bits: WeightBits }[];
  /** Quantile of |w ∪ b| that sets the output shift (policy `shift_quantile`, default 1). */
  shiftQuantile?: number;
  /** Conv layers get BatchNorm (γ/β) in the float phase, folded at QAT start (ai8x Fused*BN*). */
  batchNorm?: boolean;
  /** Per-layer BN choice by layer name; wins over `batchNorm`. */
  layerBatchNorm?: Record<string, boolean>;
  /** Weight per class in the cross-entropy. */
  classWeights?: number[];
  /** Stop after this many epochs without a lower validation loss (float phase: start QAT instead). */
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
  weightBits: number;
}

export interface EpochRecord {
  epoch: number;
  phase: 'float' | 'qat';
  trainLoss: number;
  trainAccuracy: number;
  valLoss: number;
  valAccuracy: number;
  lr: number;
  ranges: LayerRangeStats[];
}

export interface TrainState {
  /** Next epoch to run. */
  epoch: number;
  /** BN already folded (QAT started). */
  bnFolded: boolean;
  /** Variables by name (tfjs layout), including BN γ/β/running stats while unfolded. */
  variables: { name: string; shape: number[]; data: Float32Array }[];
  optimizer: { m: Float32Array; v: Float32Array; step: number };
  history: EpochRecord[];
  bestValLoss: number;
  epochsWithoutImprovement: number;
  /** Float-phase snapshot (BN folded), kept for the PTQ comparison. */
  floatModelParams?: FloatLayerParams[];
  /** Seed state of the shuffler. */
  seed: number;
}

export interface TrainResult {
  /** BN folded, in the ai8x float scale (what quantize.py reads: before the 2^−shift scaling). */
  floatParams: FloatLayerParams[];
  /** Per layer, from the quantile rule on the final weights. */
  outputShifts: number[];
  layerBits: number[];
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
}
