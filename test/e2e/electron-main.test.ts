// The built Electron main (electron-vite build) booted under plain Node with a stand-in `electron`
// module, since the Electron binary cannot run here. Checks that the bundle starts, loads the
// services from source through tsx, opens the MNIST example (--example=mnist, as npm start does),
// answers IPC from its own renderer frame only, and applies the window lock-down.
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));

describe('Electron main process (built, stubbed electron)', () => {
  it('boots, serves IPC to its renderer frame only, and opens the example', async () => {
    // A private output folder, so this build never races the renderer build other tests serve.
    const outDir = join(repo, '.cache', `electron-main-test-${process.pid}`);
    try {
      const build = spawnSync(process.execPath, [join(repo, 'node_modules/.bin/electron-vite'), 'build', '--outDir', outDir, '--logLevel', 'error'], { cwd: repo, encoding: 'utf8' });
      expect(build.status, build.stderr + build.stdout).toBe(0);
      const userData = mkdtempSync(join(tmpdir(), 'qatwb-electron-'));
      const child = spawn(process.execPath, ['--import', join(repo, 'test/e2e/electron-stub/register.mjs'), join(outDir, 'main/index.js'), '--example=mnist'], {
        cwd: repo,
        env: { ...process.env, STUB_APP_PATH: repo, STUB_USER_DATA: userData },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const lines: { kind: string; data: any }[] = [];
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      let buffer = '';
      const done = new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d) => {
          buffer += d;
          let nl;
          while ((nl = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, nl);
            buffer = buffer.slice(nl + 1);
            try {
              lines.push(JSON.parse(line));
            } catch {
              continue;
            }
            const opened = lines.some((l) => l.kind === 'ipc-out' && l.data.message?.kind === 'result' && l.data.message.response?.project?.doc?.name === 'MNIST digits');
            if (opened) resolve();
          }
        });
        child.once('exit', (code) => reject(new Error(`main exited (${code}) early:\n${stderr}\n${JSON.stringify(lines, null, 1)}`)));
      });
      try {
        await done;
      } finally {
        child.kill('SIGKILL');
      }
      const window = lines.find((l) => l.kind === 'window')!.data;
      expect(window.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false });
      expect(window.webPreferences.preload).toBe(join(outDir, 'preload/index.cjs'));
      expect(lines.find((l) => l.kind === 'load')!.data.url).toBe(`file://${join(outDir, 'renderer/index.html')}`);
      expect(lines.some((l) => l.kind === 'sandbox')).toBe(true);
      expect(lines.find((l) => l.kind === 'menu')!.data).toEqual(['File', 'editMenu', 'View', 'help']);
      // The foreign frame's call (id 99) got no answer; ours did.
      const replies = lines.filter((l) => l.kind === 'ipc-out').map((l) => l.data.message);
      expect(replies.some((m) => m.id === 99)).toBe(false);
      expect(stderr).toContain('untrusted frame');
      expect(lines.some((l) => l.kind === 'navigation-blocked')).toBe(true);
      expect(lines.find((l) => l.kind === 'window-open')!.data).toEqual({ action: 'deny' });
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  });
});
