// Step 3: turn the izer's known-answer-test project into live-check firmware. The harness sources
// (resources/firmware) are copied in; the izer's main() is renamed so the KAT still runs first at
// boot and prints PASS/FAIL as before, its fail() returns instead of hanging, and an added main()
// then starts the harness. A harness either defines its own main() (renamed in the copy to
// qatwb_harness_main) or an entry `void qatwb_harness_run(int kat_passed)`. qatwb_model.h tells
// the firmware which model it carries (hash as the host computes it, input shape, output count).
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { crc32 } from '../../device/framing.ts';
import { scalingDefines } from '../../device/firmware-config.ts';
import type { InputScaling } from '../../ir/graph.ts';
import { storedInputScaling } from '../../ir/schema.ts';
import { ToolchainError } from '../toolchain-error.ts';

export const DEFAULT_ENTRY = 'qatwb_harness_run';
export const HARNESS_MAIN = 'qatwb_harness_main';
export const KAT_MAIN = 'qatwb_kat_main';

export interface HarnessManifest {
  /** Files to copy (relative to the harness folder). */
  sources?: string[];
  /** `main` when the harness defines main(); otherwise a `void f(int kat_passed)` entry. */
  entry?: string;
}

export interface HarnessInput {
  projectDir: string;
  harnessDir: string;
  checkpoint: string;
  yaml: string;
  /** Channel-first sample shape, e.g. [1, 28, 28] or [1, 512]. */
  inputShape: number[];
  outputCount: number;
  /** Weight bits of the output layer (scale of a 32-bit output); default 8. */
  outputWeightBits?: number;
  /** The model's input scaling (model.json input.scaling), stated in qatwb_model.h; null: none recorded. */
  scaling?: InputScaling | null;
  prefix: string;
}

export interface HarnessResult {
  added: boolean;
  files: string[];
  note?: string;
}

/** Default folder of the harness sources in a source checkout. */
export function defaultHarnessDir(): string {
  return join(import.meta.dirname, '..', '..', '..', 'resources', 'firmware');
}

// Host-only shims and test vectors live beside the firmware sources but are not firmware.
const NOT_FIRMWARE = /(^main\.c$|host|vector|test)/i;
const MAIN_DECL = /\bint\s+main\s*\(\s*(?:void)?\s*\)/;
const CNN_TIME_DEF = /^[ \t]*volatile\s+uint32_t\s+cnn_time\s*;/m;

async function harnessSources(dir: string): Promise<{ files: string[]; entry?: string }> {
  if (!existsSync(dir)) return { files: [] };
  const manifestPath = join(dir, 'harness.json');
  const manifest: HarnessManifest = existsSync(manifestPath) ? JSON.parse(await readFile(manifestPath, 'utf8')) : {};
  const files = manifest.sources ?? (await readdir(dir)).filter((f) => /\.[ch]$/.test(f) && !NOT_FIRMWARE.test(f)).sort();
  return { files, ...(manifest.entry ? { entry: manifest.entry } : {}) };
}

/**
 * Renames the izer's main and makes its fail() return; when the harness defines `cnn_time`, the
 * izer's definition becomes a declaration (one definition per program). Exported for tests.
 */
export function patchKatMain(source: string, harnessDefinesCnnTime = false): { text: string; failPatched: boolean } {
  if (!MAIN_DECL.test(source)) throw new Error('no `int main(void)` found');
  let text = source.replace(MAIN_DECL, `int ${KAT_MAIN}(void)`);
  // The izer's fail() prints "*** FAIL ***" and spins forever; return through qatwb_kat_failed()
  // instead, so the harness still starts (and can be asked why).
  const failBody = /(void\s+fail\s*\(\s*void\s*\)\s*\{[^}]*?)while\s*\(\s*1\s*\)\s*;/;
  const failPatched = failBody.test(text);
  if (failPatched) text = text.replace(failBody, '$1qatwb_kat_failed();');
  if (harnessDefinesCnnTime) text = text.replace(CNN_TIME_DEF, 'extern volatile uint32_t cnn_time; /* defined by the harness */');
  return { text: `/* Patched by QAT Workbench: main() renamed ${KAT_MAIN}(); see qatwb_main.c. */\nvoid qatwb_kat_failed(void);\n${text}`, failPatched };
}

function mainC(entry: string | undefined): string {
  const harnessOwnsMain = entry === undefined || entry === 'main';
  const decl = harnessOwnsMain ? `int ${HARNESS_MAIN}(void);` : `void ${entry}(int kat_passed);`;
  const call = harnessOwnsMain ? `return ${HARNESS_MAIN}();` : `${entry}(qatwb_kat_passed);\n  return 0;`;
  return `/* Added by QAT Workbench (src-main/toolchain/steps/harness.ts). Boot: the izer's known-answer
 * test runs first and prints its verdict; then the live-check harness takes over. */
#include <setjmp.h>

int ${KAT_MAIN}(void);
${decl}

/* 1 when the known-answer test passed at boot. */
int qatwb_kat_passed;

static jmp_buf kat_exit;

/* Called from the izer's fail() instead of spinning forever. */
void qatwb_kat_failed(void)
{
  longjmp(kat_exit, 1);
}

int main(void)
{
  if (setjmp(kat_exit) == 0) {
    ${KAT_MAIN}();
    qatwb_kat_passed = 1;
  }
  ${call}
}
`;
}

