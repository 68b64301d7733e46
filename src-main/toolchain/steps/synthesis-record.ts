// The record synthesis leaves in the generated project (qatwb-synthesis.json): inputs, hashes and
// the cross-check verdict. Build and flash read it so a project whose izer output disagreed with
// our simulator is not deployed by accident, whichever command or window starts the next step.
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CrossCheck } from '../../api/toolchain.api.ts';
import { writeFileAtomic } from '../../project/atomic-write.ts';
import { ToolchainError } from '../toolchain-error.ts';

export const RECORD_FILE = 'qatwb-synthesis.json';

export interface SynthesisRecord {
  version: 1;
  createdAt: string;
  prefix: string;
  artifactsDir: string;
  checkpointSha256: string;
  yamlSha256: string;
  sampleSha256: string;
  command: string[];
  crossCheck: CrossCheck;
  harness: { added: boolean; files: string[]; note?: string };
  /** Deployment bundle that build and flash append their logs to. */
  bundleDir?: string;
}

export async function writeSynthesisRecord(projectDir: string, record: SynthesisRecord): Promise<void> {
  await writeFileAtomic(join(projectDir, RECORD_FILE), JSON.stringify(record, null, 2) + '\n');
}

export async function readSynthesisRecord(projectDir: string): Promise<SynthesisRecord | undefined> {
  const p = join(projectDir, RECORD_FILE);
  if (!existsSync(p)) return undefined;
  return JSON.parse(await readFile(p, 'utf8')) as SynthesisRecord;
}

/** Refuses to continue a flow whose cross-check found a difference. */
export async function assertFlowAllowed(projectDir: string): Promise<void> {
  const rec = await readSynthesisRecord(projectDir);
  if (rec?.crossCheck.status === 'mismatch') {
    throw new ToolchainError({
      tool: 'cross-check', reason: 'cross-check-mismatch',
      message: `The izer's expected output for the sample differs from our simulator's (see ${RECORD_FILE}); the device would disagree with the live check.`,
      fix: 'Do not deploy this build: report the model, YAML and both outputs (the bundle holds them), or re-export and synthesize again.',
    });
  }
}
