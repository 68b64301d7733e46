// NPY import: a features array x.npy of shape (N, L), (N, C, L) or (N, C, H, W) plus a labels
// array y.npy of shape (N,) or (N, 1) holding integer class indices.
import { readNpy, type NdArray } from '../formats/npy.ts';
import { FormatError } from '../formats/format-error.ts';
import type { Dataset } from './dataset.ts';
import { dataError } from './data-error.ts';
import { scaleToTrainingRange, type Scaling } from './normalize.ts';
import { encodeLabels } from './csv.ts';

export interface NpyPairOptions {
  xFile: string;
  yFile: string;
  /**
   * Feature scaling. Default: integer arrays within [-128, 127] are int8 codes; float arrays
   * within [0, 1] are unit values; anything else is scaled min-max.
   */
  scaling?: Scaling;
}

function numbers(a: NdArray, file: string, what: string): Float64Array {
  if (a.dtype === 'bool') throw dataError({ file, column: 'dtype' }, `${what} are bool; expected a numeric dtype.`);
  const src = a.data;
  const out = new Float64Array(src.length);
  const per = Math.max(1, src.length / Math.max(1, a.shape[0] ?? 1));
  for (let i = 0; i < src.length; i++) {
    const v = Number(src[i]!);
    if (!Number.isFinite(v)) throw dataError({ file, row: Math.floor(i / per) + 1 }, `${what} of sample ${Math.floor(i / per)} hold ${v}; expected finite numbers.`);
    out[i] = v;
  }
  return out;
}

function read(bytes: Uint8Array, file: string): NdArray {
  try {
    return readNpy(bytes, file);
  } catch (error) {
    if (error instanceof FormatError) throw dataError({ file, column: error.field }, error.message.replace(`${file}: ${error.field}: `, ''));
    throw error;
  }
}

export function parseNpyPair(xBytes: Uint8Array, yBytes: Uint8Array, options: NpyPairOptions): Dataset {
  const { xFile, yFile } = options;
  const xa = read(xBytes, xFile);
  const ya = read(yBytes, yFile);
  if (xa.shape.length < 2 || xa.shape.length > 4) {
    throw dataError({ file: xFile, column: 'shape' }, `shape (${xa.shape.join(', ')}); expected (N, L), (N, C, L) or (N, C, H, W).`);
  }
  const n = xa.shape[0]!;
  if (n === 0) throw dataError({ file: xFile, column: 'shape' }, 'holds no samples; expected N ≥ 1 in shape (N, ...).');
  if (!(ya.shape.length === 1 || (ya.shape.length === 2 && ya.shape[1] === 1))) {
    throw dataError({ file: yFile, column: 'shape' }, `shape (${ya.shape.join(', ')}); expected (N,) or (N, 1) class labels.`);
  }
  if (ya.shape[0] !== n) {
    throw dataError({ file: yFile, column: 'shape' }, `${ya.shape[0]} labels, but ${xFile} holds ${n} samples; expected one label per sample.`);
  }
  const channels = xa.shape.length === 2 ? 1 : xa.shape[1]!;
  const dims = xa.shape.length === 2 ? [xa.shape[1]!] : xa.shape.slice(2);
  const raw = numbers(xa, xFile, 'features');
  const yv = numbers(ya, yFile, 'labels');
  const bad = yv.findIndex((v) => !Number.isInteger(v) || v < 0);
  if (bad >= 0) throw dataError({ file: yFile, row: bad + 1 }, `label ${yv[bad]} is not a class index; expected integers ≥ 0.`);
  const { y, classNames } = encodeLabels(Array.from(yv, String), yFile);
  let scaling = options.scaling;
  if (!scaling) {
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of raw) (lo = v < lo ? v : lo), (hi = v > hi ? v : hi);
    const integer = xa.dtype !== 'float32' && xa.dtype !== 'float64';
    scaling = integer && lo >= -128 && hi <= 127 ? { kind: 'int8' } : lo >= 0 && hi <= 1 ? { kind: 'unit' } : { kind: 'minmax' };
  }
  const x = Float32Array.from(raw);
  const range = scaleToTrainingRange(x, scaling);
  return { name: xFile.replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, ''), count: n, channels, dims, x, y, classNames, scaling: { kind: scaling.kind, ...range } };
}