function modelH(input: HarnessInput, ckpt: Uint8Array, yaml: Uint8Array): string {
  // Same hash the host computes for the model (device/model-runtime.ts): CRC-32 of the checkpoint,
  // continued over the YAML bytes.
  const hash = `0x${(crc32(yaml, 0, yaml.length, crc32(ckpt)) >>> 0).toString(16).padStart(8, '0')}u`;
  const [c, ...dims] = input.inputShape;
  const length = input.inputShape.reduce((a, b) => a * b, 1);
  return `/* Generated by QAT Workbench: which model this firmware carries. Do not edit. */
#ifndef QATWB_MODEL_H
#define QATWB_MODEL_H
#define QATWB_MODEL_HASH ${hash}
#define QATWB_PREFIX "${input.prefix}"
#define QATWB_INPUT_CHANNELS ${c}
#define QATWB_INPUT_RANK ${dims.length}
#define QATWB_INPUT_DIM0 ${dims[0] ?? 1}
#define QATWB_INPUT_DIM1 ${dims[1] ?? 1}
#define QATWB_INPUT_LENGTH ${length}
#define QATWB_OUTPUT_COUNT ${input.outputCount}
/* The names resources/firmware/hal_msdk.c reads (1-D data: H = length, W = 1). */
#define QW_MODEL_HASH QATWB_MODEL_HASH
#define QW_INPUT_C ${c}
#define QW_INPUT_H ${dims[0] ?? 1}
#define QW_INPUT_W ${dims[1] ?? 1}
#define QW_OUTPUT_WEIGHT_BITS ${input.outputWeightBits ?? 8}
${scalingDefines(input.scaling).join('\n')}
#endif
`;
}

/** model.json's input scaling in an artifacts folder; null when there is no model.json or it records none. */
export async function artifactsInputScaling(dir: string): Promise<InputScaling | null> {
  const file = join(dir, 'model.json');
  if (!existsSync(file)) return null;
  try {
    return storedInputScaling(JSON.parse(await readFile(file, 'utf8'))) ?? null;
  } catch (error) {
    throw new ToolchainError({ tool: 'other', reason: 'bad-input', message: `${file}: ${(error as Error).message}; cannot state the input scaling in the firmware.`, fix: 'Re-export the model (qatwb train writes model.json).' });
  }
}

export async function addHarness(input: HarnessInput): Promise<HarnessResult> {
  const { files, entry: declaredEntry } = await harnessSources(input.harnessDir);
  if (files.length === 0) {
    return { added: false, files: [], note: `No harness sources in ${input.harnessDir}; the firmware runs the known-answer test only.` };
  }
  const mainPath = join(input.projectDir, 'main.c');
  const original = await readFile(mainPath, 'utf8');
  if (original.includes(KAT_MAIN)) return { added: true, files, note: 'The harness was already added to this project.' };

  const copies = new Map<string, string>();
  for (const f of files) {
    const src = join(input.harnessDir, f);
    if (!existsSync(src)) throw new ToolchainError({ tool: 'other', reason: 'bad-input', message: `Harness file ${src} is missing.`, fix: 'Reinstall the app (resources/firmware is incomplete).' });
    copies.set(basename(f), await readFile(src, 'utf8'));
  }
  const sources = [...copies.entries()].filter(([n]) => n.endsWith('.c'));
  const owner = sources.find(([, text]) => MAIN_DECL.test(text));
  const entry = declaredEntry ?? (owner ? 'main' : DEFAULT_ENTRY);
  if (entry === 'main' && !owner) {
    throw new ToolchainError({ tool: 'other', reason: 'bad-input', message: `${input.harnessDir}/harness.json says the harness defines main(), but no source does.`, fix: 'Fix the harness manifest.' });
  }
  for (const [name, text] of sources) {
    let t = text;
    if (entry === 'main' && name === owner?.[0]) t = t.replace(MAIN_DECL, `int ${HARNESS_MAIN}(void)`);
    // hal_msdk.c reads the model constants only when told qatwb_model.h exists.
    if (t.includes('QW_HAVE_MODEL_H')) t = `#define QW_HAVE_MODEL_H 1 /* added by QAT Workbench */\n${t}`;
    copies.set(name, t);
  }
  const harnessDefinesCnnTime = sources.some(([, text]) => CNN_TIME_DEF.test(text));
  let patched: { text: string; failPatched: boolean };
  try {
    patched = patchKatMain(original, harnessDefinesCnnTime);
  } catch (error) {
    throw new ToolchainError({ tool: 'ai8xize', reason: 'project-layout', message: `${mainPath}: ${(error as Error).message}; cannot add the live-check harness.`, fix: 'Re-synthesize; the generated main.c must define main().' });
  }
  for (const [name, text] of copies) await writeFile(join(input.projectDir, name), text);
  const ckpt = new Uint8Array(await readFile(input.checkpoint));
  const yaml = new Uint8Array(await readFile(input.yaml));
  await writeFile(join(input.projectDir, 'qatwb_model.h'), modelH(input, ckpt, yaml));
  await writeFile(join(input.projectDir, 'qatwb_main.c'), mainC(entry));
  await writeFile(mainPath, patched.text);
  return {
    added: true,
    files: [...copies.keys(), 'qatwb_main.c', 'qatwb_model.h'],
    ...(patched.failPatched ? {} : { note: 'The KAT fail() was not found; a failing KAT halts the device before the harness starts.' }),
  };
}
