// Contract of the training service: train a network with float epochs then QAT epochs (a job with
// progress, cancelled through the RPC's cancel), resume a run with more QAT epochs, read results.
// A run reports three accuracies on the same test samples: float (tfjs), PTQ INT8 and QAT INT8
// (both through the bit-exact simulator on the exported integer model).
// Progress of `train`/`resume`: phase `start` (data.runId first, so a cancelled run can be resumed),
// `float`/`qat` per batch (data: epoch, epochs, batch, batches, loss, accuracy, samplesPerSecond,
// etaSeconds) and per epoch (data: epoch, epochLoss, trainAccuracy, validationAccuracy,
// validationLoss, lr), then `trained`, `evaluate` (fraction over test samples) and `export`.
import { z } from 'zod';
import { call, job, service } from './contract.ts';
import { DataSource, SplitSpec } from './data.api.ts';

export const WeightBits = z.union([z.literal(1), z.literal(2), z.literal(4), z.literal(8)]);

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

export const TrainRequest = z.strictObject({
  data: TrainData,
  /** Built-in network: ai85net5 / ai85netextrasmall (2-D, e.g. MNIST) or ecgnet (1-D; length and classes from the data). */
  model: z.enum(['ai85net5', 'ai85netextrasmall', 'ecgnet']),
  /** Target device; default MAX78002. */
  device: z.enum(['MAX78000', 'MAX78002']).optional(),
  /** Total epochs (float + QAT). */
  epochs: z.number().int().min(1).max(1000),
  /** Epoch (0-based) at which BN is folded and QAT starts (ai8x start_epoch); must be ≤ epochs. */
  qatStart: z.number().int().min(0),
  /** Default weight bits for every layer (1/2/4/8); default 8. */
  bits: WeightBits.optional(),
  /** Per-layer weight bits by layer name, overriding `bits`. */
  layerBits: z.record(z.string(), WeightBits).optional(),
  /** Quantile of |w ∪ b| that sets each layer's output shift (policy shift_quantile); default 1.0. */
  shiftQuantile: z.number().gt(0).max(1).optional(),
  /** Mini-batch size; default chosen by the engine. */
  batchSize: z.number().int().min(1).max(4096).optional(),
  /** Learning rate of the float phase; default chosen by the engine. */
  learningRate: z.number().positive().optional(),
  /** Conv layers with a bias get BatchNorm in the float phase, folded at QAT start (ai8x Fused*BN*); default false. */
  batchNorm: z.boolean().optional(),
  /** Weight the loss by inverse class frequency (imbalanced data); default false. */
  classWeights: z.boolean().optional(),
  /** Seed for initialisation and shuffling; default 1. */
  seed: z.number().int().optional(),
  /** Folder to write the exports into (checkpoint, YAML, sample, ONNX, quantization.json, model.json). */
  outDir: z.string().optional(),
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

/** Per-layer quantization result of the QAT model. */
export const LayerQuant = z.object({
  name: z.string(),
  bits: WeightBits,
  /** output_shift written to the checkpoint (−bit_shift). */
  outputShift: z.number().int(),
  /** Share of weights clipped at the b-bit range (0..1). */
  clippedShare: z.number(),
});

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
  /** tfjs backend that trained, e.g. `wasm (SIMD, 2 threads)`. */
  backend: z.string(),
  /** Epochs run so far in this run (float + QAT). */
  epochsDone: z.number().int(),
  /** Wall time of the job, seconds. */
  seconds: z.number(),
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
  weightBits: z.number(),
});
export type LayerRangeDto = z.infer<typeof LayerRangeDto>;

/** One epoch of the history, as the UI charts it. */
export const EpochDto = z.object({
  epoch: z.number().int(),
  phase: z.enum(['float', 'qat']),
  loss: z.number(),
  trainAccuracy: z.number().optional(),
  validationAccuracy: z.number().optional(),
  /** Per-layer statistics of this epoch (ranges, histogram, clipped share, shift, bits). */
  layers: z.array(LayerRangeDto),
});

export const trainingApi = service(
  {
    ping: call('Checks that the training service answers.', z.strictObject({}), z.object({ ok: z.literal(true) })),
    train: job('Trains a network (float, then QAT), quantizes it, evaluates float/PTQ/QAT, and writes the exports.', TrainRequest, TrainResultDto),
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
    ),
    getRun: call(
      'Results and per-epoch history of a run of this session.',
      z.strictObject({ runId: z.string() }),
      z.object({ result: TrainResultDto, history: z.array(EpochDto), request: z.record(z.string(), z.unknown()) }),
    ),
    listRuns: call('Runs of this session, newest first.', z.strictObject({}), z.object({ runs: z.array(TrainResultDto) })),
  },
  {},
);
