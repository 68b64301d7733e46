// Where windows come from for the virtual device's sensor and for the host-side check: the MNIST
// digits shipped with the app, or an int8 .npy file (N, C, ...) with optional labels.
import { ApiError } from '../api/contract.ts';
import { loadMnistExample } from '../data/mnist.ts';
import { readNpy } from '../formats/npy.ts';
import { readInputFile } from '../platform/read-input.ts';
import { int8Window } from './model-runtime.ts';

export interface WindowSet {
  name: string;
  windows: Int8Array[];
  labels?: Int32Array;
}

/** Reads (N, ...inputShape) windows; a file holding exactly one window (inputShape) also works. */
export async function readWindows(file: string, inputLength: number, labelsFile?: string): Promise<WindowSet> {
  const a = readNpy(await readInputFile(file, 'sample', 'source'), file);
  if (a.dtype.startsWith('float')) {
    throw new ApiError('invalid-data', `${file}: dtype ${a.dtype}; windows must be integer accelerator codes in [-128, 127] (int8 or int64, as the izer's sample input).`, 'source');
  }
  if (a.data.length % inputLength !== 0) {
    throw new ApiError('invalid-data', `${file}: shape (${a.shape.join(', ')}) has ${a.data.length} values, not a whole number of ${inputLength}-value windows for this model.`, 'source');
  }
  const n = a.data.length / inputLength;
  const windows: Int8Array[] = [];
  for (let i = 0; i < n; i++) {
    windows.push(int8Window((a.data as ArrayLike<number | bigint> & { subarray(s: number, e: number): ArrayLike<number | bigint> }).subarray(i * inputLength, (i + 1) * inputLength), `${file} window ${i}`));
  }
  const set: WindowSet = { name: file, windows };
  if (labelsFile) {
    const y = readNpy(await readInputFile(labelsFile, 'sample', 'labels'), labelsFile);
    if (y.data.length !== n) throw new ApiError('invalid-data', `${labelsFile}: ${y.data.length} labels for ${n} windows in ${file}.`, 'labels');
    set.labels = Int32Array.from(y.data as ArrayLike<number | bigint>, (v) => Number(v));
  }
  return set;
}

/** The MNIST digits as int8 windows with labels, interleaved by class so any prefix is balanced. */
export async function mnistWindows(): Promise<WindowSet> {
  const ds = await loadMnistExample();
  const per = 784;
  const byClass: number[][] = Array.from({ length: 10 }, () => []);
  for (let i = 0; i < ds.count; i++) byClass[ds.y[i]!]!.push(i);
  const order: number[] = [];
  for (let k = 0; order.length < ds.count; k++) for (const c of byClass) if (k < c.length) order.push(c[k]!);
  const windows = order.map((i) => {
    const w = new Int8Array(per);
    for (let j = 0; j < per; j++) w[j] = Math.round(ds.x[i * per + j]! * 128);
    return w;
  });
  return { name: 'MNIST digits', windows, labels: Int32Array.from(order, (i) => ds.y[i]!) };
}

export async function loadWindowSource(spec: string, inputLength: number, labelsFile?: string): Promise<WindowSet> {
  if (spec === 'mnist') {
    if (inputLength !== 784) throw new ApiError('invalid-data', `The MNIST source gives 1×28×28 windows, but this model takes ${inputLength} values.`, 'source');
    return mnistWindows();
  }
  return readWindows(spec, inputLength, labelsFile);
}
