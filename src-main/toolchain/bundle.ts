// The deployment bundle: one folder per deployment with the exact inputs (and their SHA-256), the
// tool versions, each step's command line and log, and the validation results, plus a manifest a
// headless replay (`qatwb synthesize --bundle DIR`) re-runs and checks against. Every write (the
// bundle, each later step) builds the whole folder in staging and swaps it in, so a failure part
// way leaves the previous bundle as it was.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { CrossCheck } from '../api/toolchain.api.ts';
import { copyTreeSynced, replaceFolder, writeSynced } from '../platform/replace-folder.ts';
import type { Artifacts } from './artifacts.ts';
import { ToolchainError } from './toolchain-error.ts';

export const MANIFEST = 'manifest.json';

export interface BundleFile {
  /** Path inside the bundle. */
  file: string;
  sha256: string;
}

export interface BundleStep {
  name: 'synthesize' | 'build' | 'flash' | 'console';
  command?: string[];
  exitCode?: number;
  durationMs?: number;
  /** Log file inside the bundle. */
  log?: string;
  result?: Record<string, unknown>;
  at: string;
}

export interface BundleManifest {
  format: 'qatwb-deployment-bundle';
  version: 1;
  createdAt: string;
  device: 'MAX78002' | 'MAX78000';
  prefix: string;
  inputs: { checkpoint: BundleFile; yaml: BundleFile; sample: BundleFile; sampleExpected?: BundleFile; onnx?: BundleFile; quantization?: BundleFile };
  /** Tool versions as the doctor found them (name → version line or commit). */
  tools: Record<string, string>;
  /** The izer options used beyond the inputs, so a replay passes the same. */
  izerExtraArgs: string[];
  /** SHA-256 of the izer's expected output for the sample: a replay must reproduce it. */
  izerExpectedSha256?: string;
  steps: BundleStep[];
  crossCheck?: CrossCheck;
  validation: string;
  replay: string[];
}

