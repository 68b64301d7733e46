// A folder only this user can write, for files the app later executes or loads as code (the
// threaded WASM backend's worker script). A name in the shared temp folder alone is not enough:
// another local user could create it first, or swap the file between our check and its use.
import { lstatSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * `<base>/qatwb-<uid>` when it is a real folder (not a link) owned by this user with no access
 * for group or others, created so if absent; otherwise a fresh private folder from mkdtemp (0700).
 */
export function privateDir(base: string = tmpdir()): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
  const dir = join(base, `qatwb-${uid < 0 ? 'user' : uid}`);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return mkdtempSync(join(base, 'qatwb-'));
  }
  const st = lstatSync(dir);
  const ours = uid < 0 || st.uid === uid;
  if (st.isDirectory() && !st.isSymbolicLink() && ours && (st.mode & 0o077) === 0) return dir;
  return mkdtempSync(join(base, 'qatwb-'));
}
