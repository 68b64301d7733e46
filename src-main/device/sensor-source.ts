// Where windows come from for the virtual device's sensor and for the host-side check: the MNIST
// digits shipped with the app, an int8 .npy file (N, C, ...) of accelerator codes, or raw sensor
// values (a CSV in the training file's layout, a float .npy, or an integer .npy marked raw) that are
// scaled to codes with the scaling the model was trained with (model.json `input.scaling`), so the
// host, the simulator, the float model and the device all see the same int8 numbers.
import { join } from 'node:path';
import { ApiError } from '../api/contract.ts';
import { readCsvTable } from '../data/csv.ts';
import { loadMnistExample } from '../data/mnist.ts';
import { scaleRawWindow, type InputScaling } from '../data/normalize.ts';
import { readNpy } from '../formats/npy.ts';
import { readInputFile } from '../platform/read-input.ts';
import { int8Window } from './model-runtime.ts';

export interface WindowSet {
  name: string;
  windows: Int8Array[];
  labels?: Int32Array;
  /** Set when the source held raw values: the scaling that turned them into these int8 codes. */
  scaledWith?: InputScaling;
}

/** What a window source needs to know about the model the windows are for. */
export interface WindowTarget {
  inputLength: number;
  /** Classes of the model's output (string labels of a CSV must name them all). */
  outputCount?: number;
  /** The model's recorded input scaling (model.json `input.scaling`). */
  scaling?: InputScaling;
  /** The artifacts folder (named when raw windows cannot be scaled). */
  artifactsDir?: string;
}

export interface WindowSourceOptions {
  /** Labels .npy, one per window. */
  labels?: string;
  /** An integer .npy holds raw sensor values (e.g. ADC counts), not int8 codes. */
  raw?: boolean;
}

/** The model's scaling for raw windows from `file`, or a clear refusal naming model.json and its field. */
function scalingFor(target: WindowTarget, file: string, why: string): InputScaling {
  if (target.scaling) return target.scaling;
  const where = target.artifactsDir ? join(target.artifactsDir, 'model.json') : 'the artifacts\' model.json';
  throw new ApiError('invalid-data',
    `${file} holds raw values (${why}), but ${where} has no input.scaling: the check cannot know how the model scaled its training data, and guessing would compare different numbers. ` +
    'Export the model again (qatwb train writes input.scaling into model.json), or give windows already scaled to int8 codes (an int8 .npy such as the export\'s test.windows.npy).', 'source');
}

function splitWindows(values: ArrayLike<number>, n: number, length: number, toCodes: (w: ArrayLike<number>, i: number) => Int8Array): Int8Array[] {
  const sub = values as ArrayLike<number> & { subarray(s: number, e: number): ArrayLike<number> };
  return Array.from({ length: n }, (_, i) => toCodes(sub.subarray(i * length, (i + 1) * length), i));
}

/** Reads (N, ...inputShape) windows; a file holding exactly one window (inputShape) also works. */
export async function readWindows(file: string, target: WindowTarget, opts: WindowSourceOptions = {}): Promise<WindowSet> {
  const { inputLength } = target;
  const a = readNpy(await readInputFile(file, 'sample', 'source'), file);
  if (a.dtype === 'bool') throw new ApiError('invalid-data', `${file}: dtype bool; windows must be numbers.`, 'source');
  if (a.data.length % inputLength !== 0) {
    throw new ApiError('invalid-data', `${file}: shape (${a.shape.join(', ')}) has ${a.data.length} values, not a whole number of ${inputLength}-value windows for this model.`, 'source');
  }
  const n = a.data.length / inputLength;
  const raw = a.dtype.startsWith('float') || opts.raw === true;
  const set: WindowSet = { name: file, windows: [] };
  if (raw) {
    const scaling = scalingFor(target, file, a.dtype.startsWith('float') ? `dtype ${a.dtype}` : 'marked raw');
    const values = Float64Array.from(a.data as ArrayLike<number | bigint>, Number);
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new ApiError('invalid-data', `${file}: window ${Math.floor(bad / inputLength)}, element ${bad % inputLength} is ${values[bad]}; expected finite raw values.`, 'source');
    set.windows = splitWindows(values, n, inputLength, (w) => scaleRawWindow(w, scaling));
    set.scaledWith = scaling;
  } else {
    const data = a.data as ArrayLike<number | bigint> & { subarray(s: number, e: number): ArrayLike<number | bigint> };
    for (let i = 0; i < n; i++) {
      set.windows.push(int8Window(data.subarray(i * inputLength, (i + 1) * inputLength), `${file} window ${i} (an integer .npy holds int8 codes; mark raw values as raw)`));
    }
  }
  if (opts.labels) set.labels = await readLabels(opts.labels, n, file);
  return set;
}