export async function sha256File(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

/** A seam for tests: called before each file is written into the staging folder; may throw. */
export interface BundleHooks {
  beforeFile?(name: string): void | Promise<void>;
}

/** One step's record: what it ran, its log lines, and what it adds to validation.json. */
export interface StepRecord {
  step: Omit<BundleStep, 'at' | 'log'>;
  logLines: readonly string[];
  validation?: Record<string, unknown>;
}

export interface CreateBundleInput {
  bundleDir: string;
  artifacts: Artifacts;
  device?: 'MAX78002' | 'MAX78000';
  prefix: string;
  tools: Record<string, string>;
  izerExtraArgs?: string[];
  izerExpectedNpy?: string;
}

/**
 * Writes a bundle (with its first step, if given) into `bundleDir`, replacing a previous bundle
 * there whole; a folder of other files is refused.
 */
export async function createBundle(input: CreateBundleInput, first?: StepRecord, hooks: BundleHooks = {}): Promise<BundleManifest> {
  const dir = input.bundleDir;
  if (existsSync(dir) && (await readdir(dir)).length > 0 && !existsSync(join(dir, MANIFEST))) {
    throw new ToolchainError({ tool: 'other', reason: 'bad-input', message: `${dir} holds files that are not a deployment bundle.`, fix: 'Choose an empty or new folder for the bundle.' });
  }
  let manifest: BundleManifest | undefined;
  await replaceFolder(dir, async (staging) => {
    const put = async (name: string, data: Uint8Array | string) => {
      await hooks.beforeFile?.(name);
      await writeSynced(join(staging, name), data);
    };
    const addFile = async (src: string, name: string): Promise<BundleFile> => {
      const data = await readFile(src);
      await put(`inputs/${name}`, data);
      return { file: `inputs/${name}`, sha256: createHash('sha256').update(data).digest('hex') };
    };
    await mkdir(join(staging, 'inputs'));
    await mkdir(join(staging, 'logs'));
    const a = input.artifacts;
    const inputs: BundleManifest['inputs'] = {
      checkpoint: await addFile(a.checkpoint, 'checkpoint.pth.tar'),
      yaml: await addFile(a.yaml, 'network.yaml'),
      sample: await addFile(a.sampleInput, 'sample.input.npy'),
    };
    if (a.sampleExpected) inputs.sampleExpected = await addFile(a.sampleExpected, 'sample.expected.npy');
    if (a.onnx) inputs.onnx = await addFile(a.onnx, 'model.onnx');
    if (a.quantization) inputs.quantization = await addFile(a.quantization, 'quantization.json');
    const m: BundleManifest = {
      format: 'qatwb-deployment-bundle',
      version: 1,
      createdAt: new Date().toISOString(),
      device: input.device ?? 'MAX78002',
      prefix: input.prefix,
      inputs,
      tools: input.tools,
      izerExtraArgs: input.izerExtraArgs ?? [],
      ...(input.izerExpectedNpy ? { izerExpectedSha256: await sha256File(input.izerExpectedNpy) } : {}),
      steps: [],
      validation: 'validation.json',
      replay: ['qatwb', 'synthesize', '--bundle', '.', '--out', '<folder>', '--json'],
    };
    manifest = await writeStep(m, {}, first, put);
  });
  return manifest!;
}

/** Writes a step's log, validation.json and the manifest (last) through `put`; returns the manifest. */
async function writeStep(m: BundleManifest, validation: Record<string, unknown>, record: StepRecord | undefined, put: (name: string, data: string) => Promise<void>): Promise<BundleManifest> {
  let next = m;
  let v = validation;
  if (record) {
    const log = `logs/${record.step.name}.log`;
    await put(log, record.logLines.join('\n') + '\n');
    if (record.validation) {
      v = { ...v, ...record.validation };
      if (record.validation.crossCheck) next = { ...next, crossCheck: record.validation.crossCheck as CrossCheck };
    }
    next = { ...next, steps: [...next.steps.filter((s) => s.name !== record.step.name), { ...record.step, log, at: new Date().toISOString() }] };
  }
  await put(next.validation, JSON.stringify(v, null, 2) + '\n');
  await put(MANIFEST, JSON.stringify(next, null, 2) + '\n');
  return next;
}

export async function readBundle(dir: string): Promise<BundleManifest> {
  const p = join(dir, MANIFEST);
  if (!existsSync(p)) {
    throw new ToolchainError({ tool: 'other', reason: 'bad-input', message: `${dir} is not a deployment bundle (no ${MANIFEST}).`, fix: 'Pick the bundle folder written by a synthesis with a bundle (it holds manifest.json and inputs/).' });
  }
  const m = JSON.parse(await readFile(p, 'utf8')) as BundleManifest;
  if (m.format !== 'qatwb-deployment-bundle' || m.version !== 1) {
    throw new ToolchainError({ tool: 'other', reason: 'bad-input', message: `${p}: field "format"/"version": expected qatwb-deployment-bundle version 1.`, fix: 'Use a bundle written by this version of the workbench.' });
  }
  return m;
}

/** Checks every input against its recorded SHA-256; returns the artifacts folder to replay from. */
export async function verifyBundleInputs(dir: string, m: BundleManifest): Promise<Artifacts> {
  for (const [key, f] of Object.entries(m.inputs)) {
    if (!f) continue;
    const p = join(dir, f.file);
    if (!existsSync(p)) throw new ToolchainError({ tool: 'other', reason: 'bad-input', message: `Bundle input ${f.file} (${key}) is missing.`, fix: 'The bundle is incomplete; copy it again from its source.' });
    const sum = await sha256File(p);
    if (sum !== f.sha256) {
      throw new ToolchainError({ tool: 'other', reason: 'bad-input', message: `Bundle input ${f.file} (${key}) changed: sha256 ${sum.slice(0, 12)}… instead of ${f.sha256.slice(0, 12)}….`, fix: 'Restore the original file; a replay must use the exact inputs.' });
    }
  }
  const inputs = join(dir, 'inputs');
  return {
    dir: inputs,
    checkpoint: join(dir, m.inputs.checkpoint.file),
    yaml: join(dir, m.inputs.yaml.file),
    sampleInput: join(dir, m.inputs.sample.file),
    ...(m.inputs.sampleExpected ? { sampleExpected: join(dir, m.inputs.sampleExpected.file) } : {}),
    ...(m.inputs.onnx ? { onnx: join(dir, m.inputs.onnx.file) } : {}),
    ...(m.inputs.quantization ? { quantization: join(dir, m.inputs.quantization.file) } : {}),
  };
}

/** Adds one step's log and result, and merges its validation into validation.json: the bundle is rewritten whole. */
export async function recordStep(dir: string, record: StepRecord, hooks: BundleHooks = {}): Promise<void> {
  const m = await readBundle(dir);
  const vPath = join(dir, m.validation);
  const validation = existsSync(vPath) ? (JSON.parse(await readFile(vPath, 'utf8')) as Record<string, unknown>) : {};
  const log = `logs/${record.step.name}.log`;
  await replaceFolder(dir, async (staging) => {
    await copyTreeSynced(dir, staging, new Set([log, m.validation, MANIFEST]));
    await mkdir(join(staging, 'logs'), { recursive: true });
    await writeStep(m, validation, record, async (name, data) => {
      await hooks.beforeFile?.(name);
      await writeSynced(join(staging, name), data);
    });
  });
}

export function bundleName(prefix: string, when = new Date()): string {
  return `${basename(prefix)}-${when.toISOString().replace(/[:.]/g, '-')}`;
}
