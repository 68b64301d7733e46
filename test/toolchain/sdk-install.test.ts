// "Install ai8x-synthesis", offline: a local git repository made from the shared copy of the real
// generator (git init + commit + tag in a temp folder) is installed through the real
// bin/qatwb.mjs (git clone at the tag, a venv over the system's packages, nothing to pip), and the
// installed copy then synthesizes one of our exports with its own venv Python. Also: a commit
// ref, cancel (the half-made folder is removed), a repository that is not ai8x-synthesis, a
// non-empty target, "use an existing checkout", and the doctor on the installed copy.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installIzer, inspectCheckout } from '../../src-main/toolchain/sdk/install-izer.ts';
import { runDoctor } from '../../src-main/toolchain/doctor.ts';
import { runSynthesize } from '../../src-main/toolchain/steps/synthesize.ts';
import { ToolchainError } from '../../src-main/toolchain/toolchain-error.ts';
import { ecgNet } from '../../src-main/ir/zoo.ts';
import { gate, izerDir, need, REPO_ROOT } from '../support/fixtures.ts';
import { createRpcServer } from '../../src-main/rpc/serve.ts';
import { createRpcClient } from '../../src-main/rpc/client.ts';
import { memoryTransport } from '../../src-main/rpc/memory-transport.ts';
import { createToolchainService } from '../../src-main/toolchain/toolchain.service.ts';
import type { ToolPathChange } from '../../src-main/services.ts';
import { exportNetwork } from '../izer/izer-harness.ts';
import { ToolchainProgressData } from '../../src-main/api/toolchain.api.ts';

const req = gate(need.izer(), need.command('git', 'git'));

