// Settings persistence and the doctor, with a fake home holding an MSDK-shaped folder whose tools
// are symlinks to the real arm-none-eabi-gcc, make and openocd installed here (so `--version` runs
// real programs), and an izer checkout whose venv python is the real /usr/bin/python3.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatDoctor, runDoctor } from '../../src-main/toolchain/doctor.ts';
import { loadSettings, saveSettings, settingsPath } from '../../src-main/toolchain/settings.ts';
import type { LocateContext } from '../../src-main/toolchain/locate.ts';

function fakeHome(withMax78002Cfg: boolean): { home: string; msdk: string; izer: string } {
  const home = mkdtempSync(join(tmpdir(), 'qatwb-home-'));
  const msdk = join(home, 'MaximSDK');
  mkdirSync(join(msdk, 'Libraries', 'CMSIS'), { recursive: true });
  mkdirSync(join(msdk, 'Tools', 'GNUTools', '10.3', 'bin'), { recursive: true });
  symlinkSync('/usr/bin/arm-none-eabi-gcc', join(msdk, 'Tools', 'GNUTools', '10.3', 'bin', 'arm-none-eabi-gcc'));
  mkdirSync(join(msdk, 'Tools', 'OpenOCD', 'scripts', 'interface'), { recursive: true });
  mkdirSync(join(msdk, 'Tools', 'OpenOCD', 'scripts', 'target'), { recursive: true });
  if (withMax78002Cfg) writeFileSync(join(msdk, 'Tools', 'OpenOCD', 'scripts', 'target', 'max78002.cfg'), '# stand-in\n');
  symlinkSync('/usr/bin/openocd', join(msdk, 'Tools', 'OpenOCD', 'openocd'));
  const izer = join(home, 'ai8x-synthesis');
  mkdirSync(join(izer, 'venv', 'bin'), { recursive: true });
  writeFileSync(join(izer, 'ai8xize.py'), '# stand-in\n');
  symlinkSync('/usr/bin/python3', join(izer, 'venv', 'bin', 'python3'));
  mkdirSync(join(izer, '.git', 'refs', 'heads'), { recursive: true });
  writeFileSync(join(izer, '.git', 'HEAD'), 'ref: refs/heads/develop\n');
  writeFileSync(join(izer, '.git', 'refs', 'heads', 'develop'), 'ab4f4c0' + '1'.repeat(33) + '\n');
  return { home, msdk, izer };
}

const ctx = (home: string, settings = {}, env: Record<string, string | undefined> = { PATH: '/usr/bin:/bin' }): LocateContext => ({ settings, env, home, platform: 'linux' });

describe('settings', () => {
  it('round-trips atomically and starts empty', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qatwb-state-'));
    expect(await loadSettings(dir)).toEqual({});
    await saveSettings(dir, { izerDir: '/x/ai8x-synthesis', buildJobs: 4 });
    expect(await loadSettings(dir)).toEqual({ izerDir: '/x/ai8x-synthesis', buildJobs: 4 });
    expect(JSON.parse(readFileSync(settingsPath(dir), 'utf8')).buildJobs).toBe(4);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
  it('names the file and the field of a damaged settings file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qatwb-state-'));
    writeFileSync(settingsPath(dir), JSON.stringify({ buildJobs: 'many' }));
    await expect(loadSettings(dir)).rejects.toMatchObject({ code: 'invalid-data', field: 'buildJobs', message: expect.stringContaining('toolchain-settings.json') });
    writeFileSync(settingsPath(dir), '{ nope');
    await expect(loadSettings(dir)).rejects.toMatchObject({ code: 'invalid-data' });
  });
});

describe('doctor', () => {
  it('finds everything in the usual places and reports real versions', async () => {
    const { home, msdk, izer } = fakeHome(true);
    const r = await runDoctor(ctx(home));
    const by = Object.fromEntries(r.items.map((i) => [i.id, i]));
    expect(by.msdk).toMatchObject({ status: 'ok', path: msdk, source: 'usual location' });
    expect(by['arm-gcc']).toMatchObject({ status: 'ok', source: 'MSDK', version: expect.stringMatching(/arm-none-eabi-gcc/) });
    expect(by.openocd).toMatchObject({ status: 'ok', source: 'MSDK', version: expect.stringMatching(/Open On-Chip Debugger/) });
    expect(by.make).toMatchObject({ status: 'ok', source: 'PATH', version: expect.stringMatching(/GNU Make/) });
    expect(by.izer).toMatchObject({ status: 'ok', path: izer, version: 'commit ab4f4c011111' });
    expect(by.python).toMatchObject({ status: 'ok', source: 'izer venv', version: expect.stringMatching(/^Python 3/) });
    expect(by['python-modules']!.status).toBe('ok');
    expect(by['openocd-scripts']!.status).toBe('ok');
    expect(r.ready).toBe(true);
  });

  it('prefers $MAXIM_PATH and settings over usual locations', async () => {
    const a = fakeHome(true);
    const b = fakeHome(true);
    let r = await runDoctor(ctx(a.home, {}, { PATH: '/usr/bin:/bin', MAXIM_PATH: b.msdk }));
    expect(r.items.find((i) => i.id === 'msdk')).toMatchObject({ path: b.msdk, source: '$MAXIM_PATH' });
    r = await runDoctor(ctx(a.home, { maximPath: a.msdk }, { PATH: '/usr/bin:/bin', MAXIM_PATH: b.msdk }));
    expect(r.items.find((i) => i.id === 'msdk')).toMatchObject({ path: a.msdk, source: 'settings' });
  });

  it('lists every missing part with a fix on an empty machine', async () => {
    const home = mkdtempSync(join(tmpdir(), 'qatwb-empty-'));
    const r = await runDoctor(ctx(home, {}, { PATH: join(home, 'nothing') }));
    expect(r.ready).toBe(false);
    for (const id of ['izer', 'python', 'msdk', 'arm-gcc', 'make', 'openocd'] as const) {
      const item = r.items.find((i) => i.id === id)!;
      expect(item.status, id).toBe('missing');
      expect(item.fix, id).toBeTruthy();
    }
    const text = formatDoctor(r).join('\n');
    expect(text).toMatch(/\[MISS\] MSDK/);
    expect(text).toMatch(/fix: Install the MSDK/);
  });

  it('warns when the OpenOCD scripts lack the MAX78002 target, and names missing python modules', async () => {
    const { home } = fakeHome(false);
    const pyenvPython = '/root/.pyenv/versions/3.11.7/bin/python3'; // has numpy and yaml, not torch
    const r = await runDoctor(ctx(home, existsSync(pyenvPython) ? { python: pyenvPython } : {}));
    expect(r.items.find((i) => i.id === 'openocd-scripts')).toMatchObject({ status: 'warning', fix: expect.stringMatching(/max78002\.cfg/) });
    if (existsSync(pyenvPython)) {
      expect(r.items.find((i) => i.id === 'python-modules')).toMatchObject({ status: 'missing', detail: expect.stringMatching(/^cannot import: .*\btorch\b/) });
    }
    expect(r.ready).toBe(false);
  });

  it('a set path that is not executable is missing, not silently replaced', async () => {
    const { home } = fakeHome(true);
    const r = await runDoctor(ctx(home, { openocd: join(home, 'no-openocd') }));
    expect(r.items.find((i) => i.id === 'openocd')).toMatchObject({ status: 'missing', detail: expect.stringMatching(/not an executable/) });
  });
});
