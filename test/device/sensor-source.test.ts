// Window sources for the check and the virtual device's sensor: int8 .npy files with labels, raw
// values (CSV, float .npy, integer .npy marked raw) scaled as training scaled them, and clear errors
// naming the file for data that cannot be windows of this model.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeNpy } from '../../src-main/formats/npy.ts';
import { parseCsv } from '../../src-main/data/csv.ts';
import { loadWindowSource, mnistWindows } from '../../src-main/device/sensor-source.ts';

const dir = mkdtempSync(join(tmpdir(), 'qatwb-src-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const MNIST = { inputLength: 784 };

describe('window sources', () => {
  it('reads (N, C, H, W) int64 windows with labels', async () => {
    const x = BigInt64Array.from({ length: 3 * 784 }, (_, i) => BigInt((i % 256) - 128));
    writeFileSync(join(dir, 'x.npy'), writeNpy({ dtype: 'int64', shape: [3, 1, 28, 28], data: x }));
    writeFileSync(join(dir, 'y.npy'), writeNpy({ dtype: 'int64', shape: [3], data: BigInt64Array.of(7n, 1n, 4n) }));
    const set = await loadWindowSource(join(dir, 'x.npy'), MNIST, { labels: join(dir, 'y.npy') });
    expect(set.windows.length).toBe(3);
    expect(set.windows[1]![0]).toBe(Number(x[784]));
    expect(Array.from(set.labels!)).toEqual([7, 1, 4]);
    expect(set.scaledWith).toBeUndefined();
  });

  it('names the file and the problem for bad windows', async () => {
    writeFileSync(join(dir, 'n.npy'), writeNpy({ dtype: 'int8', shape: [100], data: new Int8Array(100) }));
    await expect(loadWindowSource(join(dir, 'n.npy'), MNIST)).rejects.toThrow(/n\.npy: shape \(100\) has 100 values, not a whole number of 784-value windows/);
    writeFileSync(join(dir, 'r.npy'), writeNpy({ dtype: 'int32', shape: [784], data: new Int32Array(784).fill(200) }));
    await expect(loadWindowSource(join(dir, 'r.npy'), MNIST)).rejects.toThrow(/r\.npy window 0 \(an integer \.npy holds int8 codes; mark raw values as raw\): element 0 is 200, expected an integer in \[-128, 127\]/);
    await expect(loadWindowSource('mnist', { inputLength: 512 })).rejects.toThrow(/MNIST source gives 1×28×28 windows, but this model takes 512/);
  });

  it('gives class-interleaved MNIST windows with labels', async () => {
    const m = await mnistWindows();
    expect(m.windows.length).toBeGreaterThan(9000);
    expect(Array.from(m.labels!.subarray(0, 10))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(m.windows[0]!.length).toBe(784);
  });
});

describe('raw windows', () => {
  // 6 rows × 8 raw values (millivolts, say) with the class last, as a training CSV holds them.
  const rows = Array.from({ length: 6 }, (_, r) => [...Array.from({ length: 8 }, (_, k) => (r * 8 + k) * 37.3 - 500.25), r % 2]);
  const csvText = rows.map((r) => r.join(',')).join('\n') + '\n';
  const trained = parseCsv(csvText, { file: 'train.csv' }); // min-max over the file, as training does
  const codes = Array.from(trained.x, (v) => Math.round(v * 128));
  const target = { inputLength: 8, outputCount: 2, scaling: trained.scaling!, artifactsDir: '/exports/run' };

  it('a CSV of raw values gives the codes training gave, labels from its label column', async () => {
    writeFileSync(join(dir, 'raw.csv'), csvText);
    const set = await loadWindowSource(join(dir, 'raw.csv'), target);
    expect(set.scaledWith).toEqual({ kind: 'minmax', min: -500.25, max: Math.fround(47 * 37.3 - 500.25) }); // the file's range, in float32 as training read it
    expect(set.windows.flatMap((w) => Array.from(w))).toEqual(codes);
    expect(Array.from(set.labels!)).toEqual([0, 1, 0, 1, 0, 1]);
    // Features only (no label column) reads the same windows, unlabelled.
    writeFileSync(join(dir, 'nolabel.csv'), rows.map((r) => r.slice(0, 8).join(',')).join('\n'));
    const bare = await loadWindowSource(join(dir, 'nolabel.csv'), target);
    expect(bare.windows.flatMap((w) => Array.from(w))).toEqual(codes);
    expect(bare.labels).toBeUndefined();
  });

  it('a float .npy and an integer .npy marked raw are scaled; values outside the training range clamp', async () => {
    const flat = Float64Array.from(rows.flatMap((r) => r.slice(0, 8)));
    writeFileSync(join(dir, 'raw.npy'), writeNpy({ dtype: 'float64', shape: [6, 1, 8], data: flat }));
    const set = await loadWindowSource(join(dir, 'raw.npy'), target);
    expect(set.windows.flatMap((w) => Array.from(w))).toEqual(codes);
    writeFileSync(join(dir, 'adc.npy'), writeNpy({ dtype: 'int32', shape: [2, 8], data: Int32Array.of(-9000, -501, -500, 0, 500, 1253, 1254, 9000, ...new Int32Array(8)) }));
    const adc = await loadWindowSource(join(dir, 'adc.npy'), target, { raw: true });
    // Worked by hand: 0 → u = 500.25 / 1753.1 = 0.2854 → (u − 0.5)·256 = −54.95 → −55; 500 → 18.06 → 18.
    expect(Array.from(adc.windows[0]!)).toEqual([-128, -128, -128, -55, 18, 127, 127, 127]);
  });

  it('a model whose model.json records no scaling refuses raw windows, naming the file and the field', async () => {
    const { scaling: _none, ...old } = target;
    await expect(loadWindowSource(join(dir, 'raw.csv'), old)).rejects.toThrow(/raw\.csv holds raw values \(a CSV of sensor values\), but \/exports\/run\/model\.json has no input\.scaling/);
    await expect(loadWindowSource(join(dir, 'raw.npy'), old)).rejects.toThrow(/raw\.npy holds raw values \(dtype float64\), but \/exports\/run\/model\.json has no input\.scaling/);
    // int8 codes need no scaling and still work.
    writeFileSync(join(dir, 'codes.npy'), writeNpy({ dtype: 'int8', shape: [6, 8], data: Int8Array.from(codes) }));
    expect((await loadWindowSource(join(dir, 'codes.npy'), old)).windows.length).toBe(6);
  });

  it('CSV rows of another width, or class names that do not cover the model, are refused clearly', async () => {
    writeFileSync(join(dir, 'wide.csv'), '1,2,3,4,5,6,7,8,9,10\n');
    await expect(loadWindowSource(join(dir, 'wide.csv'), target)).rejects.toThrow(/wide\.csv, row 1: found 10 columns; expected 8 feature values per row/);
    writeFileSync(join(dir, 'named.csv'), rows.map((r) => [...r.slice(0, 8), 'fall'].join(',')).join('\n'));
    await expect(loadWindowSource(join(dir, 'named.csv'), target)).rejects.toThrow(/named\.csv: the labels name 1 classes \(fall\), the model has 2/);
  });
});
