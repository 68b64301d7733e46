// Replacing a folder as a whole: its new content is written into a fresh staging folder beside it,
// every file and the folder are fsynced, and the staging folder is renamed into place (the old one
// set aside first, then removed). A failure, or kill -9, at any point leaves the previous folder
// complete, never a mix of old and new files. Leftovers of an interrupted replacement are cleaned
// (and a folder set aside at the moment of a crash put back) before the next one starts.
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** Writes one file and fsyncs it (the file must not exist yet). */
export async function writeSynced(path: string, data: Uint8Array | string): Promise<void> {
  const h = await open(path, 'wx', 0o644);
  try {
    await h.writeFile(data);
    await h.sync();
  } finally {
    await h.close();
  }
}

export async function syncFolder(dir: string): Promise<void> {
  try {
    const h = await open(dir, 'r');
    try { await h.sync(); } finally { await h.close(); }
  } catch {
    // Some platforms cannot fsync a folder; the renames are still atomic.
  }
}

/** Copies every file below `from` into `to` (fsynced), except the relative paths in `skip`. */
export async function copyTreeSynced(from: string, to: string, skip: ReadonlySet<string> = new Set(), rel = ''): Promise<void> {
  for (const entry of await readdir(join(from, rel), { withFileTypes: true })) {
    const name = rel ? `${rel}/${entry.name}` : entry.name;
    if (skip.has(name)) continue;
    if (entry.isDirectory()) {
      await mkdir(join(to, name), { recursive: true });
      await copyTreeSynced(from, to, skip, name);
    } else if (entry.isFile()) {
      await writeSynced(join(to, name), await readFile(join(from, name)));
    }
  }
}

async function cleanLeftovers(parent: string, base: string): Promise<void> {
  const dir = join(parent, base);
  for (const n of await readdir(parent).catch(() => [] as string[])) {
    if (!n.startsWith(`.${base}.`)) continue;
    const p = join(parent, n);
    // A crash between the two renames: the previous folder is set aside and the new one absent.
    if (n.startsWith(`.${base}.replaced-`) && !existsSync(dir)) await rename(p, dir).catch(() => undefined);
    else if (n.startsWith(`.${base}.replaced-`) || n.startsWith(`.${base}.staging-`)) await rm(p, { recursive: true, force: true });
  }
}

/**
 * Replaces `dir` with what `fill` writes into the staging folder it is given (use writeSynced /
 * copyTreeSynced there). Errors from `fill` or the swap come back as they are, the previous
 * folder in place.
 */
export async function replaceFolder(dir: string, fill: (staging: string) => Promise<void>): Promise<void> {
  const parent = dirname(dir);
  const base = basename(dir);
  await mkdir(parent, { recursive: true });
  await cleanLeftovers(parent, base);
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const staging = join(parent, `.${base}.staging-${tag}`);
  const aside = join(parent, `.${base}.replaced-${tag}`);
  try {
    await mkdir(staging);
    await fill(staging);
    await syncFolder(staging);
    const had = existsSync(dir);
    if (had) await rename(dir, aside);
    await rename(staging, dir);
    await syncFolder(parent);
    if (had) await rm(aside, { recursive: true, force: true });
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    if (existsSync(aside) && !existsSync(dir)) await rename(aside, dir).catch(() => undefined);
    throw error;
  }
}