async function readLabels(labelsFile: string, n: number, file: string): Promise<Int32Array> {
  const y = readNpy(await readInputFile(labelsFile, 'sample', 'labels'), labelsFile);
  if (y.data.length !== n) throw new ApiError('invalid-data', `${labelsFile}: ${y.data.length} labels for ${n} windows in ${file}.`, 'labels');
  return Int32Array.from(y.data as ArrayLike<number | bigint>, (v) => Number(v));
}

/**
 * Raw windows from a CSV in the training file's layout: one window per row, the model's input
 * length in values plus an optional label column (detected as training detects it).
 */
export async function readCsvWindows(file: string, target: WindowTarget, opts: WindowSourceOptions = {}): Promise<WindowSet> {
  const text = new TextDecoder().decode(await readInputFile(file, 'dataset', 'source'));
  const table = readCsvTable(text, { file, features: target.inputLength });
  const scaling = scalingFor(target, file, 'a CSV of sensor values');
  const set: WindowSet = {
    name: file,
    windows: splitWindows(table.x, table.count, target.inputLength, (w) => scaleRawWindow(w, scaling)),
    scaledWith: scaling,
  };
  if (opts.labels) set.labels = await readLabels(opts.labels, table.count, file);
  else if (table.rawLabels) set.labels = csvLabels(table.rawLabels, file, target.outputCount);
  return set;
}

/**
 * Class indices of a CSV's label cells. Integer labels are the class index (as in training); class
 * names map in sorted order, as training mapped them, which holds only when every class appears.
 */
function csvLabels(raw: string[], file: string, classes?: number): Int32Array {
  if (raw.every((l) => /^\s*\d+(\.0*)?\s*$/.test(l))) {
    const y = Int32Array.from(raw, Number);
    const bad = classes === undefined ? -1 : y.findIndex((v) => v >= classes);
    if (bad >= 0) throw new ApiError('invalid-data', `${file}: row ${bad + 1} has label ${y[bad]}, but the model has ${classes} classes (0..${classes! - 1}).`, 'source');
    return y;
  }
  const names = [...new Set(raw)].sort();
  if (classes !== undefined && names.length !== classes) {
    throw new ApiError('invalid-data', `${file}: the labels name ${names.length} classes (${names.slice(0, 6).join(', ')}${names.length > 6 ? ', …' : ''}), the model has ${classes}; named classes map to indices only when every class appears (as in the training file). Use integer labels, or a labels .npy.`, 'source');
  }
  const index = new Map(names.map((n, i) => [n, i]));
  return Int32Array.from(raw, (l) => index.get(l)!);
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

/** "mnist", a .csv of raw values, or an .npy (int8 codes; raw when float or `raw`). */
export async function loadWindowSource(spec: string, target: WindowTarget, opts: WindowSourceOptions = {}): Promise<WindowSet> {
  if (spec === 'mnist') {
    if (target.inputLength !== 784) throw new ApiError('invalid-data', `The MNIST source gives 1×28×28 windows, but this model takes ${target.inputLength} values.`, 'source');
    return mnistWindows();
  }
  if (/\.(csv|tsv|txt)$/i.test(spec)) return readCsvWindows(spec, target, opts);
  return readWindows(spec, target, opts);
}
