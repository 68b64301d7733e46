// The app's services read models in a worker with a time and a memory budget: a checkpoint whose
// pickle builds millions of JS objects exhausts only the worker's heap, and a slow read is ended
// at the time limit; both answer with an error naming the file, and the event loop stays free.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeZip } from '../../src-main/formats/zip.ts';
import { loadNetworkInWorker, openAi8xModelInWorker } from '../../src-main/model/open-model.ts';
import { symlinkSync } from 'node:fs';
import { readTorchCheckpoint } from '../../src-main/formats/torch-checkpoint.ts';
import { FormatError } from '../../src-main/formats/format-error.ts';
import { conformance } from '../support/fixtures.ts';
import { manyListsPickle } from './hostile.ts';

const dir = mkdtempSync(join(tmpdir(), 'qatwb-budget-'));
const pkl = (p: Uint8Array) => writeZip([{ name: 'archive/data.pkl', data: p }, { name: 'archive/version', data: new TextEncoder().encode('3\n') }]);

describe('budgeted model import', () => {
  it('a pickle of 2 million lists (2 MB) exhausts only the worker heap; the main loop keeps ticking', async () => {
    const file = join(dir, 'objects.pth.tar');
    writeFileSync(file, pkl(manyListsPickle(2_000_000)));
    let ticks = 0;
    const tick = setInterval(() => ticks++, 20);
    const t0 = Date.now();
    const e = await openAi8xModelInWorker({ checkpointPath: file, networkPath: conformance('mnist-qat8', 'network.yaml') }, undefined, { heapMb: 24 })
      .then(() => null, (x: unknown) => x);
    clearInterval(tick);
    expect(e).toMatchObject({ code: 'invalid-data', message: 'objects.pth.tar: reading needs more than 24 MB of memory; the file is too large or malformed.' });
    // The main thread was free the whole time (a blocked loop would not have ticked).
    expect(ticks).toBeGreaterThan((Date.now() - t0) / 20 / 4);
  }, 60_000);
  it('a read past the time budget is ended with the file named', async () => {
    const e = await openAi8xModelInWorker({ checkpointPath: conformance('mnist-qat8', 'checkpoint.pth.tar'), networkPath: conformance('mnist-qat8', 'network.yaml') },
      undefined, { timeoutMs: 50 }).then(() => null, (x: unknown) => x);
    expect(e).toMatchObject({ code: 'invalid-data', message: expect.stringMatching(/^checkpoint\.pth\.tar: reading took longer than 0 s/) });
  });
  it('a cancel ends the read at once', async () => {
    const c = new AbortController();
    const p = openAi8xModelInWorker({ checkpointPath: conformance('mnist-qat8', 'checkpoint.pth.tar'), networkPath: conformance('mnist-qat8', 'network.yaml') }, c.signal);
    c.abort();
    await expect(p).rejects.toMatchObject({ code: 'cancelled' });
  });
  it('the pickle inside a checkpoint is capped (tensors live beside it)', () => {
    expect(() => readTorchCheckpoint(pkl(manyListsPickle(9_000_000)), 'big.pth.tar')).toThrow(FormatError);
    expect(() => readTorchCheckpoint(pkl(manyListsPickle(9_000_000)), 'big.pth.tar')).toThrow(/big\.pth\.tar: archive\/data\.pkl: expected a pickle of at most 8 MB/);
  });
  it('network files (ONNX, YAML + checkpoint) load in the worker too; importer errors keep their words', async () => {
    const zero = join(dir, 'zero.onnx');
    symlinkSync('/dev/zero', zero);
    await expect(loadNetworkInWorker({ model: zero })).rejects.toMatchObject({ code: 'import-error', message: expect.stringMatching(/zero\.onnx.*expected a regular file \(got a device\)/) });
    const garbage = join(dir, 'garbage.onnx');
    writeFileSync(garbage, Uint8Array.from({ length: 300 }, (_, i) => (i * 37) & 0xff));
    await expect(loadNetworkInWorker({ model: garbage })).rejects.toMatchObject({ code: expect.stringMatching(/import-error|invalid-data/), message: expect.stringContaining('garbage.onnx') });
    const ok = await loadNetworkInWorker({ model: conformance('mnist-qat8', 'network.yaml'), checkpoint: conformance('mnist-qat8', 'checkpoint.pth.tar'), inputShape: [1, 28, 28] });
    expect(ok.model.layers.length).toBeGreaterThan(3);
  }, 60_000);
});
