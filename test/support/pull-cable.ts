// Pulls the cable of a virtual device for good: SIGKILLs the socat behind its pty pair (found by the
// pair's private folder) and removes the two symlinks a killed socat leaves behind, as a real port's
// device node disappears on unplug. Left in place, they would point at /dev/pts numbers the kernel
// hands to the next test's pair, and a session still reconnecting to this path would open (and
// lock) that other test's port.
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function pullCable(hostPath: string): void {
  const dir = dirname(hostPath);
  const pids = execFileSync('pgrep', ['-f', `^socat .*${dir}/`], { encoding: 'utf8' }).trim().split('\n').map(Number);
  if (pids.length !== 1 || !Number.isInteger(pids[0])) throw new Error(`expected one socat behind ${hostPath}, found ${pids.join(', ')}`);
  process.kill(pids[0]!, 'SIGKILL');
  for (const name of readdirSync(dir)) rmSync(join(dir, name), { force: true });
}
