// Step 1: run ai8xize.py on exported artifacts (cwd = the izer checkout, absolute paths for every
// file) and check that the generated project has the expected layout (max78002.md §4.1, §4.3).
// The izer's expected output for the sample is saved as NumPy for the cross-check.
import { existsSync } from 'node:fs';
import { copyFile, readFile, rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ApiError } from '../../api/contract.ts';
import { IZER_ENV_NAMES, izerEnvNameAllowed } from '../../api/toolchain.api.ts';
import type { Artifacts } from '../artifacts.ts';
import { scanWarnings } from '../error-map.ts';
import { runStep, type RunResult, type ToolRunHooks } from '../run-process.ts';
import { createAi8xizeProgress, parseIzerResources, type IzerResources } from '../tools/ai8xize.ts';
import { ToolchainError } from '../toolchain-error.ts';

/** Name given to --sample-numpy-filename; the izer saves `<project>/<name>.npy`. */
export const IZER_EXPECTED_NAME = 'izer-expected';

/** Files every generated MAX78002 Arm project has; softmax.c only with --softmax. */
export const GENERATED_FILES = ['main.c', 'cnn.c', 'cnn.h', 'weights.h', 'sampledata.h', 'sampleoutput.h', 'Makefile', 'softmax.c'];

export interface SynthesizeStepOptions extends ToolRunHooks {
  python: string;
  izerDir: string;
  artifacts: Pick<Artifacts, 'checkpoint' | 'yaml' | 'sampleInput'>;
  /** --test-dir; the project is `<testDir>/<prefix>`. */
  testDir: string;
  prefix: string;
  device?: 'MAX78002' | 'MAX78000';
  boardName?: string;
  /** Appended after the standard arguments (e.g. --no-wfi, --avg-pool-rounding). */
  extraArgs?: readonly string[];
  /** Extra environment for the izer's Python (e.g. a stand-in's inputs in tests). */
  extraEnv?: Record<string, string>;
}

export interface SynthesizeStepResult {
  projectDir: string;
  izerExpectedNpy: string;
  run: RunResult;
  warnings: string[];
  /** Weight and bias memory as the izer reported them (undefined if its log had no RESOURCE USAGE). */
  resources?: IzerResources;
}

export function izerArgs(o: SynthesizeStepOptions): string[] {
  return [
    'ai8xize.py',
    '--device', o.device ?? 'MAX78002',
    '--test-dir', resolve(o.testDir),
    '--prefix', o.prefix,
    '--checkpoint-file', resolve(o.artifacts.checkpoint),
    '--config-file', resolve(o.artifacts.yaml),
    '--sample-input', resolve(o.artifacts.sampleInput),
    '--board-name', o.boardName ?? 'EvKit_V1',
    '--softmax',
    '--timer', '0',
    '--overwrite',
    '--no-version-check',
    '--sample-numpy-filename', IZER_EXPECTED_NAME,
    ...(o.extraArgs ?? []),
  ];
}

export async function runSynthesize(o: SynthesizeStepOptions): Promise<SynthesizeStepResult> {
  if (!existsSync(join(o.izerDir, 'ai8xize.py'))) {
    throw new ToolchainError({ tool: 'ai8xize', reason: 'not-found', message: `${o.izerDir} has no ai8xize.py.`, fix: 'Set Settings → ai8x-synthesis to the checkout folder that holds ai8xize.py.' });
  }
  const run = await runStep(o, 15 * 60_000, {
    tool: 'ai8xize',
    file: o.python,
    args: izerArgs(o),
    cwd: o.izerDir,
    // Unbuffered so lines (and progress) arrive as they are printed; UTF-8 for the progress bars.
    env: { PYTHONUNBUFFERED: '1', PYTHONIOENCODING: 'utf-8', ...allowedEnv(o.extraEnv) },
    progress: createAi8xizeProgress(),
  });
  const projectDir = join(resolve(o.testDir), o.prefix);
  const missing = GENERATED_FILES.filter((f) => !existsSync(join(projectDir, f)));
  if (missing.length > 0) {
    throw new ToolchainError({
      tool: 'ai8xize', reason: 'project-layout', exitCode: 0, tail: run.lines.slice(-30),
      message: `ai8xize.py finished but ${projectDir} lacks ${missing.join(', ')}.`,
      fix: 'Check the izer version (ai8x-synthesis develop, 2024 or later) and its log; re-run synthesis.',
    });
  }
  const izerExpectedNpy = join(projectDir, `${IZER_EXPECTED_NAME}.npy`);
  // Seen in generated projects: the file lands in the project folder. Other izer versions may
  // resolve the name against the test folder or their working folder; collect it from there.
  if (!existsSync(izerExpectedNpy)) {
    const elsewhere = [join(resolve(o.testDir), `${IZER_EXPECTED_NAME}.npy`), join(o.izerDir, `${IZER_EXPECTED_NAME}.npy`)].find((p) => existsSync(p));
    if (elsewhere) await rename(elsewhere, izerExpectedNpy).catch(() => copyFile(elsewhere, izerExpectedNpy));
  }
  if (!existsSync(izerExpectedNpy)) {
    throw new ToolchainError({
      tool: 'ai8xize', reason: 'project-layout', exitCode: 0, tail: run.lines.slice(-30),
      message: `ai8xize.py did not save its expected output (${izerExpectedNpy}).`,
      fix: 'Use an izer version that supports --sample-numpy-filename.',
    });
  }
  const warnings = scanWarnings('ai8xize', run.lines).map((w) => `${w.message} ${w.fix}`);
  o.onProgress?.({ phase: 'synthesize', fraction: 1, message: `Generated ${projectDir}` });
  // With its log on (the default) the izer writes the RESOURCE USAGE summary to <project>/log.txt
  // rather than the console.
  const logTxt = join(projectDir, 'log.txt');
  const resources = parseIzerResources(run.lines) ?? (existsSync(logTxt) ? parseIzerResources((await readFile(logTxt, 'utf8')).split(/\r?\n/)) : undefined);
  return { projectDir, izerExpectedNpy, run, warnings, ...(resources ? { resources } : {}) };
}

/** The last gate before the izer starts: every name must be on the allow-list (settings, CLI, API). */
function allowedEnv(env: Record<string, string> | undefined): Record<string, string> {
  const bad = Object.keys(env ?? {}).filter((k) => !izerEnvNameAllowed(k));
  if (bad.length) {
    throw new ApiError('bad-request', `izerEnv: ${bad.join(', ')} cannot be passed to the izer; allowed: ${IZER_ENV_NAMES.join(', ')}.`, 'izerEnv');
  }
  return { ...env };
}
