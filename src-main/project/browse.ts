// The file chooser behind the import forms (web mode has no native dialog): lists one folder, but
// only inside the allowed roots (the open project and the user's home), so a page holding the
// session token still cannot walk the whole disk. Symlinks are followed before the check.
import { promises as fs } from 'node:fs';
import { basename, dirname, join, relative, resolve, isAbsolute } from 'node:path';
import { ApiError } from '../api/contract.ts';

export interface BrowseRoot { label: string; path: string }
export interface BrowseEntry { name: string; path: string; kind: 'dir' | 'file'; size?: number }
export interface BrowseResult { dir: string; parent: string | null; roots: BrowseRoot[]; entries: BrowseEntry[] }

/** More than any folder a person picks data from; the rest is cut (and the list says so by length). */
const MAX_ENTRIES = 2000;

const inside = (root: string, p: string) => {
  const r = relative(root, p);
  return r === '' || (!r.startsWith('..') && !isAbsolute(r));
};

async function real(p: string): Promise<string | null> {
  return fs.realpath(p).catch(() => null);
}

/**
 * Lists `dir` (default: the first root): folders first, then files with one of `extensions`
 * (lower case, with the dot; none: every file). Hidden entries are left out.
 */
export async function browse(rootsIn: BrowseRoot[], dir: string | undefined, extensions?: string[]): Promise<BrowseResult> {
  const roots: (BrowseRoot & { real: string })[] = [];
  for (const r of rootsIn) {
    const rp = await real(r.path);
    if (rp && !roots.some((x) => x.real === rp)) roots.push({ ...r, path: resolve(r.path), real: rp });
  }
  if (!roots.length) throw new ApiError('not-found', 'No folder to browse: open a project first.', 'dir');
  const wanted = resolve(dir ?? roots[0]!.path);
  const target = await real(wanted);
  if (!target) throw new ApiError('not-found', `${wanted}: no such folder.`, 'dir');
  if (!roots.some((r) => inside(r.real, target))) throw new ApiError('forbidden', `${wanted}: outside the project folder and your home folder; the file chooser only lists those.`, 'dir');
  const stat = await fs.stat(target);
  if (!stat.isDirectory()) throw new ApiError('bad-request', `${wanted}: not a folder.`, 'dir');
  const exts = extensions?.map((e) => e.toLowerCase());
  const entries: BrowseEntry[] = [];
  for (const d of await fs.readdir(target, { withFileTypes: true })) {
    if (d.name.startsWith('.')) continue;
    const path = join(target, d.name);
    let isDir = d.isDirectory();
    let size: number | undefined;
    if (d.isSymbolicLink()) {
      // A link leading out of the roots would only end in "forbidden": leave it out.
      const to = await real(path);
      if (!to || !roots.some((r) => inside(r.real, to))) continue;
    }
    if (d.isSymbolicLink() || d.isFile()) {
      const s = await fs.stat(path).catch(() => null);
      if (!s) continue;
      isDir = s.isDirectory();
      size = s.isFile() ? s.size : undefined;
    }
    if (!isDir && exts && !exts.some((e) => d.name.toLowerCase().endsWith(e))) continue;
    if (!isDir && size === undefined) continue;
    entries.push({ name: d.name, path, kind: isDir ? 'dir' : 'file', ...(size !== undefined ? { size } : {}) });
  }
  entries.sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'dir' ? -1 : 1));
  const up = dirname(target);
  return {
    dir: target,
    parent: up !== target && roots.some((r) => inside(r.real, up)) ? up : null,
    roots: roots.map(({ label, path }) => ({ label, path })),
    entries: entries.slice(0, MAX_ENTRIES),
  };
}

export const describeRoot = (label: string, path: string): BrowseRoot => ({ label: `${label} (${basename(path) || path})`, path });
