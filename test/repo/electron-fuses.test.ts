// The packaged app flips Electron's fuses off for what it does not use. Checked against
// electron-builder's own config schema (the packager cannot run on these machines).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../support/fixtures.ts';

describe('build/electron-builder.yml fuses', () => {
  const config = parse(readFileSync(join(REPO_ROOT, 'build/electron-builder.yml'), 'utf8')) as { electronFuses?: Record<string, boolean> };
  it('sets only fuses electron-builder knows, as booleans', () => {
    const scheme = JSON.parse(readFileSync(createRequire(join(REPO_ROOT, 'package.json')).resolve('app-builder-lib/scheme.json'), 'utf8'));
    const known = Object.keys(scheme.definitions.FuseOptionsV1.properties);
    expect(config.electronFuses).toBeDefined();
    for (const [k, v] of Object.entries(config.electronFuses!)) {
      expect(known, k).toContain(k);
      expect(typeof v, k).toBe('boolean');
    }
  });
  it('turns off NODE_OPTIONS, --inspect and the browser V8 snapshot; keeps RunAsNode only because the device process needs it', () => {
    expect(config.electronFuses).toMatchObject({ enableNodeOptionsEnvironmentVariable: false, enableNodeCliInspectArguments: false, enableCookieEncryption: true });
    const deviceProcess = readFileSync(join(REPO_ROOT, 'src-main/device/device-process.ts'), 'utf8');
    expect(config.electronFuses!.runAsNode).toBe(/ELECTRON_RUN_AS_NODE/.test(deviceProcess));
  });
});
