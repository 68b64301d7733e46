// The project service on real folders: create/open/save/recent/example, clear errors for a bad
// project.json, and atomic saves (a failing write or a process killed mid-write leaves the
// previous project.json intact).
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProjectDoc } from '../../src-main/api/project.api.ts';
import { createProjectService, type ProjectServiceOptions } from '../../src-main/project/project.service.ts';

const ctx = { signal: new AbortController().signal, progress: () => undefined };
const temp = (p: string) => mkdtempSync(join(tmpdir(), `qatwb-${p}-`));

function service(options: ProjectServiceOptions = {}) {
  const stateDir = temp('state');
  const events: unknown[] = [];
  const impl = createProjectService({ stateDir, emit: (_s, e, p) => events.push({ e, p }) }, options);
  return { impl, stateDir, events };
}

const readDoc = (dir: string) => JSON.parse(readFileSync(join(dir, 'project.json'), 'utf8')) as ProjectDoc;

describe('project folders', () => {
  it('creates a project folder with project.json and artifacts/, and reopens it', async () => {
    const { impl } = service();
    const dir = join(temp('proj'), 'kws');
    const created = await impl.create({ path: dir, name: 'Keyword spotting' }, ctx);
    expect(readdirSync(dir).sort()).toEqual(['artifacts', 'project.json']);
    expect(ProjectDoc.parse(readDoc(dir))).toMatchObject({ name: 'Keyword spotting', device: 'MAX78002', data: null, model: null, schemaVersion: 1 });
    const { impl: other } = service();
    const reopened = await other.open({ path: join(dir, 'project.json') }, ctx);
    expect(reopened.path).toBe(created.path);
    expect(reopened.doc).toEqual(created.doc);
  });

  it('refuses to create over an existing project or in a non-empty folder', async () => {
    const { impl } = service();
    const dir = temp('proj');
    await impl.create({ path: dir, name: 'A' }, ctx);
    await expect(impl.create({ path: dir, name: 'B' }, ctx)).rejects.toThrow(/already holds a project/);
    const full = temp('full');
    writeFileSync(join(full, 'notes.txt'), 'x');
    await expect(impl.create({ path: full, name: 'C' }, ctx)).rejects.toThrow(/not empty/);
  });

  it('checks a known section against its owner\'s schema, naming the field; unknown sections pass as they are', async () => {
    const { impl } = service();
    await impl.create({ path: join(temp('proj'), 's'), name: 'S' }, ctx);
    const bad = impl.update({ section: { key: 'training', value: { config: { engine: 'jax' } } } }, ctx);
    await expect(bad).rejects.toMatchObject({ code: 'bad-request', field: 'section.value.config.engine' });
    await expect(impl.update({ section: { key: 'data', value: { limit: 10 } } }, ctx)).rejects.toMatchObject({ field: 'section.value.source' });
    const ok = await impl.update({ section: { key: 'training', value: { config: { epochs: 4 }, lastRun: { runId: 'r', floatAccuracy: 0.9, ptqAccuracy: null, qatAccuracy: 0.8, finishedAt: 'now' } } } }, ctx);
    expect(ok.project.doc.sections['training']).toMatchObject({ config: { epochs: 4 } });
    await impl.update({ section: { key: 'deploy', value: { anything: 1 } } }, ctx);
    expect((await impl.current({}, ctx)).project?.doc.sections['deploy']).toEqual({ anything: 1 });
  });

  it('updates in memory (dirty), saves to disk, and lists recent projects newest first', async () => {
    const { impl, events } = service();
    const a = join(temp('proj'), 'a');
    const b = join(temp('proj'), 'b');
    await impl.create({ path: a, name: 'A' }, ctx);
    await impl.create({ path: b, name: 'B' }, ctx);
    const upd = await impl.update({ name: 'B renamed', model: { kind: 'zoo', arch: 'ai85netextrasmall' }, section: { key: 'training', value: { epochs: 3 } } }, ctx);
    expect(upd.dirty).toBe(true);
    expect(readDoc(b).name).toBe('B'); // not saved yet
    await impl.save({}, ctx);
    expect(readDoc(b)).toMatchObject({ name: 'B renamed', model: { kind: 'zoo', arch: 'ai85netextrasmall' }, sections: { training: { epochs: 3 } } });
    expect((await impl.current({}, ctx)).dirty).toBe(false);
    const recent = (await impl.listRecent({}, ctx)).projects;
    expect(recent.map((r) => r.name)).toEqual(['B renamed', 'A']);
    expect(events.filter((e) => (e as { e: string }).e === 'changed').length).toBeGreaterThanOrEqual(4);
  });

  it('opens the MNIST example, created once in the state dir, keeping later edits', async () => {
    const { impl, stateDir } = service();
    const first = await impl.openExample({ name: 'mnist' }, ctx);
    expect(first.path).toBe(join(stateDir, 'examples', 'mnist-digits'));
    expect(first.isExample).toBe(true);
    expect(first.doc).toMatchObject({ name: 'MNIST digits', data: { kind: 'example', name: 'mnist' }, model: { kind: 'zoo', arch: 'ai85net5' } });
    await impl.update({ name: 'My digits' }, ctx);
    await impl.save({}, ctx);
    const again = await impl.openExample({ name: 'mnist' }, ctx);
    expect(again.doc.name).toBe('My digits');
  });

  it('names the file and field of a broken project.json', async () => {
    const { impl } = service();
    const dir = temp('bad');
    const good = { schemaVersion: 1, name: 'X', device: 'MAX78002', data: null, model: null, createdAt: 'now', updatedAt: 'now', sections: {} };
    writeFileSync(join(dir, 'project.json'), JSON.stringify({ ...good, device: 'MAX99' }));
    await expect(impl.open({ path: dir }, ctx)).rejects.toMatchObject({ code: 'invalid-data', field: 'device', message: expect.stringContaining(join(dir, 'project.json')) });
    writeFileSync(join(dir, 'project.json'), '{"name": ');
    await expect(impl.open({ path: dir }, ctx)).rejects.toThrow(/project\.json: not valid JSON/);
    writeFileSync(join(dir, 'project.json'), JSON.stringify({ ...good, schemaVersion: 9 }));
    await expect(impl.open({ path: dir }, ctx)).rejects.toThrow(/newer QAT Workbench/);
    await expect(impl.open({ path: temp('empty') }, ctx)).rejects.toMatchObject({ code: 'not-found' });
  });

  it('save fails without an open project', async () => {
    const { impl } = service();
    await expect(impl.save({}, ctx)).rejects.toMatchObject({ code: 'not-found' });
  });
});

