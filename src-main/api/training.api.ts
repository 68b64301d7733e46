// Contract of the training service: train a network with float epochs then QAT epochs (a job with
// progress, cancelled through the RPC's cancel), resume a run with more QAT epochs, read results.
// A run reports three accuracies on the same test samples: float (tfjs), PTQ INT8 and QAT INT8
// (both through the bit-exact simulator on the exported integer model).
// Progress of `train`/`resume`: phase `start` (data.runId first, so a cancelled run can be resumed),
// `float`/`qat` per batch and per epoch (`data` is a TrainProgressData below), then `trained`,
// `evaluate` (fraction over test samples) and `export`.
import { z } from 'zod';
import { call, job, service } from './contract.ts';
import { DataSource, SplitSpec } from './data.api.ts';
import { BitsStepDto, StoredModelDto, WeightBits, ZooModelRef } from './model.api.ts';

export { WeightBits };


/** Where the training data comes from: an imported data set, or a source loaded for this run. */
export const TrainData = z.union([
  z.strictObject({
    /** Id returned by data.import. */
    datasetId: z.string(),
  }),
  z.strictObject({
    source: DataSource,
    /** Keep a stratified random subset of at most this many samples. */
    limit: z.number().int().positive().optional(),
    split: SplitSpec.optional(),
  }),
]);

/** Learning-rate schedule of a phase; epochs count from the phase's first epoch (see TRAIN_DEFAULTS for the numbers used when a field is left out). */
export const LrScheduleDto = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('none') }),
  z.strictObject({ kind: z.literal('step'), milestones: z.array(z.number().int().min(1)).optional(), stepSize: z.number().int().min(1).optional(), gamma: z.number().gt(0).max(1).optional() }),
  z.strictObject({ kind: z.literal('cosine'), minLr: z.number().min(0).optional() }),
  z.strictObject({ kind: z.literal('plateau'), factor: z.number().gt(0).lt(1).optional(), patience: z.number().int().min(1).optional(), minLr: z.number().min(0).optional() }),
]);
export type LrScheduleDto = z.infer<typeof LrScheduleDto>;

export const EarlyStoppingDto = z.strictObject({
  /** Epochs without improvement of the monitored metric before the phase ends. */
  patience: z.number().int().min(1).max(1000),
  /** valLoss (lower is better, default) or valAccuracy. */
  monitor: z.enum(['valLoss', 'valAccuracy']).optional(),
  /** Go back to the best epoch's weights at the phase's end; default true. */
  restoreBest: z.boolean().optional(),
});
export type EarlyStoppingDto = z.infer<typeof EarlyStoppingDto>;

/** The QAT phase's own settings; a field left out takes TRAIN_DEFAULTS' QAT value. */
export const QatPhaseDto = z.strictObject({
  learningRate: z.number().positive().optional(),
  lrSchedule: LrScheduleDto.optional(),
  batchSize: z.number().int().min(1).max(4096).optional(),
  earlyStopping: EarlyStoppingDto.optional(),
});

/** The numbers used where a request leaves a setting out (shown as numbers in the UI and CLI help). */
export const TRAIN_DEFAULTS = {
  batchSize: 64,
  learningRate: 1e-3,
  /** QAT learning rate = this × the float learning rate, unless given (ai8x: keep the lr low in QAT). */
  qatLearningRateFactor: 0.3,
  lrSchedule: 'none',
  stepGamma: 0.1,
  /** Step schedule milestones: at 50 % and 75 % of the phase. */
  stepMilestones: [0.5, 0.75],
  cosineMinLr: 0,
  plateauFactor: 0.5,
  plateauPatience: 3,
  monitor: 'valLoss',
  restoreBest: true,
  weightBits: 8,
  shiftQuantile: 1,
} as const;

