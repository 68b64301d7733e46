// A connected pair of pseudo-terminals made by a socat child process: the host opens one end as a
// serial port, the virtual device the other. Stable symlinks in a private folder survive
// "replugging" (killing and restarting socat gives new /dev/pts numbers behind the same links).
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PtyPair {
  /** Symlink the host opens, e.g. /tmp/qatwb-vd-x/max78002 → /dev/pts/7. */
  hostPath: string;
  /** Symlink the virtual device opens. */
  devicePath: string;
  /** The /dev/pts/N behind hostPath right now. */
  hostPts(): string;
  /** Kill socat (both ends vanish, as when a USB cable is pulled). */
  unplug(): Promise<void>;
  /** Start socat again behind the same symlinks. */
  replug(): Promise<void>;
  /** Kill socat and remove the folder. */
  close(): Promise<void>;
}

async function waitFor(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const exists = (p: string) => fs.lstat(p).then(() => true, () => false);

export async function createPtyPair(opts: { dir?: string; socat?: string } = {}): Promise<PtyPair> {
  const dir = opts.dir ?? (await fs.mkdtemp(join(tmpdir(), 'qatwb-vd-')));
  const hostPath = join(dir, 'max78002');
  const devicePath = join(dir, 'device-side');
  let child: ChildProcess | null = null;
  let stderr = '';

  const start = async () => {
    await fs.rm(hostPath, { force: true });
    await fs.rm(devicePath, { force: true });
    stderr = '';
    // socat runs under a small sh guard that kills it when our end of the guard's stdin closes,
    // which the OS does even if this process crashes or is SIGKILLed: no orphaned socat.
    const c = spawn('/bin/sh', [
      '-c', '"$0" "$@" & p=$!; read _ ; kill $p 2>/dev/null; wait $p',
      opts.socat ?? 'socat', '-d', '-d',
      `pty,raw,echo=0,link=${hostPath}`,
      `pty,raw,echo=0,link=${devicePath}`,
    ], { stdio: ['pipe', 'ignore', 'pipe'] });
    child = c;
    c.stdin!.on('error', () => {});
    c.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    const failed = new Promise<never>((_, reject) => {
      c.once('error', (e) => reject(new Error(`Could not start socat (needed for the virtual device): ${e.message}. Install it with "apt-get install socat".`)));
      c.once('exit', (code) => reject(new Error(`socat exited (code ${code}) before the ptys were ready: ${stderr.trim() || 'is socat installed? ("apt-get install socat")'}`)));
    });
    failed.catch(() => {});
    await Promise.race([
      waitFor(async () => (await exists(hostPath)) && (await exists(devicePath)) && /starting data transfer loop/.test(stderr), 5000, 'socat to create the pty pair'),
      failed,
    ]);
  };

  const stop = async () => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.stdin!.end();
      setTimeout(() => c.kill('SIGKILL'), 2000).unref();
    });
  };

  await start();
  return {
    hostPath,
    devicePath,
    hostPts: () => realpathSync(hostPath),
    unplug: stop,
    replug: start,
    close: async () => {
      await stop();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
