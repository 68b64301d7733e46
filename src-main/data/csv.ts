// CSV import: one sample per row, feature columns plus one label column (e.g. the MIT-BIH heartbeat
// CSV: 187 float columns and the class last, no header; or a header row naming the label column).
// Pure text → Dataset; errors name the file, the row and the column.
import type { Dataset } from './dataset.ts';
import { dataError } from './data-error.ts';
import { scaleToTrainingRange, type Scaling } from './normalize.ts';

export interface CsvOptions {
  /** File name used in error messages and as the data set name. */
  file: string;
  /**
   * The label column: 0-based index (negative counts from the end), or a header name.
   * Default: a header column named label/class/target/y if there is one, else the last column.
   */
  labelColumn?: number | string;
  /** Feature scaling to [0,1] before ai8x.normalize; default min-max over the whole file. */
  scaling?: Scaling;
  /** Per-sample shape of the features (channels × dims); default 1 channel × [features]. */
  shape?: { channels: number; dims: number[] };
}

export interface CsvDataset extends Dataset {
  /** Raw value range that mapped to [0, 1] (to scale live data the same way). */
  scaledRange: { min: number; max: number };
}

function detectDelimiter(line: string): string {
  for (const d of [',', ';', '\t']) if (line.includes(d)) return d;
  return ',';
}

function splitRow(line: string, delimiter: string): string[] {
  if (!line.includes('"')) return line.split(delimiter).map((c) => c.trim());
  const cells: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') (cur += '"'), i++;
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === delimiter) cells.push(cur.trim()), (cur = '');
    else cur += ch;
  }
  cells.push(cur.trim());
  return cells;
}

const isNumeric = (cell: string): boolean => cell !== '' && Number.isFinite(Number(cell));
const LABEL_NAMES = ['label', 'class', 'target', 'y'];

/** A CSV's numbers before any scaling: features row by row, and the label cells (null: no label column). */
export interface CsvTable {
  count: number;
  features: number;
  /** count × features raw values, as float32 (as training holds them before scaling). */
  x: Float32Array;
  rawLabels: string[] | null;
}

export interface CsvTableOptions {
  file: string;
  labelColumn?: number | string;
  /**
   * Feature values per row when known (the live check: the model's input length). A row of exactly
   * that many columns has no label column; otherwise one column more is expected, the label.
   */
  features?: number;
}

