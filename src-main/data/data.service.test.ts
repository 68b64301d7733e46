import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRpcServer } from '../rpc/serve.ts';
import { createRpcClient } from '../rpc/client.ts';
import { memoryTransport } from '../rpc/memory-transport.ts';
import { createDataService } from './data.service.ts';

function client() {
  const server = createRpcServer({ data: createDataService({ stateDir: tmpdir(), emit() {} }) });
  return createRpcClient(memoryTransport(server)).services.data;
}

describe('data service over RPC', () => {
  it('imports a CSV, summarises, previews int8 codes and reports bad files by name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qatwb-data-'));
    const file = join(dir, 'beats.csv');
    const rows = Array.from({ length: 40 }, (_, i) => [i / 40, 1 - i / 40, 0.5, i % 3 === 0 ? 2 : i % 2].join(','));
    writeFileSync(file, rows.join('\n'));
    const data = client();
    const progress: string[] = [];
    const s = await data.import({ source: { kind: 'csv', file, scaling: { kind: 'unit' } }, split: { test: 0.25, validation: 0 } }, { onProgress: (p) => progress.push(p.phase) });
    expect(progress).toContain('import');
    expect(s.count).toBe(40);
    expect(s.dims).toEqual([3]);
    expect(s.classNames).toEqual(['0', '1', '2']);
    expect(s.perClass.reduce((a, b) => a + b)).toBe(40);
    expect(s.split!.test.reduce((a, b) => a + b)).toBe(10);
    expect(s.classWeights.length).toBe(3);
    const again = await data.summary({ datasetId: s.datasetId });
    expect(again.perClass).toEqual(s.perClass);
    const { samples } = await data.preview({ datasetId: s.datasetId, count: 2, classIndex: 2 });
    expect(samples.map((p) => p.label)).toEqual([2, 2]);
    expect(samples[0]!.values).toEqual([-128, 127, 0]);
    // All classes: taken in turn, so the first page shows every class even in a label-sorted file;
    // the next page starts where this one ended.
    const first = (await data.preview({ datasetId: s.datasetId, count: 6 })).samples;
    expect(first.map((p) => p.label)).toEqual([0, 1, 2, 0, 1, 2]);
    const next = (await data.preview({ datasetId: s.datasetId, offset: 6, count: 6 })).samples;
    expect(new Set([...first, ...next].map((p) => p.index)).size).toBe(12);

    writeFileSync(join(dir, 'bad.csv'), '1,2,0\n3,4\n');
    await expect(data.import({ source: { kind: 'csv', file: join(dir, 'bad.csv') } })).rejects.toMatchObject({ code: 'invalid-data', message: expect.stringMatching(/bad\.csv, row 2: found 2 columns/) });
    await expect(data.import({ source: { kind: 'csv', file: join(dir, 'missing.csv') } })).rejects.toMatchObject({ code: 'not-found' });
    await expect(data.import({ source: { kind: 'csv', file, bogus: 1 } as never })).rejects.toMatchObject({ code: 'bad-request' });
    await expect(data.summary({ datasetId: 'nope' })).rejects.toMatchObject({ code: 'not-found' });
  });
});