export const TrainRequest = z.strictObject({
  data: TrainData,
  /**
   * The network: a built-in one (ai85net5 / ai85netextrasmall for 2-D data, ecgnet for 1-D; input
   * size and classes from the data), a path to an ONNX file, a model.json or an ai8x network YAML
   * (with `checkpoint`), or a model in its JSON form (the network builder's). A file's or builder's
   * network must take the data's shape and output one value per class.
   */
  model: z.union([z.string().min(1), StoredModelDto, ZooModelRef]),
  /** ai8x checkpoint (quantized -q.pth.tar or float/QAT) for a network YAML. */
  checkpoint: z.string().optional(),
  /** Input shape [C, L] or [C, H, W] for an ONNX file with dynamic sizes. */
  inputShape: z.array(z.number().int().positive()).min(2).max(3).optional(),
  /** Target device; default MAX78002. */
  device: z.enum(['MAX78000', 'MAX78002']).optional(),
  /** Total epochs (float + QAT). */
  epochs: z.number().int().min(1).max(1000),
  /** Epoch (0-based) at which BN is folded and QAT starts (ai8x start_epoch); must be ≤ epochs. */
  qatStart: z.number().int().min(0),
  /**
   * Bit edits made in the network's IR before training (the CLI's --bits, --layer-bits, --bits-schedule;
   * ir/bits-policy.ts withBitsEdits). The app's Train step sends none: its network carries its bits.
   * `bits`: every layer's final width (a schedule the network had is dropped).
   */
  bits: WeightBits.optional(),
  /** Final widths by layer name; these layers keep their width through a bit schedule. */
  layerBits: z.record(z.string(), WeightBits).optional(),
  /** Quantile of |w ∪ b| that sets each layer's output shift (policy shift_quantile); default 1.0. */
  shiftQuantile: z.number().gt(0).max(1).optional(),
  /** Mini-batch size of the float phase (and QAT unless qat.batchSize); default TRAIN_DEFAULTS.batchSize. */
  batchSize: z.number().int().min(1).max(4096).optional(),
  /** Learning rate of the float phase; default TRAIN_DEFAULTS.learningRate. */
  learningRate: z.number().positive().optional(),
  /** Schedule of the float phase (and QAT unless qat.lrSchedule); default none. */
  lrSchedule: LrScheduleDto.optional(),
  /** Early stopping of the float phase: it ends and QAT starts (keeping its planned length). */
  earlyStopping: EarlyStoppingDto.optional(),
  /** The QAT phase's own learning rate, schedule, batch size and early stopping. */
  qat: QatPhaseDto.optional(),
  /** The network's bit schedule (Model.bitsSchedule): progressive widths in the QAT phase, one comparison row per width. */
  bitsSchedule: z.array(BitsStepDto).max(8).optional(),
  /** Conv layers with a bias get BatchNorm in the float phase, folded at QAT start (ai8x Fused*BN*); default false. */
  batchNorm: z.boolean().optional(),
  /** Weight the loss per class: true = inverse class frequency of the training split, or one weight per class; default none. */
  classWeights: z.union([z.boolean(), z.array(z.number().min(0)).min(2)]).optional(),
  /** Seed for initialisation and shuffling; default 1. */
  seed: z.number().int().optional(),
  /** Folder to write the exports into (checkpoint, YAML, sample, ONNX, quantization.json, model.json); default the run's folder. */
  outDir: z.string().optional(),
  /** Training engine: embedded (tfjs in a worker, needs nothing; default) or pytorch (a Python with torch, as a child process). */
  engine: z.enum(['embedded', 'pytorch']).optional(),
  /** PyTorch engine: cpu (default) or cuda / cuda:N. */
  computeDevice: z.string().regex(/^(cpu|cuda(:\d+)?)$/).optional(),
  /** PyTorch engine: worker processes through torchrun (DDP), one per GPU with cuda; default 1. */
  gpus: z.number().int().min(1).max(64).optional(),
  /** PyTorch engine: CPU threads per process; default PyTorch's choice. */
  threads: z.number().int().min(1).max(256).optional(),
  /** Keep the run in this project folder (runs/<runId>/: run.json, state.json per epoch, exports), so it survives a restart. */
  projectDir: z.string().optional(),
  /**
   * Continue from this kept run's folder at new bits (a chain 8 → 4 → 2): its final weights start a new QAT phase of
   * `epochs` epochs (`qatStart` 0); its comparison rows come first in this run's.
   */
  fromRun: z.string().optional(),
});
export type TrainRequest = z.infer<typeof TrainRequest>;

/** One row of the float / PTQ / QAT table, all on the same test samples. */
export const AccuracyRow = z.object({
  name: z.enum(['float', 'ptq', 'qat']),
  /** Correct / total as a fraction (0..1). */
  accuracy: z.number(),
  correct: z.number().int(),
  total: z.number().int(),
  /** float-forward: the float model (predictFloat, ai8x float mode); simulator: the integer model in the bit-exact simulator. */
  via: z.enum(['float-forward', 'simulator']),
});

