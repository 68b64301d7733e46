// The folder the threaded WASM worker script is written to: used only when it is a real folder
// owned by this user with no group/other access; a planted folder, a loose one, or a symlink to
// someone else's folder is never used.
import { describe, expect, it } from 'vitest';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { privateDir } from '../../src-main/platform/private-dir.ts';

const uid = process.getuid!();
const mine = (dir: string) => {
  const st = lstatSync(dir);
  return st.isDirectory() && st.uid === uid && (st.mode & 0o777) === 0o700;
};

describe('privateDir', () => {
  it('creates <base>/qatwb-<uid> with mode 0700 and reuses it', () => {
    const base = mkdtempSync(join(tmpdir(), 'qatwb-pd-'));
    const d = privateDir(base);
    expect(d).toBe(join(base, `qatwb-${uid}`));
    expect(mine(d)).toBe(true);
    expect(privateDir(base)).toBe(d);
  });
  it('does not use a folder others can write', () => {
    const base = mkdtempSync(join(tmpdir(), 'qatwb-pd-'));
    const planted = join(base, `qatwb-${uid}`);
    mkdirSync(planted);
    chmodSync(planted, 0o777);
    const d = privateDir(base);
    expect(d).not.toBe(planted);
    expect(mine(d)).toBe(true);
  });
  it('does not follow a symlink planted under the name', () => {
    const base = mkdtempSync(join(tmpdir(), 'qatwb-pd-'));
    const elsewhere = mkdtempSync(join(tmpdir(), 'qatwb-pd-other-'));
    chmodSync(elsewhere, 0o700);
    symlinkSync(elsewhere, join(base, `qatwb-${uid}`));
    const d = privateDir(base);
    expect(d).not.toBe(join(base, `qatwb-${uid}`));
    expect(mine(d)).toBe(true);
  });
});

describe('the threaded WASM backend', () => {
  it('loads its worker script from the private folder, not a shared temp name', async () => {
    const { execFileSync } = await import('node:child_process');
    const { readdirSync, writeFileSync } = await import('node:fs');
    const base = mkdtempSync(join(tmpdir(), 'qatwb-pd-tf-'));
    // A file, not -e: the pthread workers inherit execArgv, and --input-type would break them.
    const script = join(mkdtempSync(join(tmpdir(), 'qatwb-pd-script-')), 'init.mjs');
    writeFileSync(script, `const { initBackend } = await import(${JSON.stringify(new URL('../../src-main/training/backend.ts', import.meta.url).href)});
      const b = await initBackend({ prefer: 'wasm' }); console.log(b.threads); process.exit(0);`);
    const out = execFileSync(process.execPath, ['--import', 'tsx', script], {
      env: { ...process.env, TMPDIR: base, QATWB_WASM_THREADS: '' }, encoding: 'utf8', timeout: 90_000,
    });
    expect(Number(out.trim().split('\n').at(-1))).toBeGreaterThan(1); // the threaded binary really started from that file
    expect(readdirSync(base).filter((n) => n.startsWith('qatwb'))).toEqual([`qatwb-${uid}`]);
    expect(mine(join(base, `qatwb-${uid}`))).toBe(true);
    expect(readdirSync(join(base, `qatwb-${uid}`))).toEqual([expect.stringMatching(/^tfjs-wasm-[\d.]+-pthread\.cjs$/)]);
  }, 120_000);
});