/** Reads the rows of a CSV as raw numbers; errors name the file, the row and the column. */
export function readCsvTable(text: string, options: CsvTableOptions): CsvTable {
  const { file } = options;
  const lines = text.split(/\r?\n/);
  while (lines.length && lines[lines.length - 1]!.trim() === '') lines.pop();
  let first = 0;
  while (first < lines.length && lines[first]!.trim() === '') first++;
  if (first >= lines.length) throw dataError({ file }, 'the file is empty; expected one sample per row.');
  const delimiter = detectDelimiter(lines[first]!);
  const head = splitRow(lines[first]!, delimiter);
  const width = head.length;
  const unlabelled = options.features !== undefined && width === options.features && options.labelColumn === undefined;
  if (options.features !== undefined && !unlabelled && width !== options.features + 1) {
    throw dataError({ file, row: first + 1 }, `found ${width} columns; expected ${options.features} feature values per row (the model's input), optionally plus a label column.`);
  }
  if (!unlabelled && width < 2) throw dataError({ file, row: first + 1 }, `found ${width} column; expected features plus a label column.`);
  // A header row has more non-numeric cells than the next row (string labels alone are not a header).
  const nonNumeric = (cells: string[]): number =>
    cells.filter((c) => !isNumeric(c) && !/^[+-]?(nan|inf(inity)?)?$/i.test(c)).length;
  let next = first + 1;
  while (next < lines.length && lines[next]!.trim() === '') next++;
  const hasHeader = next < lines.length
    ? nonNumeric(head) > nonNumeric(splitRow(lines[next]!, delimiter))
    : nonNumeric(head) > 0;
  const header = hasHeader ? head : undefined;
  let label = -1;
  const lc = options.labelColumn;
  if (unlabelled) label = -1;
  else if (typeof lc === 'string' && !/^-?\d+$/.test(lc)) {
    if (!header) throw dataError({ file, column: lc }, `label column "${lc}" given by name, but the file has no header row.`);
    label = header.indexOf(lc);
    if (label < 0) throw dataError({ file, row: first + 1, column: lc }, `no column named "${lc}" in the header (${header.slice(0, 8).join(', ')}${width > 8 ? ', …' : ''}).`);
  } else if (lc !== undefined) {
    const n = Number(lc);
    label = n < 0 ? width + n : n;
    if (label < 0 || label >= width) throw dataError({ file, column: n }, `label column index ${n} is outside the ${width} columns (0..${width - 1}).`);
  } else {
    const named = header?.findIndex((h) => LABEL_NAMES.includes(h.toLowerCase())) ?? -1;
    label = named >= 0 ? named : width - 1;
  }
  const features = label < 0 ? width : width - 1;
  const start = hasHeader ? first + 1 : first;
  const rows = lines.length - start;
  if (rows <= 0) throw dataError({ file }, 'the file has a header but no data rows.');
  const x = new Float32Array(rows * features);
  const rawLabels: string[] = new Array(rows);
  let count = 0;
  for (let r = start; r < lines.length; r++) {
    const line = lines[r]!;
    if (line.trim() === '') continue;
    const cells = splitRow(line, delimiter);
    if (cells.length !== width) {
      throw dataError({ file, row: r + 1 }, `found ${cells.length} columns; expected ${width} like the first row (ragged CSV).`);
    }
    let o = count * features;
    for (let c = 0; c < width; c++) {
      if (c === label) continue;
      const cell = cells[c]!;
      const v = cell === '' ? NaN : Number(cell);
      if (!Number.isFinite(v)) {
        const name = header ? `${c + 1} ("${header[c]}")` : c + 1;
        throw dataError({ file, row: r + 1, column: name }, `"${cell}" is not a number; expected a finite numeric feature value.`);
      }
      x[o++] = v;
    }
    if (label >= 0) {
      const lab = cells[label]!;
      if (lab === '') throw dataError({ file, row: r + 1, column: label + 1 }, 'the label is empty; expected a class name or number.');
      rawLabels[count] = lab;
    }
    count++;
  }
  return {
    count,
    features,
    x: count * features === x.length ? x : x.slice(0, count * features),
    rawLabels: label >= 0 ? rawLabels.slice(0, count) : null,
  };
}

export function parseCsv(text: string, options: CsvOptions): CsvDataset {
  const { file } = options;
  const table = readCsvTable(text, { file, ...(options.labelColumn !== undefined ? { labelColumn: options.labelColumn } : {}) });
  const { count, features, x } = table;
  const shape = options.shape ?? { channels: 1, dims: [features] };
  const per = shape.channels * shape.dims.reduce((a, b) => a * b, 1);
  if (per !== features) throw dataError({ file, column: 'shape' }, `shape ${shape.channels}×${shape.dims.join('×')} = ${per} values, but each row has ${features} feature columns.`);
  const { y, classNames } = encodeLabels(table.rawLabels!, file);
  const scalingKind = options.scaling ?? { kind: 'minmax' as const };
  const scaledRange = scaleToTrainingRange(x, scalingKind);
  return {
    name: file.replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, ''),
    count,
    channels: shape.channels,
    dims: [...shape.dims],
    x,
    y,
    classNames,
    scaledRange,
    scaling: { kind: scalingKind.kind, ...scaledRange },
  };
}

/**
 * Labels → class indices. Integer labels (also written as 1.0 / 1.000e+00) keep their value as the
 * index (classes 0..max); anything else is a class name, sorted.
 */
export function encodeLabels(raw: string[], file: string): { y: Int32Array; classNames: string[] } {
  const y = new Int32Array(raw.length);
  const numeric = raw.every((l) => isNumeric(l) && Number.isInteger(Number(l)) && Number(l) >= 0 && Number(l) < 65536);
  let classNames: string[];
  if (numeric) {
    let max = 0;
    raw.forEach((l, i) => {
      y[i] = Number(l);
      if (y[i]! > max) max = y[i]!;
    });
    classNames = Array.from({ length: max + 1 }, (_, i) => String(i));
  } else {
    classNames = [...new Set(raw)].sort();
    const index = new Map(classNames.map((n, i) => [n, i]));
    raw.forEach((l, i) => (y[i] = index.get(l)!));
  }
  const present = new Set(y);
  if (present.size < 2) {
    throw dataError({ file, column: 'label' }, `every sample has the same class (${classNames[y[0] ?? 0]}); expected at least two classes to train a classifier.`);
  }
  return { y, classNames };
}