/** Checkpoint verification of the export (read back from the written checkpoint). */
export const VerificationDto = z.object({
  /** BatchNorm entries left in the checkpoint (must be 0: folded at the QAT start). */
  batchNormLeft: z.number().int(),
  /** Layers with weights that carry weight_bits, bias_bits, output_shift, quantize_activation and adjust_output_shift. */
  qatParameters: z.number().int(),
  /** Every weight and bias is on its layer's b-bit grid. */
  onGrid: z.boolean(),
});
export type VerificationDto = z.infer<typeof VerificationDto>;

/** Per-layer quantization result of the QAT model. */
export const LayerQuant = z.object({
  name: z.string(),
  bits: WeightBits,
  /** output_shift written to the checkpoint (−bit_shift). */
  outputShift: z.number().int(),
  /** Share of weights clipped at the b-bit range (0..1). */
  clippedShare: z.number(),
});

/** One row of the comparison: the float model, PTQ, or QAT at one width, all on the same test windows. */
export const ComparisonRowDto = z.object({
  /** Names the real width: "float (end of float phase)", "PTQ 8-bit", "QAT 2-bit" ("… mixed" with per-layer overrides). */
  name: z.string(),
  kind: z.enum(['float', 'ptq', 'qat']),
  /** Default weight bits of the row (32 for the float model). */
  bits: z.number().int(),
  /** Weight bits per layer, in layer order. */
  layerBits: z.array(z.number().int()),
  accuracy: z.number(),
  perClass: z.array(z.object({ label: z.string(), precision: z.number(), recall: z.number(), f1: z.number(), support: z.number().int() })),
  macroF1: z.number(),
  /** confusion[true class][predicted class]. */
  confusion: z.array(z.array(z.number().int())),
  /** Weight memory on the target in bytes, as the planner counts it (float row: float32 weights and biases). */
  weightBytes: z.number().int(),
  /** Output logits against the float model's on the same windows (float units); sqnrDb null for the float row. */
  mae: z.number(),
  mse: z.number(),
  sqnrDb: z.number().nullable(),
  via: z.enum(['float-forward', 'simulator']),
  /** QAT rows: the epochs trained at this width and the epoch whose weights the row uses. */
  epochs: z.object({ from: z.number().int(), to: z.number().int(), best: z.number().int() }).optional(),
  /** The run the row was measured in (rows carried over from the run a chain continued). */
  runId: z.string(),
  /** Loss stuck at ln(classes) for 3 epochs, or one class predicted for everything. */
  collapsed: z.boolean(),
});
export type ComparisonRowDto = z.infer<typeof ComparisonRowDto>;

/** The feature scaling the data was trained with: raw [min, max] maps to [0, 1] (int8: device codes as they are). */
export const ScalingDto = z.object({ kind: z.enum(['unit', 'minmax', 'range', 'int8']), min: z.number(), max: z.number() });

/** A figure that may be NaN or infinite (JSON sends those as null): read as null then. */
const Figure = z.number().nullable().catch(null);

/** `data` of the `start` progress: the run id, first, so a cancelled run can be resumed. */
export const TrainStartProgress = z.object({ kind: z.literal('start'), runId: z.string(), /** The run's folder when it is kept. */ dir: z.string().optional() });
/** `data` of a `float`/`qat` progress after a batch. */
export const TrainBatchProgress = z.object({
  kind: z.literal('batch'),
  phase: z.enum(['float', 'qat']),
  /** 0-based epoch; batches done in it. */
  epoch: z.number().int(),
  epochs: z.number().int(),
  batch: z.number().int(),
  batches: z.number().int(),
  /** Running mean training loss and accuracy of this epoch. */
  loss: Figure,
  accuracy: Figure,
  samplesPerSecond: Figure,
  etaSeconds: Figure,
});
/** `data` of a `float`/`qat` progress at the end of an epoch (delivered whatever the pace). */
export const TrainEpochProgress = z.object({
  kind: z.literal('epoch'),
  epoch: z.number().int(),
  epochLoss: Figure.optional(),
  trainAccuracy: Figure.optional(),
  validationAccuracy: Figure.optional(),
  validationLoss: Figure.optional(),
  lr: Figure,
  /** Default weight bits of a QAT epoch (the width of a bits schedule). */
  bits: z.number().int().optional(),
});
/** The one schema of `train`/`resume` progress data; the service writes it, the UI parses it. */
export const TrainProgressData = z.discriminatedUnion('kind', [TrainStartProgress, TrainBatchProgress, TrainEpochProgress]);
export type TrainProgressData = z.output<typeof TrainProgressData>;

