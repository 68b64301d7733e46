// `qatwb synthesize` with the real ai8x-synthesis, through the real bin/qatwb.mjs: an export of
// ours is synthesized, cross-checked (ok) and reports the weight and bias memory the izer counted,
// which equal the planner's; the live-check harness is in the generated project; the MNIST example
// trained with qatwb train goes through (the export the izer once refused); a YAML that lacks
// a layer is refused before the izer runs (the izer itself would accept it).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ecgNet } from '../../src-main/ir/zoo.ts';
import { gate, izerDir, need, PYTHON, REPO_ROOT } from '../support/fixtures.ts';
import { exportNetwork } from './izer-harness.ts';

const izer = gate(need.izer());
const state = mkdtempSync(join(tmpdir(), 'qatwb-state-'));

function qatwb(...args: string[]) {
  return spawnSync(process.execPath, [join(REPO_ROOT, 'bin/qatwb.mjs'), ...args], { encoding: 'utf8', cwd: REPO_ROOT, timeout: 180_000 });
}

describe.skipIf(izer.skip)(`qatwb synthesize with the real ai8x-synthesis${izer.note}`, () => {
  it('prints {projectDir, crossCheck: "ok", weightBytes, biasBytes} equal to the planner, with the harness added', async () => {
    const e = await exportNetwork(ecgNet(), { seed: 7, bits: { conv1: 8, conv2: 4, conv3: 2, conv4: 8, fc: 8 } });
    const out = join(e.dir, 'project');
    const r = qatwb('synthesize', '--artifacts', join(e.dir, 'export'), '--izer', izerDir(), '--python', PYTHON, '--out', out, '--state-dir', state, '--json', '--quiet');
    expect(r.status, r.stderr + r.stdout).toBe(0);
    const doc = JSON.parse(r.stdout) as { projectDir: string; crossCheck: string; weightBytes: number; biasBytes: number; harness: { added: boolean }; crossCheckDetail: { izer: number[] } };
    expect(doc).toMatchObject({ projectDir: join(out, 'ai87ecgnet'), crossCheck: 'ok', weightBytes: e.plan.weightMemoryBytes, biasBytes: e.plan.biasMemoryBytes });
    expect(doc.crossCheckDetail.izer).toEqual(Array.from(e.expected));
    expect(doc.harness.added).toBe(true);
    expect(existsSync(join(doc.projectDir, 'qatwb_model.h'))).toBe(true);
    expect(readFileSync(join(doc.projectDir, 'main.c'), 'utf8')).toMatch(/qatwb_kat_main/);

    // Human output says the same.
    const h = qatwb('synthesize', '--artifacts', join(e.dir, 'export'), '--izer', izerDir(), '--python', PYTHON, '--out', join(e.dir, 'project2'), '--state-dir', state, '--quiet');
    expect(h.status, h.stderr).toBe(0);
    expect(h.stdout).toMatch(new RegExp(`Weight memory: ${e.plan.weightMemoryBytes} bytes; bias memory: ${e.plan.biasMemoryBytes} bytes`));
    expect(h.stdout).toMatch(/cross-check ok/);
  }, 240_000);

  it('the new user\'s path: qatwb train on the MNIST example (ai85net5), then qatwb synthesize: accepted, bit-exact, same memory as qatwb plan', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qatwb-newuser-'));
    const t = qatwb('train', '--example', 'mnist', '--limit', '100', '--float-epochs', '1', '--qat-epochs', '1', '--out', join(dir, 'export'), '--json');
    expect(t.status, t.stderr).toBe(0);
    const s = qatwb('synthesize', '--artifacts', join(dir, 'export'), '--izer', izerDir(), '--python', PYTHON, '--out', join(dir, 'project'), '--state-dir', state, '--json', '--quiet');
    expect(s.status, s.stderr + s.stdout).toBe(0);
    const doc = JSON.parse(s.stdout) as { crossCheck: string; weightBytes: number; biasBytes: number; projectDir: string };
    expect(doc.crossCheck).toBe('ok');
    const p = qatwb('plan', '--checkpoint', join(dir, 'export', 'checkpoint.pth.tar'), '--network', join(dir, 'export', 'network.yaml'), '--input', join(dir, 'export', 'sample.input.npy'), '--json');
    expect(p.status, p.stderr).toBe(0);
    const plan = JSON.parse(p.stdout) as { weightMemoryBytes: number; biasMemoryBytes: number };
    expect({ w: doc.weightBytes, b: doc.biasBytes }).toEqual({ w: plan.weightMemoryBytes, b: plan.biasMemoryBytes });
    expect(doc.projectDir).toBe(join(dir, 'project', 'ai85net5'));
  }, 300_000);

  it('refuses a YAML without the last layer before running the izer (exit 1, reason layer-count)', async () => {
    const e = await exportNetwork(ecgNet(), { seed: 8 });
    const blocks = readFileSync(e.artifacts.yaml, 'utf8').trimEnd().split('\n  - ');
    writeFileSync(e.artifacts.yaml, blocks.slice(0, -1).join('\n  - ') + '\n');
    const r = qatwb('synthesize', '--artifacts', join(e.dir, 'export'), '--izer', izerDir(), '--python', PYTHON, '--out', join(e.dir, 'p'), '--state-dir', state, '--json', '--quiet');
    expect(r.status).toBe(1);
    const doc = JSON.parse(r.stdout) as { error: { reason: string; message: string; fix: string } };
    expect(doc.error).toMatchObject({ reason: 'layer-count' });
    expect(doc.error.message).toMatch(/4 layers with weights but checkpoint\.pth\.tar holds 5/);
    expect(existsSync(join(e.dir, 'p'))).toBe(false);
  }, 120_000);
});
