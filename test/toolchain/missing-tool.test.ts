// A tool that is not found: the app's message speaks the Settings screen's words (no internal field
// name, no CLI flag); the CLI adds the flag that points at it. Empty home, no saved settings.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesizeFlow } from '../../src-main/toolchain/flow.ts';
import { conformance, REPO_ROOT } from '../support/fixtures.ts';

const art = conformance('mnist-qat8');

describe('a missing ai8x-synthesis', () => {
  it('is named as Settings names it, with the Settings fix', async () => {
    const home = mkdtempSync(join(tmpdir(), 'qatwb-home-'));
    const err = await synthesizeFlow({ settings: {}, home }, { artifactsDir: art, outDir: join(home, 'out') }).then(() => null, (e: Error) => e);
    expect(err).not.toBeNull();
    expect(err!.message).toContain('ai8x-synthesis checkout');
    expect(err!.message).toContain('Settings → ai8x-synthesis');
    expect(err!.message).not.toMatch(/izerDir|--izer/);
  });

  it('the CLI adds its flag', () => {
    const home = mkdtempSync(join(tmpdir(), 'qatwb-home-'));
    const r = spawnSync(process.execPath, ['bin/qatwb.mjs', 'synthesize', '--artifacts', art, '--out', join(home, 'out'), '--state-dir', home], {
      cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, HOME: home, QATWB_STATE_DIR: home },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('ai8x-synthesis checkout');
    expect(r.stderr).toContain('on the command line: --izer PATH');
  });
});
