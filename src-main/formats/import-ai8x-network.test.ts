// ai8x network YAML + checkpoint as a fine-tuning start: a quantized checkpoint (ADI's own izer
// fixture ecg1d-mixed) comes back to the float scale it was quantized from, so quantizing it again
// gives the same integers; a float pre-QAT checkpoint keeps its BatchNorm for the float phase;
// a YAML and checkpoint that do not belong together are refused with one message.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importAi8xNetwork } from './import-ai8x-network.ts';
import { ImportError } from './import-error.ts';
import { readTorchCheckpoint, writeTorchCheckpoint } from './torch-checkpoint.ts';
import type { NdArray } from './npy.ts';
import { quantizeLayer } from '../quant/quantize.ts';
import { seededRng } from '../data/random.ts';
import { conformance } from '../../test/support/fixtures.ts';

const yaml = readFileSync(conformance('ecg1d-mixed', 'network.yaml'), 'utf8');
const qckpt = readFileSync(conformance('ecg1d-mixed', 'checkpoint.pth.tar'));

/** A pre-QAT ai8x checkpoint of the same network: float weights, weight_bits 0, unfused BatchNorm on the convs. */
function floatCheckpoint(edit: (sd: Map<string, NdArray>) => void = () => {}, arch = 'ai87ecgnet'): Uint8Array {
  const q = readTorchCheckpoint(qckpt).stateDict;
  const rng = seededRng(5);
  const sd = new Map<string, NdArray>();
  const f = (shape: number[], gen: () => number): NdArray => ({ dtype: 'float32', shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, gen) });
  for (const L of ['conv1', 'conv2', 'conv3', 'conv4', 'fc']) {
    for (const k of ['output_shift', 'weight_bits', 'bias_bits', 'quantize_activation', 'adjust_output_shift', 'shift_quantile']) sd.set(`${L}.${k}`, f([1], () => 0));
    const w = q.get(`${L}.op.weight`)!;
    sd.set(`${L}.op.weight`, f(w.shape, () => (rng() - 0.5) * 0.4));
    sd.set(`${L}.op.bias`, f([w.shape[0]!], () => (rng() - 0.5) * 0.1));
    if (L !== 'fc') {
      const c = w.shape[0]!;
      sd.set(`${L}.bn.weight`, f([c], () => 0.5 + rng()));
      sd.set(`${L}.bn.bias`, f([c], () => rng() - 0.5));
      sd.set(`${L}.bn.running_mean`, f([c], () => rng() * 0.2));
      sd.set(`${L}.bn.running_var`, f([c], () => 0.5 + rng()));
      sd.set(`${L}.bn.num_batches_tracked`, { dtype: 'int64', shape: [], data: BigInt64Array.of(100n) });
    }
  }
  edit(sd);
  return writeTorchCheckpoint({ epoch: 3, arch, state_dict: sd, extras: {} });
}

function refusal(fn: () => unknown): ImportError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ImportError);
    return e as ImportError;
  }
  throw new Error('expected a refusal');
}

describe('ai8x network import', () => {
  it('a quantized checkpoint comes back to its float scale: w = q·2^shift/2^(b−1); 8-bit layers quantize again to the same integers and shifts', () => {
    const { model } = importAi8xNetwork({ yaml, checkpoint: qckpt, inputShape: [1, 512] });
    expect(model.layers.map((l) => l.weightBits)).toEqual([8, 4, 2, 8, 8]);
    for (const l of model.layers) {
      const scale = 2 ** (l.weightBits - 1) / 2 ** l.outputShift;
      expect(Array.from(l.init!.weight, (w) => w * scale), l.name).toEqual(Array.from(l.params!.weights));
      expect(Array.from(l.init!.bias ?? [], (b) => b * scale), l.name).toEqual(Array.from(l.params!.bias ?? []));
      if (l.weightBits !== 8) continue; // at 2/4 bits the largest weight need not reach the grid's top, so the shift may differ
      const again = quantizeLayer({ name: l.name, weight: l.init!.weight, bias: l.init!.bias }, l.weightBits);
      expect(again.info.outputShift + 0, l.name).toBe(l.outputShift);
      expect(Array.from(again.params.weights), l.name).toEqual(Array.from(l.params!.weights));
    }
  });

  it('a float pre-QAT checkpoint: float weights as the start, BatchNorm kept on the convolutions, no integer params yet', () => {
    const { model } = importAi8xNetwork({ yaml, checkpoint: floatCheckpoint(), inputShape: [1, 512] });
    expect(model.layers.map((l) => !!l.batchNorm)).toEqual([true, true, true, true, false]);
    expect(model.layers.every((l) => !l.params && l.outputShift === 0 && l.weightBits === 8)).toBe(true);
    const sd = readTorchCheckpoint(floatCheckpoint()).stateDict;
    expect(Array.from(model.layers[1]!.init!.weight)).toEqual(Array.from(sd.get('conv2.op.weight')!.data as Float32Array));
    expect(Array.from(model.layers[2]!.init!.bn!.runningVar)).toEqual(Array.from(sd.get('conv3.bn.running_var')!.data as Float32Array));
  });

  it('a checkpoint with fewer weights than the YAML has layers is refused, naming the checkpoint', () => {
    const e = refusal(() => importAi8xNetwork({ yaml, checkpoint: floatCheckpoint((sd) => sd.delete('conv3.op.weight')), checkpointName: 'short.pth.tar', inputShape: [1, 512] }));
    expect(e.code).toBe('ai8x-mismatch');
    expect(e.message).toMatch(/^short\.pth\.tar: .*5 weight tensors.*Fix: /);
  });

  it('an arch other than the YAML\'s, a BatchNorm of the wrong size, and BatchNorm left in a quantized checkpoint are refused', () => {
    expect(refusal(() => importAi8xNetwork({ yaml, checkpoint: floatCheckpoint(() => {}, 'ai85net5'), inputShape: [1, 512] })).message).toMatch(/does not match network architecture/);
    const wrongBn = floatCheckpoint((sd) => sd.set('conv2.bn.weight', { dtype: 'float32', shape: [3], data: new Float32Array(3) }));
    expect(refusal(() => importAi8xNetwork({ yaml, checkpoint: wrongBn, inputShape: [1, 512] })).node).toBe('conv2.bn');
    const q = readTorchCheckpoint(qckpt);
    q.stateDict.set('conv1.bn.weight', { dtype: 'float32', shape: [16], data: new Float32Array(16).fill(1) });
    const withBn = writeTorchCheckpoint({ epoch: 1, arch: 'ai87ecgnet', state_dict: q.stateDict, extras: {} });
    expect(refusal(() => importAi8xNetwork({ yaml, checkpoint: withBn, inputShape: [1, 512] })).code).toBe('batchnorm-quantized');
  });

  it('a kernel size that contradicts the weights is refused with the YAML field', () => {
    const e = refusal(() => importAi8xNetwork({ yaml: yaml.replace('kernel_size: 5\n    pad: 2\n    activate: ReLU\n    data_format', 'kernel_size: 3\n    pad: 2\n    activate: ReLU\n    data_format'), checkpoint: qckpt, inputShape: [1, 512] }));
    expect(e.message).toMatch(/layers\[0\]\.kernel_size/);
  });
});
