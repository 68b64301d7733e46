// The file chooser's folder listing on real folders: the project and home roots, folders first,
// the extension filter, hidden files left out, and no way out of the roots (.., absolute paths,
// a symlink pointing outside).
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProjectService } from '../../src-main/project/project.service.ts';

const ctx = { signal: new AbortController().signal, progress: () => undefined };
const temp = (p: string) => realpathSync(mkdtempSync(join(tmpdir(), `qatwb-${p}-`)));

describe('project.browse', () => {
  it('lists the project folder, then home, and nothing outside them', async () => {
    const home = temp('home');
    const outside = temp('outside');
    writeFileSync(join(outside, 'secret.csv'), '1,2\n');
    const impl = createProjectService({ stateDir: temp('state'), emit: () => {} }, { home });
    // No project open: home is the only root.
    expect((await impl.browse({}, ctx)).dir).toBe(home);
    const proj = join(home, 'ecg');
    await impl.create({ path: proj, name: 'ECG' }, ctx);
    mkdirSync(join(proj, 'data'));
    writeFileSync(join(proj, 'data', 'beats.csv'), '0.1,0\n');
    writeFileSync(join(proj, 'data', 'notes.txt'), 'x');
    writeFileSync(join(proj, 'data', '.hidden.csv'), 'x');
    symlinkSync(outside, join(proj, 'data', 'escape'));

    const top = await impl.browse({}, ctx);
    expect(top.dir).toBe(proj);
    expect(top.roots.map((r) => r.path)).toEqual([proj, home]);
    expect(top.entries.map((e) => [e.name, e.kind])).toEqual([['artifacts', 'dir'], ['data', 'dir'], ['project.json', 'file']]);
    const data = await impl.browse({ dir: join(proj, 'data'), extensions: ['.csv'] }, ctx);
    expect(data.entries.map((e) => e.name)).toEqual(['beats.csv']); // not the link out, not .hidden
    expect(data.entries[0]).toMatchObject({ kind: 'file', size: 6, path: join(proj, 'data', 'beats.csv') });
    // The project folder sits in home: its parent (home) is still a root to walk up to.
    expect(top.parent).toBe(home);
    expect((await impl.browse({ dir: home }, ctx)).parent).toBeNull();

    for (const dir of [outside, join(home, '..'), join(proj, 'data', 'escape'), '/']) {
      await expect(impl.browse({ dir }, ctx)).rejects.toMatchObject({ code: 'forbidden' });
    }
    await expect(impl.browse({ dir: join(proj, 'nope') }, ctx)).rejects.toMatchObject({ code: 'not-found' });
    await expect(impl.browse({ dir: join(proj, 'project.json') }, ctx)).rejects.toMatchObject({ code: 'bad-request' });
  });
});
