// Runs kept on disk: every run's folder holds run.json (request, status, per-epoch history, result)
// and state.json (the engine state after the last finished epoch, so an interrupted run can go on),
// next to its exports. Each file is written atomically as the run goes, so a crash leaves the
// previous version. Typed arrays travel as base64.
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiError } from '../api/contract.ts';
import type { TrainRequest, TrainResultDto, ComparisonRowDto } from '../api/training.api.ts';
import { writeFileAtomic } from '../project/atomic-write.ts';
import type { TrainState } from './train-types.ts';
import type { WeightBits } from '../ir/graph.ts';

export const RUN_FILE = 'run.json';
export const STATE_FILE = 'state.json';
const SCHEMA_VERSION = 1;

export type RunStatus = 'running' | 'done' | 'cancelled' | 'failed' | 'interrupted';

export interface RunFile {
  schemaVersion: number;
  runId: string;
  status: RunStatus;
  createdAt: string;
  updatedAt: string;
  /** The request as given, with the data written out (a data set id only lives in one session). */
  request: TrainRequest;
  epochsDone: number;
  /** Planned epochs (float + QAT). */
  epochsPlanned: number;
  /** The run this one continued (a chain of widths), if any. */
  fromRun?: string;
  /** Comparison rows carried over from that run. */
  carriedRows?: ComparisonRowDto[];
  /** Width snapshots the source state already had. */
  segmentsBefore?: number;
  /** Per-epoch history as getRun returns it. */
  history: unknown[];
  result?: TrainResultDto;
  error?: string;
}

/** The folder of a run kept in a project. */
export const projectRunDir = (projectDir: string, runId: string): string => join(projectDir, 'runs', runId);

export async function writeRunFile(dir: string, run: RunFile): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, RUN_FILE), runJson(run));
}

export async function readRunFile(dir: string): Promise<RunFile> {
  const path = join(dir, RUN_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ApiError('not-found', `${path}: no kept run there (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`, 'runDir');
  }
  let doc: RunFile;
  try {
    doc = JSON.parse(text) as RunFile;
  } catch (e) {
    throw new ApiError('invalid-data', `${path}: not JSON (${(e as Error).message}).`, 'runDir');
  }
  for (const [field, ok] of [['runId', typeof doc.runId === 'string'], ['status', typeof doc.status === 'string'], ['request', typeof doc.request === 'object' && doc.request !== null], ['history', Array.isArray(doc.history)]] as const) {
    if (!ok) throw new ApiError('invalid-data', `${path}: field "${field}" is missing or of the wrong type.`, field);
  }
  if (doc.schemaVersion !== SCHEMA_VERSION) throw new ApiError('invalid-data', `${path}: schemaVersion ${doc.schemaVersion}; this version reads ${SCHEMA_VERSION}.`, 'schemaVersion');
  // Runs kept before the bit schedule moved into the IR named a step's first QAT epoch `epoch`.
  const steps: { epoch?: number; fromQatEpoch?: number; bits: WeightBits; learningRate?: number }[] | undefined = doc.request.bitsSchedule;
  if (steps) doc.request.bitsSchedule = steps.map(({ epoch, ...s }) => ({ ...s, fromQatEpoch: s.fromQatEpoch ?? epoch ?? 0 }));
  return doc;
}

export function newRunFile(runId: string, request: TrainRequest, epochsPlanned: number, extra: Partial<RunFile> = {}): RunFile {
  const now = new Date().toISOString();
  return { schemaVersion: SCHEMA_VERSION, runId, status: 'running', createdAt: now, updatedAt: now, request, epochsDone: 0, epochsPlanned, history: [], ...extra };
}

const F32 = '$f32';

function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Float32Array) return { [F32]: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  if (typeof value === 'number' && !Number.isFinite(value)) return { $num: String(value) };
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o[F32] === 'string') {
      const b = Buffer.from(o[F32] as string, 'base64');
      const out = new Float32Array(b.byteLength / 4);
      new Uint8Array(out.buffer).set(b);
      return out;
    }
    if (typeof o['$num'] === 'string') return Number(o['$num']);
  }
  return value;
}

export const stateJson = (state: TrainState): string => JSON.stringify(state, replacer);
export const runJson = (run: RunFile): string => JSON.stringify({ ...run, updatedAt: new Date().toISOString() }, null, 1) + '\n';

export async function writeState(dir: string, state: TrainState): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, STATE_FILE), stateJson(state));
}

export async function readState(dir: string): Promise<TrainState> {
  const path = join(dir, STATE_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ApiError('not-found', `${path}: the run has no saved state (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); it stopped before its first epoch ended.`, 'runDir');
  }
  const state = JSON.parse(text, reviver) as TrainState;
  if (!Array.isArray(state.variables) || !state.variables.every((v) => v.data instanceof Float32Array)) {
    throw new ApiError('invalid-data', `${path}: "variables" are missing or not float32 arrays.`, 'variables');
  }
  return state;
}

/** The run folders of a project, newest first (unreadable ones are skipped, named in `skipped`). */
export async function listProjectRuns(projectDir: string): Promise<{ runs: { dir: string; run: RunFile }[]; skipped: string[] }> {
  const root = join(projectDir, 'runs');
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return { runs: [], skipped: [] };
  }
  const runs: { dir: string; run: RunFile }[] = [];
  const skipped: string[] = [];
  for (const name of names) {
    const dir = join(root, name);
    try {
      runs.push({ dir, run: await readRunFile(dir) });
    } catch (e) {
      if ((e as ApiError).code !== 'not-found') skipped.push(`${dir}: ${(e as Error).message}`);
    }
  }
  runs.sort((a, b) => b.run.createdAt.localeCompare(a.run.createdAt));
  return { runs, skipped };
}
