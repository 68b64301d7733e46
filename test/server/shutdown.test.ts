// `qatwb serve` must exit on SIGTERM even while a service holds child processes (here a virtual
// MAX78002 and its socat), and leave none of them behind.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFORMANCE } from '../support/fixtures.ts';

const fixture = join(CONFORMANCE, 'mnist-extrasmall');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('qatwb serve shutdown', () => {
  it('exits on SIGTERM with a virtual device running and stops its processes', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'qatwb-shutdown-'));
    const child = spawn(process.execPath, ['bin/qatwb.mjs', 'serve', '--json', '--state-dir', stateDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const first = await new Promise<string>((resolve, reject) => {
      child.stdout.once('data', (d: Buffer) => resolve(d.toString()));
      child.once('exit', (code) => reject(new Error(`serve exited early with ${code}`)));
    });
    const { url } = JSON.parse(first) as { url: string };
    const token = new URL(url).searchParams.get('token')!;
    const base = new URL(url).origin;
    const res = await fetch(`${base}/api/device/startVirtualDevice`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-qatwb-token': token },
      body: JSON.stringify({ artifacts: fixture }),
    });
    const body = (await res.json()) as { path?: string; pid?: number; error?: unknown };
    expect(res.status, JSON.stringify(body)).toBe(200);
    const { execFileSync } = await import('node:child_process');
    const descendants = execFileSync('ps', ['-o', 'pid=', '--ppid', String(child.pid)]).toString().trim().split(/\s+/).map(Number);
    expect(descendants.length).toBeGreaterThan(0);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 15_000));
    const result = await Promise.race([exited, timeout]);
    if (result === 'timeout') child.kill('SIGKILL');
    expect(result).toBe(0);
    // Children get SIGTERM during shutdown; give them a moment to finish exiting.
    let left = descendants.filter(alive);
    for (let i = 0; i < 50 && left.length; i++) {
      await new Promise((r) => setTimeout(r, 100));
      left = descendants.filter(alive);
    }
    if (left.length) console.log(execFileSync("ps", ["-o", "pid,ppid,stat,args", "-p", left.join(",")]).toString());
    expect(left).toEqual([]);
  });
});
