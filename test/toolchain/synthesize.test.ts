// The synthesize flow against the STAND-IN izer (test/fixtures/toolchain/fake-izer/ai8xize.py, run
// by the real /usr/bin/python3): argument building, process handling, layout check, error mapping
// of izer failures, the harness injection (compiled and run with the host gcc) and both outcomes
// of the cross-check against our real simulator on conformance fixtures.
import { describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runSynthesize, IZER_EXPECTED_NAME } from '../../src-main/toolchain/steps/synthesize.ts';
import { crossCheck } from '../../src-main/toolchain/steps/cross-check.ts';
import { addHarness, patchKatMain } from '../../src-main/toolchain/steps/harness.ts';
import { resolveArtifacts } from '../../src-main/toolchain/artifacts.ts';
import { runProcess } from '../../src-main/toolchain/run-process.ts';
import { ToolchainError } from '../../src-main/toolchain/toolchain-error.ts';
import type { Progress } from '../../src-main/api/contract.ts';
import { CONFORMANCE } from '../support/fixtures.ts';

const FIX = resolve(import.meta.dirname, '../fixtures/toolchain');
const CONF = CONFORMANCE;
const PYTHON = '/usr/bin/python3';

export function artifactsFrom(kase: string, yamlFrom = kase): string {
  const dir = mkdtempSync(join(tmpdir(), `qatwb-art-${kase}-`));
  copyFileSync(join(CONF, kase, 'checkpoint.pth.tar'), join(dir, 'checkpoint.pth.tar'));
  copyFileSync(join(CONF, yamlFrom, 'network.yaml'), join(dir, 'network.yaml'));
  copyFileSync(join(CONF, kase, 'sample.input.npy'), join(dir, 'sample.input.npy'));
  return dir;
}

function synth(artDir: string, env: Record<string, string>, onProgress?: (p: Progress) => void) {
  const out = mkdtempSync(join(tmpdir(), 'qatwb-out-'));
  return runSynthesize({
    python: PYTHON, izerDir: join(FIX, 'fake-izer'), artifacts: resolveArtifacts(artDir), testDir: out, prefix: 'kat_test',
    extraEnv: env, timeoutMs: 60_000, onProgress,
  });
}

describe('synthesize with the stand-in izer', () => {
  it('passes the izer arguments, reports progress, checks the layout; cross-check ok on the right output', async () => {
    const art = artifactsFrom('mnist-extrasmall');
    const progress: Progress[] = [];
    const r = await synth(art, { FAKE_IZER_EXPECTED: join(CONF, 'mnist-extrasmall/sample.expected.npy') }, (p) => progress.push(p));
    expect(existsSync(join(r.projectDir, 'cnn.c'))).toBe(true);
    expect(r.izerExpectedNpy).toBe(join(r.projectDir, `${IZER_EXPECTED_NAME}.npy`));
    const cmd = r.run.command.join(' ');
    for (const a of ['--device MAX78002', '--prefix kat_test', '--softmax', '--timer 0', '--overwrite', '--no-version-check', `--sample-numpy-filename ${IZER_EXPECTED_NAME}`]) expect(cmd).toContain(a);
    expect(cmd).toContain(`--checkpoint-file ${join(art, 'checkpoint.pth.tar')}`);
    // The stand-in logs the arguments it parsed, like the izer's log.txt.
    expect(readFileSync(join(r.projectDir, 'log.txt'), 'utf8')).toContain('--config-file');
    const steps = progress.map((p) => p.data?.step);
    expect(steps).toContain('read-checkpoint');
    expect(steps).toContain('generate');
    expect(progress.at(-1)!.fraction).toBe(1);
    const cc = await crossCheck({ artifacts: resolveArtifacts(art), izerExpectedNpy: r.izerExpectedNpy });
    expect(cc.status).toBe('ok');
    expect(cc.izer).toEqual(cc.simulator);
    expect(cc.izer).toHaveLength(10);
  });

  it('cross-check reports a mismatch with both outputs when the izer output differs', async () => {
    const art = artifactsFrom('mnist-extrasmall');
    const r = await synth(art, { FAKE_IZER_EXPECTED: join(CONF, 'mnist-qat8/sample.expected.npy') });
    const cc = await crossCheck({ artifacts: resolveArtifacts(art), izerExpectedNpy: r.izerExpectedNpy });
    expect(cc.status).toBe('mismatch');
    expect(cc.izer).not.toEqual(cc.simulator);
    expect(cc.simulator).toHaveLength(10);
    expect(cc.differences!.length).toBeGreaterThan(0);
  });

  it('cross-check is ok on the 1-D mixed-precision fixture too', async () => {
    const art = artifactsFrom('ecg1d-mixed');
    const r = await synth(art, { FAKE_IZER_EXPECTED: join(CONF, 'ecg1d-mixed/sample.expected.npy') });
    expect((await crossCheck({ artifacts: resolveArtifacts(art), izerExpectedNpy: r.izerExpectedNpy })).status).toBe('ok');
  });

  it.each([
    ['bn', 'bn-not-folded'],
    ['processors', 'processor-count'],
    ['memory', 'data-memory-overflow'],
    ['flatten', 'flatten-limit'],
  ])('an izer failure (%s) from the real process is mapped to %s', async (kind, reason) => {
    const e = await synth(artifactsFrom('mnist-extrasmall'), { FAKE_IZER_FAIL: kind }).catch((x) => x);
    expect(e).toBeInstanceOf(ToolchainError);
    expect(e.reason).toBe(reason);
    expect(e.exitCode).toBe(1);
  });

  it('a YAML of another network is refused as an arch mismatch', async () => {
    const e = await synth(artifactsFrom('mnist-extrasmall', 'mnist-qat8'), {}).catch((x) => x);
    expect(e.reason).toBe('arch-mismatch');
    expect(e.message).toMatch(/ai85net5/);
  });

  it('names a missing artifact file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qatwb-art-empty-'));
    writeFileSync(join(dir, 'checkpoint.pth.tar'), '');
    expect(() => resolveArtifacts(dir)).toThrow(/network\.yaml is missing/);
  });
});

