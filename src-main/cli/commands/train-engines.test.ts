// `qatwb train --engine embedded|pytorch` through the spawned CLI on the same MNIST subset and seed:
// both summaries name their engine and device, the two QAT INT8 accuracies (through the simulator)
// land within 1 percentage point, and the PyTorch run's exports go through the real ai8x-synthesis
// with the izer's expected output equal to our simulator's (the cross-check).
// --device cuda where torch sees no such GPU fails before any data is loaded, naming the flag and the doctor's finding.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PYTHON, izerDir, missing, need, skipNote } from '../../../test/support/fixtures.ts';

const qatwb = (args: string[]) => spawnSync('node', ['bin/qatwb.mjs', ...args], { encoding: 'utf8', timeout: 900_000 });
const reqs = [need.python(), need.numpy(), need.torch()];
// Small enough for two busy cores: 2,000 digits, 2 epochs (float, then QAT), 600 test digits.
const RUN = ['train', '--example', 'mnist', '--limit', '2000', '--test', '0.3', '--epochs', '2', '--qat-start', '1', '--batch-size', '32', '--seed', '4', '--json'];

describe.skipIf(missing(...reqs))(`qatwb train --engine${skipNote(...reqs)}`, () => {
  it('embedded and pytorch land within 1 pp on MNIST; the PyTorch exports pass the real izer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qatwb-engines-'));
    const emb = qatwb([...RUN, '--engine', 'embedded']);
    expect(emb.status, emb.stderr).toBe(0);
    const torch = qatwb([...RUN, '--engine', 'pytorch', '--python', PYTHON, '--device', 'cpu', '--threads', '1', '--out', join(dir, 'torch')]);
    expect(torch.status, torch.stderr).toBe(0);
    const e = JSON.parse(emb.stdout);
    const t = JSON.parse(torch.stdout);
    expect([e.engine, e.device]).toEqual(['embedded', 'cpu']);
    expect([t.engine, t.device]).toEqual(['pytorch', 'cpu']);
    expect(t.backend).toMatch(/^PyTorch /);
    expect(t.table.find((r: { name: string }) => r.name === 'qat').total).toBeGreaterThan(550);
    expect(e.qatAccuracy).toBeGreaterThan(0.8);
    expect(Math.abs(t.qatAccuracy - e.qatAccuracy), `QAT ${t.qatAccuracy} vs ${e.qatAccuracy}`).toBeLessThanOrEqual(0.01);
    expect(existsSync(join(dir, 'torch', 'checkpoint.pth.tar'))).toBe(true);

    if (missing(need.izer())) return; // outside strict mode only; the summary names the reason
    const s = qatwb(['synthesize', '--artifacts', join(dir, 'torch'), '--izer', izerDir(), '--python', PYTHON, '--out', join(dir, 'izer'), '--no-harness', '--json']);
    expect(s.status, s.stderr + s.stdout).toBe(0);
    expect(JSON.parse(s.stdout).crossCheck).toBe('ok');
  }, 1_500_000);

  it('refuses PyTorch-only options for the embedded engine and a bad compute device', () => {
    const a = qatwb(['train', '--example', 'mnist', '--epochs', '1', '--gpus', '2']);
    expect(a.status).toBe(2);
    expect(a.stderr).toMatch(/--gpus applies to --engine pytorch only/);
    const b = qatwb(['train', '--example', 'mnist', '--epochs', '1', '--engine', 'pytorch', '--device', 'tpu']);
    expect(b.status).toBe(2);
    expect(b.stderr).toMatch(/--device expects cpu, cuda, cuda:N/);
    // --python is used as given: a Python that is not there is named, never swapped for another one found.
    const missingPython = join(tmpdir(), 'no-such-dir', 'python3');
    const c = qatwb(['train', '--example', 'mnist', '--limit', '100', '--epochs', '1', '--engine', 'pytorch', '--python', missingPython]);
    expect(c.status).toBe(1);
    expect(c.stderr).toContain(missingPython);
    expect(c.stderr).toMatch(/was not found/);
    // Settings are never read from the shared temp folder, where anyone can put a toolchain-settings.json naming a program.
    const shared = mkdtempSync(join(tmpdir(), 'qatwb-shared-tmp-'));
    writeFileSync(join(shared, 'toolchain-settings.json'), JSON.stringify({ torchPython: join(shared, 'planted-python') }));
    const d = spawnSync('node', ['bin/qatwb.mjs', 'train', '--example', 'mnist', '--limit', '100', '--epochs', '1', '--engine', 'pytorch', '--device', 'cuda:99'],
      { encoding: 'utf8', timeout: 300_000, env: { ...process.env, TMPDIR: shared } });
    expect(d.status).toBe(1);
    expect(d.stderr).toMatch(/--device cuda:99/);
    expect(d.stderr).not.toContain('planted-python');
  });

  it('--device cuda without that GPU fails fast, naming the flag and what the doctor found, before a run is kept', () => {
    // The first index this Python's torch does not have: cuda (0) here without a GPU, cuda:N on a GPU machine.
    const count = Number(spawnSync(PYTHON, ['-c', 'import torch; print(torch.cuda.device_count() if torch.cuda.is_available() else 0)'], { encoding: 'utf8' }).stdout.trim());
    const device = count === 0 ? 'cuda' : `cuda:${count}`;
    const project = mkdtempSync(join(tmpdir(), 'qatwb-nocuda-'));
    const r = qatwb(['train', '--example', 'mnist', '--limit', '200', '--epochs', '1', '--engine', 'pytorch', '--python', PYTHON, '--device', device, '--project', project, '--json']);
    expect(r.status).toBe(1);
    expect(r.stderr).not.toMatch(/Traceback|at .*\.ts:\d+/);
    expect(r.stderr).toMatch(new RegExp(`--device ${device} \\(computeDevice\\): .*; the doctor found .*: torch \\S+, ${count === 0 ? 'no CUDA device' : 'CUDA 0: '}`));
    expect(r.stderr).toMatch(/Fix: Train with --device cpu/);
    expect(JSON.parse(r.stdout).error.code).toBe('toolchain');
    expect(r.stderr).not.toMatch(/\[start\] run /); // no run began
    expect(existsSync(join(project, 'runs'))).toBe(false);
  });
});
