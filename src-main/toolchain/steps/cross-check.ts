// Step 2: the izer's own expected output for the sample must equal our bit-exact simulator's on
// the same checkpoint, YAML and sample. A difference means the simulator (and so the live check)
// would disagree with the device; the flow stops and shows both outputs.
import { readInputFile, readInputText } from '../../platform/read-input.ts';
import type { CrossCheck } from '../../api/toolchain.api.ts';
import type { Artifacts } from '../artifacts.ts';
import { ToolchainError } from '../toolchain-error.ts';

export interface CrossCheckInput {
  artifacts: Pick<Artifacts, 'checkpoint' | 'yaml' | 'sampleInput'>;
  izerExpectedNpy: string;
  device?: 'MAX78002' | 'MAX78000';
}

const MAX_LISTED = 32;

export async function crossCheck(input: CrossCheckInput): Promise<CrossCheck> {
  // Loaded lazily: the simulator and importer are large and only needed here.
  const [{ readNpy, toNumbers }, { importAi8x }, { simulate }] = await Promise.all([
    import('../../formats/npy.ts'),
    import('../../formats/import-ai8x.ts'),
    import('../../sim/simulate.ts'),
  ]);
  const izerArr = readNpy(await readInputFile(input.izerExpectedNpy, 'sample'), input.izerExpectedNpy);
  const izer = Array.from(toNumbers(izerArr, input.izerExpectedNpy) as ArrayLike<number>);
  let simulator: number[];
  try {
    const sample = readNpy(await readInputFile(input.artifacts.sampleInput, 'sample'), input.artifacts.sampleInput);
    const { model } = importAi8x({
      checkpoint: await readInputFile(input.artifacts.checkpoint, 'checkpoint'),
      checkpointName: input.artifacts.checkpoint,
      yaml: await readInputText(input.artifacts.yaml, 'yaml'),
      yamlName: input.artifacts.yaml,
      sample,
      sampleName: input.artifacts.sampleInput,
      ...(input.device ? { device: input.device } : {}),
    });
    const x = Int32Array.from(toNumbers(sample, input.artifacts.sampleInput) as ArrayLike<number>);
    simulator = Array.from(simulate(model, x).output);
  } catch (error) {
    return { status: 'unavailable', reason: `Our simulator could not run this model: ${(error as Error).message}`, izer, shape: izerArr.shape };
  }
  return compareOutputs(izer, simulator, izerArr.shape);
}

export function compareOutputs(izer: readonly number[], simulator: readonly number[], shape?: number[]): CrossCheck {
  const differences: number[] = [];
  const n = Math.max(izer.length, simulator.length);
  for (let i = 0; i < n && differences.length < MAX_LISTED; i++) if (izer[i] !== simulator[i]) differences.push(i);
  return {
    status: differences.length === 0 ? 'ok' : 'mismatch',
    izer: [...izer],
    simulator: [...simulator],
    ...(shape ? { shape } : {}),
    ...(differences.length ? { differences } : {}),
    ...(izer.length !== simulator.length ? { reason: `The izer gives ${izer.length} values, the simulator ${simulator.length}.` } : {}),
  };
}

/** Two-column text of both outputs, marking the differing rows, for logs and the CLI. */
export function formatCrossCheck(c: CrossCheck): string[] {
  if (c.status === 'unavailable') return [`cross-check unavailable: ${c.reason}`];
  const out = [`cross-check ${c.status}: izer vs simulator`];
  const n = Math.max(c.izer?.length ?? 0, c.simulator?.length ?? 0);
  for (let i = 0; i < n; i++) {
    const a = c.izer?.[i];
    const b = c.simulator?.[i];
    out.push(`  [${i}] ${String(a).padStart(12)} ${String(b).padStart(12)}${a !== b ? '   <- differs' : ''}`);
  }
  return out;
}

/** crossCheck in a worker thread (the caller's event loop stays free); cancel terminates it. */
export async function crossCheckInWorker(input: CrossCheckInput, signal?: AbortSignal): Promise<CrossCheck> {
  const { startWorker } = await import('../../platform/worker.ts');
  const worker = startWorker(new URL('./cross-check.worker.ts', import.meta.url), { workerData: input });
  try {
    return await new Promise<CrossCheck>((resolve, reject) => {
      signal?.addEventListener('abort', () => reject(new ToolchainError({ tool: 'cross-check', reason: 'cancelled', message: 'The cross-check was cancelled.', fix: 'Start it again when ready.' })), { once: true });
      worker.on('message', (m: { type: string; result?: CrossCheck; message?: string }) => {
        if (m.type === 'done') resolve(m.result!);
        else reject(new ToolchainError({ tool: 'cross-check', reason: 'bad-input', message: `The cross-check could not read its inputs: ${m.message}`, fix: 'Re-export the artifacts and synthesize again.' }));
      });
      worker.on('error', reject);
      worker.on('exit', (code) => reject(new Error(`cross-check worker exited (${code}).`)));
    });
  } finally {
    await worker.terminate();
  }
}
