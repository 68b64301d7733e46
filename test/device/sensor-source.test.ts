// Window sources for the check and the virtual device's sensor: int8 .npy files with labels, and
// clear errors naming the file for data that cannot be windows of this model.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeNpy } from '../../src-main/formats/npy.ts';
import { loadWindowSource, mnistWindows } from '../../src-main/device/sensor-source.ts';

const dir = mkdtempSync(join(tmpdir(), 'qatwb-src-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('window sources', () => {
  it('reads (N, C, H, W) int64 windows with labels', async () => {
    const x = BigInt64Array.from({ length: 3 * 784 }, (_, i) => BigInt((i % 256) - 128));
    writeFileSync(join(dir, 'x.npy'), writeNpy({ dtype: 'int64', shape: [3, 1, 28, 28], data: x }));
    writeFileSync(join(dir, 'y.npy'), writeNpy({ dtype: 'int64', shape: [3], data: BigInt64Array.of(7n, 1n, 4n) }));
    const set = await loadWindowSource(join(dir, 'x.npy'), 784, join(dir, 'y.npy'));
    expect(set.windows.length).toBe(3);
    expect(set.windows[1]![0]).toBe(Number(x[784]));
    expect(Array.from(set.labels!)).toEqual([7, 1, 4]);
  });

  it('names the file and the problem for bad windows', async () => {
    writeFileSync(join(dir, 'f.npy'), writeNpy({ dtype: 'float32', shape: [784], data: new Float32Array(784) }));
    await expect(loadWindowSource(join(dir, 'f.npy'), 784)).rejects.toThrow(/f\.npy: dtype float32; windows must be integer/);
    writeFileSync(join(dir, 'n.npy'), writeNpy({ dtype: 'int8', shape: [100], data: new Int8Array(100) }));
    await expect(loadWindowSource(join(dir, 'n.npy'), 784)).rejects.toThrow(/n\.npy: shape \(100\) has 100 values, not a whole number of 784-value windows/);
    writeFileSync(join(dir, 'r.npy'), writeNpy({ dtype: 'int32', shape: [784], data: new Int32Array(784).fill(200) }));
    await expect(loadWindowSource(join(dir, 'r.npy'), 784)).rejects.toThrow(/r\.npy window 0: element 0 is 200, expected an integer in \[-128, 127\]/);
    await expect(loadWindowSource('mnist', 512)).rejects.toThrow(/MNIST source gives 1×28×28 windows, but this model takes 512/);
  });

  it('gives class-interleaved MNIST windows with labels', async () => {
    const m = await mnistWindows();
    expect(m.windows.length).toBeGreaterThan(9000);
    expect(Array.from(m.labels!.subarray(0, 10))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(m.windows[0]!.length).toBe(784);
  });
});
