// A project on disk: a folder with project.json (the ProjectDoc) and artifacts/ for files the
// capabilities write (checkpoints, exports, reports). Reads validate with a clear error naming
// the file and field; writes are atomic.
import { mkdir, readFile, readdir, stat, unlink } from 'node:fs/promises';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { ApiError } from '../api/contract.ts';
import { PROJECT_SCHEMA_VERSION, ProjectDoc } from '../api/project.api.ts';
import { validationError } from '../rpc/serve.ts';
import { writeFileAtomic, type AtomicWriteHooks } from './atomic-write.ts';

export const PROJECT_FILE = 'project.json';
export const ARTIFACTS_DIR = 'artifacts';

/** Accepts a project folder or its project.json; returns the absolute folder path. */
export function projectDir(path: string): string {
  const abs = isAbsolute(path) ? path : resolve(path);
  return basename(abs) === PROJECT_FILE ? resolve(abs, '..') : abs;
}

export async function readProject(dir: string): Promise<ProjectDoc> {
  const file = join(dir, PROJECT_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ApiError('not-found', `${file}: no project here (project.json is missing).`);
    throw new ApiError('io', `${file}: cannot read (${code ?? (error as Error).message}).`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ApiError('invalid-data', `${file}: not valid JSON (${(error as Error).message}).`);
  }
  const version = (raw as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (typeof version === 'number' && version > PROJECT_SCHEMA_VERSION) {
    throw new ApiError('invalid-data', `${file}: field "schemaVersion": written by a newer QAT Workbench (version ${version}, this one reads ${PROJECT_SCHEMA_VERSION}).`, 'schemaVersion');
  }
  const parsed = ProjectDoc.safeParse(raw);
  if (!parsed.success) {
    const e = validationError(parsed.error, file);
    throw new ApiError('invalid-data', e.message, e.field);
  }
  return parsed.data;
}

export async function writeProject(dir: string, doc: ProjectDoc, hooks?: AtomicWriteHooks): Promise<void> {
  await mkdir(join(dir, ARTIFACTS_DIR), { recursive: true });
  await writeFileAtomic(join(dir, PROJECT_FILE), JSON.stringify(doc, null, 2) + '\n', hooks);
}

/** Creates the folder for a new project; refuses a folder that already has files in it. */
export async function prepareNewProjectDir(dir: string): Promise<void> {
  const existing = await stat(dir).catch(() => null);
  if (existing && !existing.isDirectory()) throw new ApiError('io', `${dir}: exists and is not a folder.`, 'path');
  if (existing) {
    const entries = await readdir(dir);
    if (entries.includes(PROJECT_FILE)) throw new ApiError('io', `${dir}: already holds a project; open it instead.`, 'path');
    if (entries.length > 0) throw new ApiError('io', `${dir}: folder is not empty; choose an empty or new folder.`, 'path');
  }
  await mkdir(dir, { recursive: true });
}

export async function projectExists(dir: string): Promise<boolean> {
  return (await stat(join(dir, PROJECT_FILE)).catch(() => null))?.isFile() ?? false;
}

/**
 * Removes temp files left by a save that was killed midway (`.project.json.<pid>.<rand>.tmp`).
 * Only old ones: a younger file may belong to a save still running in another app instance.
 */
export async function removeStaleTemps(dir: string, olderThanMs = 60_000): Promise<string[]> {
  const removed: string[] = [];
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(`.${PROJECT_FILE}.`) || !name.endsWith('.tmp')) continue;
    const file = join(dir, name);
    const info = await stat(file).catch(() => null);
    if (info && Date.now() - info.mtimeMs > olderThanMs) {
      await unlink(file).catch(() => undefined);
      removed.push(name);
    }
  }
  return removed;
}
