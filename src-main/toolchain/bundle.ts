// The deployment bundle: one folder per deployment with the exact inputs (and their SHA-256), the
// tool versions, each step's command line and log, and the validation results, plus a manifest a
// headless replay (`qatwb synthesize --bundle DIR`) re-runs and checks against. Written atomically
// file by file; the manifest last, so a half-written bundle has no manifest.
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { CrossCheck } from '../api/toolchain.api.ts';
import { writeFileAtomic } from '../project/atomic-write.ts';
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

async function addFile(bundleDir: string, src: string, name: string): Promise<BundleFile> {
  const rel = `inputs/${name}`;
  await copyFile(src, join(bundleDir, rel));
  return { file: rel, sha256: await sha256File(src) };
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

export async function createBundle(input: CreateBundleInput): Promise<BundleManifest> {
  const dir = input.bundleDir;
  await mkdir(join(dir, 'inputs'), { recursive: true });
  await mkdir(join(dir, 'logs'), { recursive: true });
  const a = input.artifacts;
  const inputs: BundleManifest['inputs'] = {
    checkpoint: await addFile(dir, a.checkpoint, 'checkpoint.pth.tar'),
    yaml: await addFile(dir, a.yaml, 'network.yaml'),
    sample: await addFile(dir, a.sampleInput, 'sample.input.npy'),
  };
  if (a.sampleExpected) inputs.sampleExpected = await addFile(dir, a.sampleExpected, 'sample.expected.npy');
  if (a.onnx) inputs.onnx = await addFile(dir, a.onnx, 'model.onnx');
  if (a.quantization) inputs.quantization = await addFile(dir, a.quantization, 'quantization.json');
  const manifest: BundleManifest = {
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
  await writeFileAtomic(join(dir, 'validation.json'), JSON.stringify({}, null, 2) + '\n');
  await writeFileAtomic(join(dir, MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
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

/** Adds one step's log and result, and merges `validation` into validation.json. */
export async function recordStep(dir: string, step: Omit<BundleStep, 'at' | 'log'>, logLines: readonly string[], validation?: Record<string, unknown>): Promise<void> {
  const m = await readBundle(dir);
  const log = `logs/${step.name}.log`;
  await writeFileAtomic(join(dir, log), logLines.join('\n') + '\n');
  if (validation) {
    const vPath = join(dir, m.validation);
    const current = existsSync(vPath) ? (JSON.parse(await readFile(vPath, 'utf8')) as Record<string, unknown>) : {};
    await writeFileAtomic(vPath, JSON.stringify({ ...current, ...validation }, null, 2) + '\n');
    if (validation.crossCheck) m.crossCheck = validation.crossCheck as CrossCheck;
  }
  m.steps = [...m.steps.filter((s) => s.name !== step.name), { ...step, log, at: new Date().toISOString() }];
  await writeFileAtomic(join(dir, MANIFEST), JSON.stringify(m, null, 2) + '\n');
}

export function bundleName(prefix: string, when = new Date()): string {
  return `${basename(prefix)}-${when.toISOString().replace(/[:.]/g, '-')}`;
}
