// Old project.json files kept the Train step's weight bits in sections.training.config (bits,
// layerBits, a bitsSchedule text). They still open: the bits move into the project's network (a
// built-in network's ModelRef, or the network file, rewritten), and the project is unsaved until saved.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProjectService } from '../../src-main/project/project.service.ts';
import { deserializeModel, serializeModel } from '../../src-main/ir/schema.ts';
import { bitsAt, withBitsSettings } from '../../src-main/ir/bits-policy.ts';
import { ai85net5, ecgNet } from '../../src-main/ir/zoo.ts';

const ctx = { signal: new AbortController().signal, progress: () => undefined };
const temp = (p: string) => mkdtempSync(join(tmpdir(), `qatwb-${p}-`));
const service = () => createProjectService({ stateDir: temp('state'), emit: () => undefined });

function oldProject(dir: string, model: unknown, config: Record<string, unknown>): void {
  writeFileSync(join(dir, 'project.json'), JSON.stringify({
    schemaVersion: 1, name: 'Old', device: 'MAX78002', data: null, model, createdAt: 'then', updatedAt: 'then',
    sections: { training: { config: { epochs: 10, qatStart: 6, ...config }, lastRun: { runId: 'r', floatAccuracy: 0.9, ptqAccuracy: null, qatAccuracy: 0.8, finishedAt: 'then' } } },
  }));
}

describe('opening a project whose Train step kept weight bits', () => {
  it('a built-in network: layerBits (from the Model step) and the default bits move into the ModelRef', async () => {
    const dir = temp('old-zoo');
    oldProject(dir, { kind: 'zoo', arch: 'ai85net5' }, { bits: 4, layerBits: { conv2: 2 } });
    const impl = service();
    const opened = await impl.open({ path: dir }, ctx);
    expect(opened.doc.sections['training']).toEqual({ config: { epochs: 10, qatStart: 6 }, lastRun: expect.objectContaining({ runId: 'r' }) });
    const ref = opened.doc.model!;
    if (ref.kind !== 'zoo') throw new Error('not a zoo ref');
    const net = withBitsSettings(ai85net5(), ref);
    expect(net.layers.map((l) => [l.name, l.weightBits])).toEqual([['conv1', 4], ['conv2', 2], ['conv3', 4], ['conv4', 4], ['fc', 4]]);
    expect((await impl.current({}, ctx)).dirty).toBe(true);
    // Saved, it opens as it is (nothing left to move).
    await impl.save({}, ctx);
    const again = await service().open({ path: dir }, ctx);
    expect(again.doc.model).toEqual(ref);
  });

  it('a network file: the bits and the schedule text are written into model.json', async () => {
    const dir = temp('old-file');
    writeFileSync(join(dir, 'network.model.json'), JSON.stringify(serializeModel(ecgNet('MAX78002', 64, 3))));
    oldProject(dir, { kind: 'file', path: 'network.model.json' }, { bits: 8, layerBits: { conv1: 8 }, bitsSchedule: '8@0,4@2:1e-4,2@4' });
    const impl = service();
    const opened = await impl.open({ path: dir }, ctx);
    expect(opened.doc.sections['training']).toMatchObject({ config: { epochs: 10, qatStart: 6 } });
    expect(Object.keys((opened.doc.sections['training'] as { config: object }).config)).toEqual(['epochs', 'qatStart']);
    const net = deserializeModel(JSON.parse(readFileSync(join(dir, 'network.model.json'), 'utf8')));
    expect(net.bitsSchedule).toEqual([{ fromQatEpoch: 0, bits: 8 }, { fromQatEpoch: 2, bits: 4, learningRate: 1e-4 }, { fromQatEpoch: 4, bits: 2 }]);
    expect([bitsAt(net, 0), bitsAt(net, 2), bitsAt(net, 5)]).toEqual([[8, 8, 8, 8, 8], [8, 4, 4, 4, 4], [8, 2, 2, 2, 2]]);
  });

  it('a bad old value is refused naming the file and the field', async () => {
    const dir = temp('old-bad');
    oldProject(dir, { kind: 'zoo', arch: 'ai85net5' }, { layerBits: { conv1: 3 } });
    await expect(service().open({ path: dir }, ctx)).rejects.toMatchObject({ code: 'invalid-data', field: 'sections.training.config.layerBits', message: expect.stringContaining('project.json') });
  });
});
