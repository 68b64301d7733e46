// `npm test` means the same on every machine: the checkout's files alone (tracked and not ignored), in a folder with no
// ../shared beside them, still run the bit-exact suites (fixtures come from the repository), and in
// strict mode a missing external tool fails loudly with what to install instead of skipping.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from '../support/fixtures.ts';

const BIT_EXACT = ['test/conformance/conformance.test.ts', 'src-main/sim/engines.test.ts', 'test/formats/npy.test.ts'];

interface Report { numPassedTests: number; numFailedTests: number; numPendingTests: number; testResults: { message?: string; assertionResults: { status: string; failureMessages?: string[] }[] }[] }

describe('a copy of the tracked files with no ../shared beside it', () => {
  let root: string;
  let clone: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'qatwb-clone-'));
    clone = join(root, 'checkout');
    const files = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO_ROOT, encoding: 'utf8' }).stdout.split('\0').filter(Boolean);
    for (const f of files) {
      mkdirSync(dirname(join(clone, f)), { recursive: true });
      try {
        copyFileSync(join(REPO_ROOT, f), join(clone, f));
      } catch {
        // A tracked file deleted in the working tree is not part of this checkout either.
      }
    }
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(clone, 'node_modules'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  function vitest(files: string[], env: Record<string, string | undefined>): Report {
    const out = join(root, `report-${Date.now()}.json`);
    const childEnv: NodeJS.ProcessEnv = { ...process.env, CI: undefined, QATWB_STRICT: undefined, QATWB_IZER: undefined, ...env };
    for (const k of Object.keys(childEnv)) if (childEnv[k] === undefined) delete childEnv[k];
    spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--reporter=json', `--outputFile=${out}`, ...files], { cwd: clone, env: childEnv, encoding: 'utf8', timeout: 300_000 });
    return JSON.parse(readFileSync(out, 'utf8')) as Report;
  }

  it('runs the bit-exact suites from its own fixtures: all pass, none skipped', () => {
    const r = vitest(BIT_EXACT, {});
    expect(r.numFailedTests).toBe(0);
    expect(r.numPendingTests).toBe(0);
    expect(r.numPassedTests).toBeGreaterThan(5);
  });

  it('in strict mode, the missing ai8x-synthesis fails the requirements suite and says what to do', () => {
    const r = vitest(['test/repo/requirements.test.ts'], { QATWB_STRICT: '1' });
    expect(r.numFailedTests).toBeGreaterThan(0);
    const messages = JSON.stringify(r.testResults);
    expect(messages).toMatch(/no ai8x-synthesis at .*QATWB_IZER/);
  });

  it('outside strict mode, the same suite skips the izer check with the reason in the title', () => {
    const r = vitest(['test/repo/requirements.test.ts'], {});
    expect(r.numFailedTests).toBe(0);
    expect(JSON.stringify(r.testResults)).toMatch(/ai8x-synthesis is installed \[skipped: no ai8x-synthesis at/);
  });
});
