// Ctrl-C (or SIGTERM) on `qatwb build` ends the whole tool tree: make and what make started. A real
// `qatwb` process (bin/qatwb.mjs) runs a stand-in make that starts a grandchild and waits; after
// the signal, both must be gone and the CLI must exit 130.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/fixtures.ts';

const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const until = async (ok: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  return ok();
};

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  describe(`${sig} on qatwb build`, () => {
    it('ends make and its children, and exits 130', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'qatwb-int-'));
      const project = join(dir, 'project');
      mkdirSync(project);
      writeFileSync(join(project, 'Makefile'), 'all:\n');
      const make = join(dir, 'make');
      writeFileSync(make, `#!/bin/sh\nsleep 300 &\necho $! > "${dir}/grandchild"\necho $$ > "${dir}/make.pid"\necho started\nwait\n`);
      chmodSync(make, 0o755);
      const cli = spawn(process.execPath, [join(REPO_ROOT, 'bin/qatwb.mjs'), 'build', '--project', project, '--make', make,
        '--maxim-path', join(REPO_ROOT, 'test/fixtures/toolchain/fake-msdk'), '--arm-gcc', '/usr/bin/arm-none-eabi-gcc',
        '--state-dir', join(dir, 'state')], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      cli.stderr.on('data', (d) => (err += d));
      const exited = new Promise<number | null>((r) => cli.once('exit', (code) => r(code)));
      expect(await until(() => existsSync(join(dir, 'grandchild')) && existsSync(join(dir, 'make.pid')), 30_000), err).toBe(true);
      const grandchild = Number(readFileSync(join(dir, 'grandchild'), 'utf8'));
      const makePid = Number(readFileSync(join(dir, 'make.pid'), 'utf8'));
      expect(alive(grandchild)).toBe(true);
      cli.kill(sig);
      const code = await exited;
      try {
        expect(code, err).toBe(130);
        expect(await until(() => !alive(grandchild) && !alive(makePid), 5000)).toBe(true);
      } finally {
        for (const p of [grandchild, makePid]) if (alive(p)) process.kill(p, 'SIGKILL');
      }
    }, 60_000);
  });
}
