// Exports are replaced as a whole: a failure on the fifth file leaves the previous export intact
// (no new checkpoint beside the old quantization.json and model.json), leftovers of an interrupted
// export are cleaned by the next one, and a folder of someone else's files is never replaced.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ecgNet } from '../../src-main/ir/zoo.ts';
import type { FloatLayerParams } from '../../src-main/ir/float-params.ts';
import { quantizeModel } from '../../src-main/quant/quantize.ts';
import { seededRng } from '../../src-main/data/random.ts';
import { EXPORT_MANIFEST, writeExports } from '../../src-main/training/export.ts';

function input(epoch: number) {
  const model = ecgNet('MAX78002', 128, 4);
  const rng = seededRng(epoch + 3);
  const fp: FloatLayerParams[] = model.layers.map((l) => {
    const n = l.op === 'linear' ? l.outChannels * l.inChannels * 2 : l.outChannels * l.inChannels * l.kernel[0];
    return { name: l.name, weight: Float32Array.from({ length: n }, () => (rng() - 0.5) * 0.6), bias: Float32Array.from({ length: l.outChannels }, () => (rng() - 0.5) * 0.2) };
  });
  const q = quantizeModel(model, fp);
  const sample = Int8Array.from({ length: 128 }, () => Math.floor(rng() * 256) - 128);
  return { model: q.model, floatParams: fp, sample, epoch, quantization: { run: epoch } };
}
const snapshot = (dir: string) => Object.fromEntries(readdirSync(dir).sort().map((n) => [n, readFileSync(join(dir, n)).toString('base64')]));

describe('writeExports replaces the folder whole', () => {
  it('a failure on the fifth file leaves the previous export byte for byte, and no staging folder', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'qatwb-exp-'));
    const dir = join(parent, 'export');
    await writeExports(dir, input(1));
    const before = snapshot(dir);
    expect(Object.keys(before)).toContain(EXPORT_MANIFEST);
    let n = 0;
    await expect(writeExports(dir, input(2), { beforeFile: () => { if (++n === 5) throw new Error('disk full'); } }))
      .rejects.toMatchObject({ code: 'io', message: expect.stringMatching(/export: cannot write the exports \(disk full\)/) });
    expect(snapshot(dir)).toEqual(before);
    expect(readdirSync(parent)).toEqual(['export']);
    // And a good export then replaces every file.
    await writeExports(dir, input(2));
    expect(JSON.parse(readFileSync(join(dir, 'quantization.json'), 'utf8'))).toMatchObject({ run: 2 });
    expect(snapshot(dir)['checkpoint.pth.tar']).not.toBe(before['checkpoint.pth.tar']);
  });

  it('cleans what a killed export left: staging folders, a set-aside previous export, old .tmp files', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'qatwb-exp-'));
    const dir = join(parent, 'export');
    await writeExports(dir, input(1));
    mkdirSync(join(parent, '.export.staging-999-abcd'));
    writeFileSync(join(parent, '.export.staging-999-abcd', 'checkpoint.pth.tar'), 'half');
    writeFileSync(join(dir, '.model.json.123.456.tmp'), 'half');
    await writeExports(dir, input(2));
    expect(readdirSync(parent)).toEqual(['export']);
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('a crash between the two renames: the set-aside export is put back before the next one', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'qatwb-exp-'));
    const dir = join(parent, 'export');
    await writeExports(dir, input(1));
    const before = snapshot(dir);
    const { renameSync } = await import('node:fs');
    renameSync(dir, join(parent, '.export.replaced-999-abcd'));
    let seen: Record<string, string> | undefined;
    await expect(writeExports(dir, input(2), { beforeFile: () => { seen ??= snapshot(dir); throw new Error('stop'); } })).rejects.toThrow();
    expect(seen).toEqual(before);
    expect(snapshot(dir)).toEqual(before);
  });

  it('refuses to replace a folder holding other files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qatwb-exp-home-'));
    writeFileSync(join(dir, 'thesis.tex'), 'mine');
    await expect(writeExports(dir, input(1))).rejects.toMatchObject({ code: 'io', field: 'outDir' });
    expect(readdirSync(dir)).toEqual(['thesis.tex']);
    expect(existsSync(join(dir, 'checkpoint.pth.tar'))).toBe(false);
  });
});
