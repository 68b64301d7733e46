// `qatwb ... | head -1`: when the reader closes the pipe, every command ends quietly (exit 0, no
// EPIPE stack trace on stderr). Real child processes of bin/qatwb.mjs with a stdout whose reader is
// already gone when the command writes.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commands } from '../../src-main/cli/commands/index.ts';
import { conformance, REPO_ROOT } from '../support/fixtures.ts';

/** Runs qatwb with stdout closed before it writes; returns the exit code and what it said on stderr. */
function runWithClosedStdout(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/qatwb.mjs', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // tsx start-up takes far longer than this: nothing has been written yet
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`qatwb ${args.join(' ')} still running after 30 s with its stdout closed:\n${stderr}`));
    }, 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

const planArgs = ['--checkpoint', conformance('mnist-qat8', 'checkpoint.pth.tar'), '--network', conformance('mnist-qat8', 'network.yaml'), '--input', conformance('mnist-qat8', 'sample.input.npy')];

describe('qatwb with its output closed by the reader', () => {
  it('plan (text and --json) ends quietly with exit 0', async () => {
    for (const extra of [[], ['--json']]) {
      const r = await runWithClosedStdout(['plan', ...planArgs, ...extra]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
  }, 60_000);

  it('the top-level help and every command\'s --help end quietly', async () => {
    for (const args of [['--help'], ...Object.keys(commands).map((name) => [name, '--help'])]) {
      const r = await runWithClosedStdout(args);
      expect(r.stderr, args.join(' ')).toBe('');
      expect(r.code, args.join(' ')).toBe(0);
    }
  }, 120_000);

  it('a long-running command (serve) ends instead of serving on with nobody reading', async () => {
    const state = mkdtempSync(join(tmpdir(), 'qatwb-closed-'));
    const r = await runWithClosedStdout(['serve', '--state-dir', state, '--renderer-dir', state]);
    expect(r.stderr).not.toMatch(/EPIPE|Error|at /);
    expect(r.code).toBe(0);
  }, 60_000);
});
