// Atomic file replacement: write a temp file beside the target, fsync it, rename it over the
// target, fsync the folder. A crash at any point leaves either the old or the new file, never a
// torn one. `hooks` is a seam for tests that inject a failing write or a pause before rename.
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface AtomicWriteHooks {
  /** Called after each chunk is written to the temp file; may throw to simulate a failing disk. */
  afterChunk?(writtenBytes: number, totalBytes: number): void | Promise<void>;
  /** Called after the temp file is synced, just before the rename. */
  beforeRename?(tempPath: string): void | Promise<void>;
}

const CHUNK_BYTES = 64 * 1024;

export async function writeFileAtomic(path: string, data: string | Uint8Array, hooks: AtomicWriteHooks = {}): Promise<void> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', 0o644);
  try {
    let written = 0;
    while (written < bytes.length) {
      const end = Math.min(written + CHUNK_BYTES, bytes.length);
      const { bytesWritten } = await handle.write(bytes, written, end - written, written);
      written += bytesWritten;
      await hooks.afterChunk?.(written, bytes.length);
    }
    await handle.sync();
    await handle.close();
    await hooks.beforeRename?.(temp);
    await rename(temp, path);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await syncDir(dirname(path));
}

/** Makes the rename itself durable; some platforms (Windows) cannot open a folder, which is fine. */
async function syncDir(dir: string): Promise<void> {
  try {
    const h = await open(dir, 'r');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  } catch {
    // Folder fsync is unsupported on this platform; the rename is still atomic.
  }
}
