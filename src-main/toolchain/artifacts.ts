// The exported artifacts folder the izer is fed from (written by the export step): checkpoint,
// network YAML, sample input, and optional float ONNX and quantization report. Missing required
// files are named with what each is for.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ToolchainError } from './toolchain-error.ts';

export interface Artifacts {
  dir: string;
  checkpoint: string;
  yaml: string;
  sampleInput: string;
  /** Our own expected output for the sample, when the export wrote one. */
  sampleExpected?: string;
  onnx?: string;
  quantization?: string;
}

const REQUIRED: [keyof Artifacts, string, string][] = [
  ['checkpoint', 'checkpoint.pth.tar', 'the quantized ai8x checkpoint'],
  ['yaml', 'network.yaml', 'the network description'],
  ['sampleInput', 'sample.input.npy', 'the int64 sample input for the known-answer test'],
];

export function resolveArtifacts(dirIn: string): Artifacts {
  const dir = resolve(dirIn);
  if (!existsSync(dir)) {
    throw new ToolchainError({ tool: 'ai8xize', reason: 'bad-input', message: `The artifacts folder ${dir} does not exist.`, fix: 'Export the model first (Export → izer-ready files), then pick that folder.' });
  }
  const out: Partial<Artifacts> = { dir };
  for (const [key, name, what] of REQUIRED) {
    const p = join(dir, name);
    if (!existsSync(p)) {
      throw new ToolchainError({ tool: 'ai8xize', reason: 'bad-input', message: `${p} is missing (${what}).`, fix: 'Re-export the model into this folder; the export writes checkpoint.pth.tar, network.yaml and sample.input.npy.' });
    }
    (out as Record<string, string>)[key] = p;
  }
  for (const [key, name] of [['sampleExpected', 'sample.expected.npy'], ['onnx', 'model.onnx'], ['quantization', 'quantization.json']] as const) {
    if (existsSync(join(dir, name))) out[key] = join(dir, name);
  }
  return out as Artifacts;
}