function git(cwd: string, ...args: string[]): string {
  const r = spawnSync('git', ['-c', 'user.name=qatwb test', '-c', 'user.email=test@invalid', ...args], { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** A git repository of the shared izer copy, tagged v-test; returns its folder and commit. */
function izerRepo(): { dir: string; commit: string } {
  const dir = join(mkdtempSync(join(tmpdir(), 'qatwb-izer-repo-')), 'ai8x-synthesis');
  cpSync(izerDir(), dir, { recursive: true, filter: (src) => !src.includes('__pycache__') });
  git(dir, 'init', '-q');
  git(dir, 'add', '.');
  git(dir, 'commit', '-q', '-m', 'ai8x-synthesis (test copy)');
  git(dir, 'tag', 'v-test');
  return { dir, commit: git(dir, 'rev-parse', 'HEAD') };
}

describe.skipIf(req.skip)(`installing ai8x-synthesis from a local repository${req.note}`, () => {
  const repo = req.skip ? { dir: '', commit: '' } : izerRepo();

  it('qatwb sdk install clones the tag, makes a venv over the system packages, and the copy synthesizes', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'qatwb-sdk-')), 'data', 'ai8x-synthesis');
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/qatwb.mjs'), 'sdk', 'install', 'ai8x-synthesis', '--from', repo.dir, '--tag', 'v-test', '--dir', dir, '--json', '--quiet'],
      { encoding: 'utf8', cwd: REPO_ROOT, timeout: 300_000 });
    expect(r.status, r.stderr + r.stdout).toBe(0);
    const doc = JSON.parse(r.stdout) as { izerDir: string; python: string; ref: string; commit: string; installed: string[]; satisfied: string[]; log: string };
    expect(doc).toMatchObject({ izerDir: dir, ref: 'v-test', commit: repo.commit, installed: [] });
    expect(doc.python).toBe(join(dir, 'venv', 'bin', 'python3'));
    expect(doc.satisfied).toEqual(expect.arrayContaining(['torch', 'numpy', 'yaml', 'rich', 'xxhash', 'git', 'github', 'onnx']));
    expect(readFileSync(join(dir, 'venv', 'pyvenv.cfg'), 'utf8')).toMatch(/include-system-site-packages = true/);
    expect(readFileSync(doc.log, 'utf8')).toMatch(/Cloning into/);

    // The installed copy is a working generator with its own environment.
    const e = await exportNetwork(ecgNet(), { seed: 9 });
    const s = await runSynthesize({ python: doc.python, izerDir: doc.izerDir, artifacts: e.artifacts, testDir: join(e.dir, 'out'), prefix: 'ecg', timeoutMs: 120_000 });
    expect(s.resources).toEqual(expect.objectContaining({ weightBytes: e.plan.weightMemoryBytes, biasBytes: e.plan.biasMemoryBytes }));

    // The doctor on it: versions shown, everything the izer needs present.
    const report = await runDoctor({ settings: { izerDir: doc.izerDir, python: doc.python }, env: { PATH: process.env.PATH }, home: tmpdir(), platform: process.platform });
    const item = (id: string) => report.items.find((i) => i.id === id)!;
    expect(item('izer')).toMatchObject({ status: 'ok', version: `commit ${repo.commit.slice(0, 12)}` });
    expect(item('python')).toMatchObject({ status: 'ok', path: doc.python });
    expect(item('python').version).toMatch(/^Python 3\./);
    expect(item('python-modules')).toMatchObject({ status: 'ok' });

    // "Use an existing checkout" finds the venv and the commit.
    expect(inspectCheckout(dir)).toEqual({ izerDir: dir, python: doc.python, commit: repo.commit });
  }, 400_000);

  it('the app service installs into its data folder after confirmation, saves the settings, and streams the log', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'qatwb-sdk-state-'));
    const asked: ToolPathChange[][] = [];
    const lines: string[] = [];
    let server: ReturnType<typeof createRpcServer>;
    const make = (approve?: (c: ToolPathChange[]) => Promise<boolean>) => {
      server = createRpcServer({ toolchain: createToolchainService({ stateDir, emit: (sv, e, p) => { if (e === 'log') lines.push((p as { line: string }).line); server.emit(sv, e, p); }, ...(approve ? { approveToolPaths: approve } : {}) }) });
      return createRpcClient(memoryTransport(server)).services.toolchain;
    };
    // Web mode (no one to confirm): refused, nothing cloned.
    await expect(make().installIzer({ from: repo.dir, ref: 'v-test' })).rejects.toMatchObject({ code: 'forbidden' });
    await expect(make(async () => false).installIzer({ from: repo.dir, ref: 'v-test' })).rejects.toMatchObject({ code: 'cancelled' });
    expect(existsSync(join(stateDir, 'sdk', 'ai8x-synthesis'))).toBe(false);
    const svc = make(async (c) => (asked.push(c), true));
    const fractions: number[] = [];
    const r = await svc.installIzer({ from: repo.dir, ref: 'v-test' }, { onProgress: (p) => fractions.push(p.fraction ?? -1) });
    expect(r.izerDir).toBe(join(stateDir, 'sdk', 'ai8x-synthesis'));
    expect(asked[0]!.map((c) => c.field)).toEqual(['izerDir', 'python']);
    expect(await svc.getSettings({})).toMatchObject({ izerDir: r.izerDir, python: r.python });
    expect(fractions.at(-1)).toBe(1);
    expect(lines.some((l) => /Cloning into/.test(l))).toBe(true);
    const doctor = await svc.doctor({});
    expect(doctor.items.filter((i) => ['izer', 'python', 'python-modules'].includes(i.id)).map((i) => i.status)).toEqual(['ok', 'ok', 'ok']);

    // "Use an existing checkout" on a second state folder: asks, then points the settings at it.
    const other = createRpcClient(memoryTransport(createRpcServer({ toolchain: createToolchainService({ stateDir: mkdtempSync(join(tmpdir(), 'qatwb-sdk-state-')), emit: () => undefined, approveToolPaths: async () => true }) }))).services.toolchain;
    expect(await other.useIzerCheckout({ dir: r.izerDir })).toMatchObject({ izerDir: r.izerDir, python: r.python });
    await expect(other.useIzerCheckout({ dir: stateDir })).rejects.toThrow(/has no ai8xize\.py/);
  }, 400_000);

  it('installs a commit (full clone, detached checkout)', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'qatwb-sdk-')), 'izer');
    const r = await installIzer({ from: repo.dir, ref: repo.commit, dir });
    expect(r.commit).toBe(repo.commit);
    expect(existsSync(join(dir, 'ai8xize.py'))).toBe(true);
  }, 300_000);

  it('cancel stops the install and removes the half-made folder', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'qatwb-sdk-')), 'izer');
    const ac = new AbortController();
    const steps: string[] = [];
    const p = installIzer({ from: repo.dir, ref: 'v-test', dir, signal: ac.signal, onProgress: (x) => {
      const d = ToolchainProgressData.parse(x.data);
      if (d.kind !== 'install') throw new Error(`install progress of kind ${d.kind}`);
      steps.push(d.step);
      if (d.step === 'venv') ac.abort();
    } });
    const err = await p.then(() => undefined, (x: unknown) => x);
    expect(err).toBeInstanceOf(ToolchainError);
    expect((err as ToolchainError).reason).toBe('cancelled');
    expect(steps).toContain('clone');
    expect(existsSync(dir)).toBe(false);
    expect(readFileSync(`${dir}.install.log`, 'utf8')).toMatch(/failed/);
  }, 300_000);

  it('refuses a repository without ai8xize.py, a non-empty folder, and a checkout that is not the izer', async () => {
    const other = mkdtempSync(join(tmpdir(), 'qatwb-notizer-'));
    writeFileSync(join(other, 'README.md'), 'not the izer\n');
    git(other, 'init', '-q');
    git(other, 'add', '.');
    git(other, 'commit', '-q', '-m', 'x');
    git(other, 'tag', 'v1');
    const dir = join(mkdtempSync(join(tmpdir(), 'qatwb-sdk-')), 'izer');
    await expect(installIzer({ from: other, ref: 'v1', dir })).rejects.toThrow(/has no ai8xize\.py: it is not ai8x-synthesis/);
    expect(existsSync(dir)).toBe(false);

    const full = mkdtempSync(join(tmpdir(), 'qatwb-sdk-full-'));
    mkdirSync(join(full, 'something'));
    await expect(installIzer({ from: repo.dir, dir: full })).rejects.toThrow(/already exists and is not empty/);
    expect(() => inspectCheckout(other)).toThrow(/has no ai8xize\.py/);

    const bad = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/qatwb.mjs'), 'sdk', 'install', 'msdk', '--from', other, '--dir', dir], { encoding: 'utf8', cwd: REPO_ROOT });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unexpected argument "msdk".*qatwb sdk install ai8x-synthesis/);
  }, 120_000);
});
