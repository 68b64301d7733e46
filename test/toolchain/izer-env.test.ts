// The izer's environment is an allow-list at the last gate too: `qatwb synthesize --izer-env`
// with a name that makes Python run code is refused before the izer starts.
import { describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { main } from '../../src-main/cli/main.ts';
import { conformance } from '../support/fixtures.ts';

const FIX = resolve(import.meta.dirname, '../fixtures/toolchain');

describe('qatwb synthesize --izer-env', () => {
  it('refuses PYTHONWARNINGS / BROWSER before running anything', async () => {
    const art = mkdtempSync(join(tmpdir(), 'qatwb-env-art-'));
    for (const f of ['checkpoint.pth.tar', 'network.yaml', 'sample.input.npy']) copyFileSync(conformance('mnist-qat8', f), join(art, f));
    const out = mkdtempSync(join(tmpdir(), 'qatwb-env-out-'));
    const marker = join(out, 'ran');
    const err: string[] = [];
    const code = await main(['synthesize', '--artifacts', art, '--out', out, '--izer', join(FIX, 'fake-izer'), '--python', '/usr/bin/python3',
      '--state-dir', mkdtempSync(join(tmpdir(), 'qatwb-env-state-')), '--izer-env', `BROWSER=touch ${marker},PYTHONWARNINGS=ignore::antigravity.x`, '--quiet'],
    { out: () => {}, err: (l) => err.push(l) });
    expect(code).not.toBe(0);
    expect(err.join('\n')).toMatch(/izerEnv: BROWSER, PYTHONWARNINGS cannot be passed to the izer; allowed: CUDA_VISIBLE_DEVICES/);
    expect(existsSync(join(out, 'ai85net5'))).toBe(false);
    expect(existsSync(marker)).toBe(false);
  });
});
