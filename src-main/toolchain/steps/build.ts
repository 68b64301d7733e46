// Step 4: build the generated project with the MSDK's make, exactly as the generated VS Code task
// does (max78002.md §7): make -r -j N TARGET=MAX78002 BOARD=EvKit_V1 MAXIM_PATH=... The Arm GCC
// folder goes first on PATH because the MSDK makefiles call arm-none-eabi-gcc by name.
import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { runStep, type RunResult, type ToolRunHooks } from '../run-process.ts';
import { createMakeProgress } from '../tools/make.ts';
import { ToolchainError } from '../toolchain-error.ts';
import { assertFlowAllowed } from './synthesis-record.ts';

export interface BuildStepOptions extends ToolRunHooks {
  projectDir: string;
  make: string;
  maximPath: string;
  /** arm-none-eabi-gcc; its folder is put first on PATH. */
  armGcc?: string;
  /** More folders for PATH (on Windows the MSDK's MSYS2 usr/bin, for sh, mkdir and friends). */
  extraPathDirs?: string[];
  jobs?: number;
  target?: 'MAX78002' | 'MAX78000';
  board?: string;
  /** PROJECT=name (output build/<name>.elf); default: the lower-case target. */
  project?: string;
}

export interface BuildStepResult {
  elf: string;
  sizeBytes: number;
  run: RunResult;
}

export function makeArgs(o: BuildStepOptions): string[] {
  const target = o.target ?? 'MAX78002';
  return [
    '-r', '-j', String(o.jobs ?? Math.max(1, availableParallelism())),
    `TARGET=${target}`, `BOARD=${o.board ?? 'EvKit_V1'}`, `MAXIM_PATH=${toMakePath(resolve(o.maximPath))}`,
    ...(o.project ? [`PROJECT=${o.project}`] : []),
  ];
}

/** make wants forward slashes, also on Windows. */
export function toMakePath(p: string): string {
  return p.replace(/\\/g, '/');
}

export function elfPath(o: Pick<BuildStepOptions, 'projectDir' | 'target' | 'project'>): string {
  return join(o.projectDir, 'build', `${o.project ?? (o.target ?? 'MAX78002').toLowerCase()}.elf`);
}

export async function runBuild(o: BuildStepOptions): Promise<BuildStepResult> {
  await assertFlowAllowed(o.projectDir);
  if (!existsSync(join(o.projectDir, 'Makefile'))) {
    throw new ToolchainError({ tool: 'make', reason: 'bad-input', message: `${o.projectDir} has no Makefile.`, fix: 'Pick the folder synthesis generated (it holds Makefile, main.c and cnn.c), or synthesize first.' });
  }
  if (!existsSync(join(o.maximPath, 'Libraries'))) {
    throw new ToolchainError({ tool: 'make', reason: 'maxim-path', message: `MAXIM_PATH ${o.maximPath} is not an MSDK folder (no Libraries/).`, fix: 'Set Settings → MSDK (MAXIM_PATH) to the MaximSDK folder (the one containing Libraries/ and Tools/).' });
  }
  if (o.armGcc && !existsSync(o.armGcc)) {
    throw new ToolchainError({ tool: 'make', reason: 'compiler-missing', message: `arm-none-eabi-gcc was not found at ${o.armGcc}.`, fix: 'Set Settings → Arm GCC to the compiler (the MSDK has it in Tools/GNUTools/10.3/bin).' });
  }
  const path = [o.armGcc ? dirname(o.armGcc) : undefined, ...(o.extraPathDirs ?? []), o.make.includes('/') || o.make.includes('\\') ? dirname(o.make) : undefined, process.env.PATH]
    .filter(Boolean)
    .join(delimiter);
  const run = await runStep(o, 15 * 60_000, {
    tool: 'make',
    file: o.make,
    args: makeArgs(o),
    cwd: o.projectDir,
    env: { PATH: path, MAXIM_PATH: toMakePath(resolve(o.maximPath)) },
    progress: createMakeProgress(),
  });
  const elf = elfPath(o);
  if (!existsSync(elf)) {
    throw new ToolchainError({ tool: 'make', reason: 'project-layout', exitCode: 0, tail: run.lines.slice(-30), message: `make succeeded but ${elf} was not produced.`, fix: 'Check PROJECT/TARGET in the project\'s Makefile; the workbench expects build/<project>.elf.' });
  }
  o.onProgress?.({ phase: 'build', fraction: 1, message: `Built ${elf}` });
  return { elf, sizeBytes: statSync(elf).size, run };
}
