// The checkpoint verification shown after QAT and before an export (ai8x rules, max78002.md §1.13,
// §2.2-§2.3): no BatchNorm left (it is folded at the QAT start), the QAT parameters present on every
// layer with weights (weight_bits, bias_bits, output_shift, quantize_activation, adjust_output_shift;
// newer ai8x also writes shift_quantile, which older quantize.py output lacks, so it is not required),
// every weight on the layer's b-bit grid and every bias an 8-bit value once the izer divides it by 2^(b−1). Read back from the bytes
// that are written, so it judges the file the izer will read, not our intent.
import type { Model } from '../ir/graph.ts';
import type { NdArray } from './npy.ts';
import { readTorchCheckpoint } from './torch-checkpoint.ts';
import { opHasWeights } from '../ir/ops/registry.ts';

export interface Verification {
  /** BatchNorm tensors (checkpoint) or layers (model) not yet folded; must be 0. */
  batchNormLeft: number;
  /** Layers with weights that carry every QAT parameter. */
  qatParameters: number;
  /** Every weight (and bias) is an integer of the layer's bit width. */
  onGrid: boolean;
  /** Layers with weights (qatParameters must equal it). */
  weightLayers: number;
  /** All three hold. */
  ok: boolean;
  /** What failed, in plain words (empty when ok). */
  problems: string[];
}

export const QAT_KEYS = ['weight_bits', 'bias_bits', 'output_shift', 'quantize_activation', 'adjust_output_shift'] as const;

const finish = (v: Omit<Verification, 'ok' | 'problems'>, problems: string[]): Verification => {
  if (v.batchNormLeft > 0) problems.unshift(`${v.batchNormLeft} BatchNorm ${v.batchNormLeft === 1 ? 'entry is' : 'entries are'} left (not folded).`);
  if (v.qatParameters !== v.weightLayers) problems.push(`QAT parameters on ${v.qatParameters} of ${v.weightLayers} layers with weights.`);
  return { ...v, ok: problems.length === 0, problems };
};

/** Verifies a written izer checkpoint (bytes of checkpoint.pth.tar). */
export function verifyCheckpoint(bytes: Uint8Array, file = 'checkpoint.pth.tar'): Verification {
  const sd = readTorchCheckpoint(bytes, file).stateDict;
  const problems: string[] = [];
  const batchNormLeft = [...sd.keys()].filter((k) => /\.bn\.[^.]+$/.test(k)).length;
  const weights = [...sd.keys()].filter((k) => k.endsWith('.weight') && !/\.bn\.weight$/.test(k));
  let qatParameters = 0;
  let onGrid = true;
  for (const key of weights) {
    const parts = key.split('.');
    const L = parts.slice(0, parts.length >= 3 ? -2 : -1).join('.');
    const has = QAT_KEYS.every((k) => sd.has(`${L}.${k}`));
    const bits = sd.has(`${L}.weight_bits`) ? Number(sd.get(`${L}.weight_bits`)!.data[0]) : 0;
    if (has && [1, 2, 4, 8].includes(bits)) qatParameters++;
    else { problems.push(`${L}: ${has ? `weight_bits ${bits} is not 1, 2, 4 or 8` : `missing ${QAT_KEYS.filter((k) => !sd.has(`${L}.${k}`)).join(', ')}`}.`); continue; }
    const off = offGrid(sd.get(key)!, bits, 1);
    const bias = sd.get(key.replace(/weight$/, 'bias'));
    const offB = bias ? offGrid(bias, 8, 2 ** (bits - 1), Math.floor) : -1;
    if (off >= 0 || offB >= 0) {
      onGrid = false;
      problems.push(off >= 0 ? `${key}[${off}] is not a ${bits}-bit integer.` : `${key.replace(/weight$/, 'bias')}[${offB}] is outside the 8-bit bias range once divided by ${2 ** (bits - 1)}.`);
    }
  }
  return finish({ batchNormLeft, qatParameters, onGrid, weightLayers: weights.length }, problems);
}

/**
 * Index of the first value that is not an integer in the b-bit range after dividing by `scale`, or −1.
 * Biases are judged as the izer reads them: floor(bias / 2^(b−1)) must be an 8-bit value.
 */
function offGrid(t: NdArray, bits: number, scale: number, read: (v: number) => number = (v) => v): number {
  const lo = -(2 ** (bits - 1)), hi = 2 ** (bits - 1) - 1;
  for (let i = 0; i < t.data.length; i++) {
    const v = read(Number(t.data[i]) / scale);
    if (!Number.isInteger(v) || v < lo || v > hi) return i;
  }
  return -1;
}


/** The same three facts for an IR model (an import, before training). */
export function verifyModel(model: Model): Verification {
  const problems: string[] = [];
  const weighted = model.layers.filter((l) => opHasWeights(l.op));
  const withParams = weighted.filter((l) => l.params);
  let onGrid = withParams.length === weighted.length && weighted.length > 0;
  for (const l of withParams) {
    const lo = -(2 ** (l.weightBits - 1)), hi = 2 ** (l.weightBits - 1) - 1;
    const bad = l.params!.weights.findIndex((w) => w < lo || w > hi);
    if (bad >= 0) { onGrid = false; problems.push(`${l.name}: weight ${bad} is outside the ${l.weightBits}-bit range.`); }
  }
  if (withParams.length < weighted.length) problems.push(`${weighted.length - withParams.length} layer(s) have float weights only (train with QAT to quantize them).`);
  return finish({ batchNormLeft: model.layers.filter((l) => l.batchNorm).length, qatParameters: withParams.length, onGrid, weightLayers: weighted.length }, problems);
}