describe('harness injection', () => {
  async function project(katFails: boolean) {
    const art = artifactsFrom('mnist-extrasmall');
    const r = await synth(art, { FAKE_IZER_EXPECTED: join(CONF, 'mnist-extrasmall/sample.expected.npy') });
    if (katFails) {
      const main = join(r.projectDir, 'main.c');
      writeFileSync(main, readFileSync(main, 'utf8').replace('return CNN_OK;\n}\n\nint main', 'return CNN_FAIL;\n}\n\nint main'));
    }
    const h = await addHarness({
      projectDir: r.projectDir, harnessDir: join(FIX, 'harness-stub'), checkpoint: join(art, 'checkpoint.pth.tar'), yaml: join(art, 'network.yaml'),
      inputShape: [1, 28, 28], outputCount: 10, prefix: 'kat_test',
    });
    return { dir: r.projectDir, h };
  }

  async function buildAndRun(dir: string): Promise<string[]> {
    await runProcess({ tool: 'gcc', file: 'gcc', args: ['-Wall', '-Werror', '-o', 'fw', 'main.c', 'cnn.c', 'qatwb_main.c', 'harness_stub.c'], cwd: dir, timeoutMs: 60_000 });
    return (await runProcess({ tool: 'other', file: join(dir, 'fw'), args: [], cwd: dir, timeoutMs: 10_000 })).lines;
  }

  it('keeps the KAT at boot, then starts the harness with the verdict (host gcc build)', async () => {
    const { dir, h } = await project(false);
    expect(h.added).toBe(true);
    expect(h.files).toEqual(['harness_stub.c', 'qatwb_main.c', 'qatwb_model.h']);
    expect(h.note).toBeUndefined();
    const lines = await buildAndRun(dir);
    const pass = lines.indexOf('*** PASS ***');
    const harness = lines.findIndex((l) => l.startsWith('harness: kat_passed=1'));
    expect(pass).toBeGreaterThanOrEqual(0);
    expect(harness).toBeGreaterThan(pass);
    expect(lines[harness]).toMatch(/input=784 output=10 prefix=kat_test/);
  });

  it('a failing KAT prints FAIL and still hands over to the harness with kat_passed=0', async () => {
    const { dir } = await project(true);
    const lines = await buildAndRun(dir);
    expect(lines).toContain('*** FAIL ***');
    expect(lines).not.toContain('*** PASS ***');
    expect(lines.some((l) => l.startsWith('harness: kat_passed=0'))).toBe(true);
  });

  it('says so when there are no harness sources, leaving the project untouched', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'qatwb-noharness-'));
    mkdirSync(join(empty, 'x'));
    const h = await addHarness({ projectDir: empty, harnessDir: join(empty, 'none'), checkpoint: '', yaml: '', inputShape: [1], outputCount: 1, prefix: 'p' });
    expect(h.added).toBe(false);
    expect(h.note).toMatch(/No harness sources/);
  });

  it('patchKatMain refuses a main.c without main()', () => {
    expect(() => patchKatMain('int foo(void) { return 0; }')).toThrow(/int main/);
  });
});