export const TrainResultDto = z.object({
  runId: z.string(),
  /** Float accuracy on the test split (fraction). */
  floatAccuracy: z.number(),
  /** Post-training-quantized INT8 model through the simulator (fraction); null when there was no float phase. */
  ptqAccuracy: z.number().nullable(),
  /** QAT INT8 model through the simulator (fraction); null when no QAT epoch ran. */
  qatAccuracy: z.number().nullable(),
  table: z.array(AccuracyRow),
  layers: z.array(LayerQuant),
  /** Training throughput over all epochs (samples/s). */
  samplesPerSecond: z.number(),
  /** What trained, e.g. `wasm (SIMD, 2 threads)` or `PyTorch 2.5.1 on cuda (NVIDIA H200 ×2, DDP)`. */
  backend: z.string(),
  /** Engine that trained. */
  engine: z.enum(['embedded', 'pytorch']),
  /** Compute device of the engine: cpu or cuda (the embedded engine: cpu). */
  device: z.string(),
  /** Epochs run so far in this run (float + QAT). */
  epochsDone: z.number().int(),
  /** Wall time of the job, seconds. */
  seconds: z.number(),
  /** The comparison: float, PTQ, then one QAT row per width (rows of the run it continued first). */
  rows: z.array(ComparisonRowDto),
  /** Some phase ended on its early-stopping patience. */
  stoppedEarly: z.boolean(),
  /** The epoch whose weights the deployed model has (0-based); null without any epoch. */
  bestEpoch: z.number().int().nullable(),
  phases: z.object({
    float: z.object({ epochs: z.number().int(), stoppedEarly: z.boolean(), bestEpoch: z.number().int().nullable() }),
    qat: z.object({ epochs: z.number().int(), stoppedEarly: z.boolean(), bestEpoch: z.number().int().nullable() }),
  }),
  /** First QAT epoch as it happened (earlier than planned after an early-stopped float phase). */
  qatStart: z.number().int(),
  /** Some row collapsed; `collapseWarnings` says which and why. */
  collapsed: z.boolean(),
  collapseWarnings: z.array(z.string()),
  scaling: ScalingDto.nullable(),
  /** The network trained: its name, where it came from, and its layers. */
  network: z.object({ arch: z.string(), source: z.string(), layers: z.number().int(), batchNormLayers: z.number().int() }).optional(),
  /** Checkpoint verification of the deployed model (always computed; an export that fails it is not written). */
  verification: VerificationDto.optional(),
  /** Export folder and the files written there, when outDir was given. */
  outDir: z.string().optional(),
  files: z.array(z.string()).optional(),
});
export type TrainResultDto = z.infer<typeof TrainResultDto>;

const HistogramDto = z.object({ edges: z.array(z.number()), counts: z.array(z.number()) });
export type HistogramDto = z.infer<typeof HistogramDto>;

/** One layer's range statistics in one epoch (training/train-types.ts LayerRangeStats on the wire). */
export const LayerRangeDto = z.object({
  layer: z.string(),
  /** Range of the float weights (BN folded), ai8x float scale. */
  weightMin: z.number(),
  weightMax: z.number(),
  /** Weights after the 2^−shift scaling, over [−1, 1] plus overflow bins at the ends. */
  weightHistogram: HistogramDto,
  /** Layer output before the clamp (after activation and output scale). */
  activationMin: z.number(),
  activationMax: z.number(),
  activationHistogram: HistogramDto,
  /** Share of outputs outside the clamp (0..1). */
  clippedShare: z.number(),
  /** Share of scaled weights outside the b-bit grid (0..1). */
  weightClippedShare: z.number(),
  outputShift: z.number(),
  weightBits: WeightBits,
});
export type LayerRangeDto = z.infer<typeof LayerRangeDto>;

/** One epoch of the history, as the UI charts it. */
export const EpochDto = z.object({
  epoch: z.number().int(),
  phase: z.enum(['float', 'qat']),
  loss: z.number(),
  trainAccuracy: z.number().optional(),
  validationAccuracy: z.number().optional(),
  validationLoss: z.number().optional(),
  /** Learning rate of the epoch. */
  lr: z.number().optional(),
  /** Default weight bits of the epoch (the width of a bits schedule). */
  bits: z.number().int().optional(),
  /** Per-layer statistics of this epoch (ranges, histogram, clipped share, shift, bits). */
  layers: z.array(LayerRangeDto),
});

export const RunStatus = z.enum(['running', 'done', 'cancelled', 'failed', 'interrupted']);