describe('atomic save', () => {
  it('keeps the previous project.json when a write fails midway (injected disk error)', async () => {
    let failing = false;
    const { impl } = service({
      writeHooks: {
        afterChunk(written, total) {
          if (failing && written < total) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
        },
      },
    });
    const dir = temp('atomic');
    await impl.create({ path: dir, name: 'Before' }, ctx);
    const before = readFileSync(join(dir, 'project.json'), 'utf8');
    failing = true;
    const big = Array.from({ length: 20_000 }, (_, i) => ({ i, pad: 'y'.repeat(24) }));
    await impl.update({ name: 'After', section: { key: 'big', value: big } }, ctx);
    await expect(impl.save({}, ctx)).rejects.toThrow(/ENOSPC/);
    expect(readFileSync(join(dir, 'project.json'), 'utf8')).toBe(before);
    expect(readdirSync(dir).sort()).toEqual(['artifacts', 'project.json']); // temp file removed
    expect((await impl.current({}, ctx)).dirty).toBe(true); // the UI still says "unsaved"
  });

  it('keeps the previous project.json when the saving process is killed mid-write', async () => {
    const stateDir = temp('state');
    const dir = temp('killed');
    mkdirSync(join(dir, 'artifacts'));
    const original = { schemaVersion: 1, name: 'Intact', device: 'MAX78002', data: { kind: 'example', name: 'mnist' }, model: null, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', sections: {} };
    writeFileSync(join(dir, 'project.json'), JSON.stringify(original, null, 2));
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./slow-save.child.ts', import.meta.url)), dir, stateDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', () => out.includes('writing ') && resolve());
      child.once('exit', (code) => reject(new Error(`child exited (${code}) before writing:\n${out}`)));
    });
    const tempFile = readdirSync(dir).find((f) => f.endsWith('.tmp'));
    expect(tempFile).toBeDefined(); // the new content was being written beside the old file
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(out).not.toContain('saved');
    expect(readDoc(dir)).toEqual(original);
    // The next open ignores the leftover temp file, removes it once it is old, and the project is usable.
    const { impl } = service();
    await expect(impl.open({ path: dir }, ctx)).resolves.toMatchObject({ doc: { name: 'Intact' } });
    expect(readdirSync(dir)).toContain(tempFile); // too young: may be another instance's save in progress
    const old = new Date(Date.now() - 5 * 60_000);
    utimesSync(join(dir, tempFile!), old, old);
    await impl.open({ path: dir }, ctx);
    expect(readdirSync(dir).sort()).toEqual(['artifacts', 'project.json']);
  });
});
