// Input files are read with a budget: stat on the open handle first, regular files only, a cap per
// kind. `/dev/zero` named as an .npy, a named pipe (which would block a plain open forever), a
// folder, or a file larger than the cap is refused at once with the path and the field named.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src-main/cli/main.ts';
import { loadDataSource } from '../../src-main/data/source.ts';
import { loadRuntime } from '../../src-main/device/model-runtime.ts';
import { INPUT_CAPS, readInputFile } from '../../src-main/platform/read-input.ts';
import { conformance } from '../support/fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'qatwb-read-input-'));
const fifo = join(dir, 'pipe.npy');
execFileSync('mkfifo', [fifo]);
const huge = join(dir, 'huge.pth.tar');
writeFileSync(huge, '');
truncateSync(huge, INPUT_CAPS.checkpoint + 1); // sparse: costs no disk

async function rejects(p: Promise<unknown>): Promise<{ code: string; message: string; field?: string }> {
  const t0 = performance.now();
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(performance.now() - t0).toBeLessThan(2000);
  expect(e).toBeDefined();
  return e as { code: string; message: string; field?: string };
}

describe('readInputFile', () => {
  it('refuses /dev/zero (a device) at once', async () => {
    const e = await rejects(readInputFile('/dev/zero', 'sample', 'input'));
    expect(e).toMatchObject({ code: 'invalid-data', field: 'input' });
    expect(e.message).toBe('/dev/zero: expected a regular file (got a device).');
  });
  it('refuses a named pipe without blocking on it', async () => {
    const e = await rejects(readInputFile(fifo, 'sample'));
    expect(e.message).toMatch(/pipe\.npy: expected a regular file \(got a named pipe\)/);
  });
  it('refuses a folder and a file past the cap for its kind', async () => {
    expect((await rejects(readInputFile(dir, 'yaml'))).message).toMatch(/got a folder/);
    const e = await rejects(readInputFile(huge, 'checkpoint', 'checkpointPath'));
    expect(e).toMatchObject({ code: 'invalid-data', field: 'checkpointPath' });
    expect(e.message).toMatch(/huge\.pth\.tar: expected at most 256 MB for a checkpoint file \(got 256\.0 MB\)/);
  });
  it('reads a regular file exactly', async () => {
    const f = join(dir, 'small.bin');
    writeFileSync(f, Uint8Array.of(1, 2, 3));
    expect([...await readInputFile(f, 'json')]).toEqual([1, 2, 3]);
  });
});

describe('every reader of user files goes through the budget', () => {
  it('qatwb simulate --input /dev/zero ends at once with the path named', async () => {
    const err: string[] = [];
    const t0 = performance.now();
    const code = await main(['simulate', '--checkpoint', conformance('mnist-qat8', 'checkpoint.pth.tar'),
      '--network', conformance('mnist-qat8', 'network.yaml'), '--input', '/dev/zero'], { out: () => {}, err: (l) => err.push(l) });
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(code).toBe(1);
    expect(err.join('\n')).toMatch(/\/dev\/zero: expected a regular file/);
  });
  it('qatwb plan with a named pipe as the checkpoint', async () => {
    const err: string[] = [];
    const code = await main(['plan', '--checkpoint', fifo, '--network', conformance('mnist-qat8', 'network.yaml'),
      '--input', conformance('mnist-qat8', 'sample.input.npy')], { out: () => {}, err: (l) => err.push(l) });
    expect(code).toBe(1);
    expect(err.join('\n')).toMatch(/pipe\.npy: expected a regular file \(got a named pipe\)/);
  });
  it('data sets: an .npy pair whose x is /dev/zero', async () => {
    const e = await rejects(loadDataSource({ kind: 'npy', xFile: '/dev/zero', yFile: conformance('mnist-qat8', 'sample.input.npy') }));
    expect(e.message).toMatch(/^\/dev\/zero: expected a regular file/);
  });
  it('device runtime: an artifacts folder whose checkpoint is a pipe, and a quantization.json that is not JSON', async () => {
    const art = mkdtempSync(join(tmpdir(), 'qatwb-art-'));
    execFileSync('mkfifo', [join(art, 'checkpoint.pth.tar')]);
    execFileSync('cp', [conformance('mnist-qat8', 'network.yaml'), art]);
    expect((await rejects(loadRuntime(art))).message).toMatch(/checkpoint\.pth\.tar: expected a regular file/);
    const art2 = mkdtempSync(join(tmpdir(), 'qatwb-art-'));
    for (const f of ['checkpoint.pth.tar', 'network.yaml', 'sample.input.npy']) execFileSync('cp', [conformance('mnist-qat8', f), art2]);
    writeFileSync(join(art2, 'quantization.json'), '{"input": ');
    const e = await rejects(loadRuntime(art2));
    expect(e.message).toMatch(/quantization\.json: expected valid JSON/);
  });
});
