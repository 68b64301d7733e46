// The built Electron main (electron-vite build) booted under plain Node with a stand-in `electron`
// module, since the Electron binary cannot run here. Checks that the bundle starts, loads the
// services from source through tsx, opens the MNIST example (--example=mnist, as npm start does),
// answers IPC from its own renderer frame only, applies the window lock-down, and asks before the
// window closes with unsaved changes (the stub answers Cancel, then Close without saving).
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
        env: { ...process.env, STUB_APP_PATH: repo, STUB_USER_DATA: userData, STUB_CLOSE_ANSWERS: '2,1' },
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
            if (line.includes('"window-closed"')) resolve();
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
      // The example opened; the stub changed it, then closed the window: asked, Cancel kept it; asked
      // again, "Close without saving" closed it (the guard's own close() passes without asking).
      expect(lines.some((l) => l.kind === 'ipc-out' && l.data.message?.response?.project?.doc?.name === 'MNIST digits')).toBe(true);
      const closing = lines.filter((l) => ['close-requested', 'message-box', 'window-closed'].includes(l.kind));
      expect(closing.map((l) => l.kind)).toEqual(['close-requested', 'message-box', 'close-requested', 'message-box', 'close-requested', 'window-closed']);
      expect(closing[1]!.data).toEqual({ message: '"MNIST digits" has unsaved changes.', buttons: ['Save', 'Close without saving', 'Cancel'] });
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  });
});