/** A run as listed: finished ones carry their result; running or interrupted ones how far they got. */
export const RunSummaryDto = z.object({
  runId: z.string(),
  /** interrupted: the app or server stopped while it ran; continueRun goes on from its last finished epoch. */
  status: RunStatus,
  createdAt: z.string(),
  epochsDone: z.number().int(),
  epochsPlanned: z.number().int(),
  /** The run's folder when it is kept in a project. */
  dir: z.string().nullable(),
  fromRun: z.string().nullable(),
  model: z.string(),
  bits: z.number().int(),
  /** Epochs this run trains in each phase as planned (a chain: QAT only; the result says where early stopping ended them). */
  phases: z.object({ float: z.number().int(), qat: z.number().int() }),
  /** QAT widths in order (one, or the steps of a bits schedule). */
  widths: z.array(z.number().int()),
  result: TrainResultDto.nullable(),
});
export type RunSummaryDto = z.infer<typeof RunSummaryDto>;

const RunRef = { runId: z.string(), /** Look for kept runs in this project folder too. */ projectDir: z.string().optional() };

export const trainingApi = service(
  {
    ping: call('Checks that the training service answers.', z.strictObject({}), z.object({ ok: z.literal(true) })),
    train: job('Trains a network (float, then QAT), quantizes it, evaluates float/PTQ/QAT, and writes the exports.', TrainRequest, TrainResultDto, TrainProgressData),
    resume: job(
      'Continues a finished or cancelled run for more epochs as a new run (the source run stays): more QAT, or QAT from a float-only run with the bits chosen now.',
      z.strictObject({
        runId: z.string(),
        /** Additional epochs. */
        epochs: z.number().int().min(1).max(1000),
        /** First QAT epoch when the source run never started QAT; default: the source run's qatStart (if still ahead) or right away. */
        qatStart: z.number().int().min(0).optional(),
        /** Weight bits for the QAT phase; default the source run's. */
        bits: WeightBits.optional(),
        /** Per-layer weight bits for the QAT phase; default the source run's. */
        layerBits: z.record(z.string(), WeightBits).optional(),
        /** Export folder; default none (the source run's folder is never overwritten). */
        outDir: z.string().optional(),
      }),
      TrainResultDto,
      TrainProgressData,
    ),
    getRun: call(
      'Results and per-epoch history of a run of this session, or of one kept in the project (also after a restart).',
      z.strictObject(RunRef),
      z.object({ result: TrainResultDto.nullable(), status: RunStatus, history: z.array(EpochDto), request: z.record(z.string(), z.unknown()) }),
    ),
    listRuns: call(
      'Runs of this session and those kept in the project folder, newest first.',
      z.strictObject({ projectDir: z.string().optional() }),
      z.object({ runs: z.array(RunSummaryDto), skipped: z.array(z.string()) }),
    ),
    continueRun: job(
      'Continues an interrupted or cancelled kept run from its last finished epoch, in its own folder, to its planned end.',
      z.strictObject({ runId: z.string(), projectDir: z.string() }),
      TrainResultDto,
      TrainProgressData,
    ),
  },
  {},
);

/** What the `training` section keeps of the last finished run (runs live in the service's memory). */
export const TrainingLastRun = z.looseObject({
  runId: z.string(),
  outDir: z.string().optional(),
  files: z.array(z.string()).optional(),
  floatAccuracy: z.number(),
  ptqAccuracy: z.number().nullable(),
  qatAccuracy: z.number().nullable(),
  finishedAt: z.string(),
});
export type TrainingLastRun = z.output<typeof TrainingLastRun>;

/**
 * The `training` section of project.json, owned by the training step: the form's settings and the
 * last finished run. Loose, so a file written by another version still opens. Weight bits are not
 * here: they are the network's (older files' `config.bits`/`layerBits`/`bitsSchedule` move there on
 * open, project/migrate-bits.ts).
 */
export const TrainingSection = z.looseObject({
  config: z.looseObject({
    epochs: z.number().int().optional(),
    qatStart: z.number().int().optional(),
    learningRate: z.number().nullable().optional(),
    batchSize: z.number().int().nullable().optional(),
    limit: z.number().int().nullable().optional(),
    classWeights: z.boolean().optional(),
    engine: z.enum(['embedded', 'pytorch']).optional(),
    computeDevice: z.enum(['cpu', 'cuda']).optional(),
    gpus: z.number().int().nullable().optional(),
  }).optional(),
  lastRun: TrainingLastRun.optional(),
});
export type TrainingSection = z.output<typeof TrainingSection>;
