// The synthesize step: with the real ai8x-synthesis (arguments, progress, layout, cross-check ok,
// arch mismatch), and with the STAND-IN izer (test/fixtures/toolchain/fake-izer/ai8xize.py) for
// what the real one cannot produce: a cross-check mismatch; plus the harness injection (compiled
// and run with the host gcc).
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
import { ToolchainProgressData } from '../../src-main/api/toolchain.api.ts';
import { CONFORMANCE, gate, izerDir, need, PYTHON as REAL_PYTHON } from '../support/fixtures.ts';
import { readNpy } from '../../src-main/formats/npy.ts';

/** A progress's data read as its job declares it (ToolchainProgressData): a producer that sends another shape fails here; stepOf: undefined without data. */
const data = (p: Progress) => ToolchainProgressData.parse(p.data);
const stepOf = (p: Progress) => { if (p.data === undefined) return undefined; const d = data(p); return 'step' in d ? d.step : undefined; };

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

/** The same step with the real ai8x-synthesis. */
function realSynth(artDir: string, onProgress?: (p: Progress) => void) {
  return runSynthesize({
    python: REAL_PYTHON, izerDir: izerDir(), artifacts: resolveArtifacts(artDir), testDir: mkdtempSync(join(tmpdir(), 'qatwb-out-')), prefix: 'kat_test',
    timeoutMs: 120_000, onProgress,
  });
}
const real = gate(need.izer());

describe.skipIf(real.skip)(`synthesize with the real ai8x-synthesis${real.note}`, () => {
  it('passes the izer arguments, reports progress, checks the layout; cross-check ok', async () => {
    const art = artifactsFrom('mnist-extrasmall');
    const progress: Progress[] = [];
    const r = await realSynth(art, (p) => progress.push(p));
    expect(existsSync(join(r.projectDir, 'cnn.c'))).toBe(true);
    expect(r.izerExpectedNpy).toBe(join(r.projectDir, `${IZER_EXPECTED_NAME}.npy`));
    const cmd = r.run.command.join(' ');
    for (const a of ['--device MAX78002', '--prefix kat_test', '--softmax', '--timer 0', '--overwrite', '--no-version-check', `--sample-numpy-filename ${IZER_EXPECTED_NAME}`]) expect(cmd).toContain(a);
    expect(cmd).toContain(`--checkpoint-file ${join(art, 'checkpoint.pth.tar')}`);
    const steps = progress.map(stepOf);
    for (const s of ['configure', 'read-yaml', 'read-checkpoint', 'arrange-weights', 'store-weights', 'generate']) expect(steps).toContain(s);
    const fractions = progress.map((p) => p.fraction ?? 0);
    expect(fractions.every((f, i) => i === 0 || f >= fractions[i - 1]!), 'progress never goes back').toBe(true);
    expect(progress.at(-1)!.fraction).toBe(1);
    const cc = await crossCheck({ artifacts: resolveArtifacts(art), izerExpectedNpy: r.izerExpectedNpy });
    expect(cc.status).toBe('ok');
    expect(cc.izer).toHaveLength(10);
    expect(cc.izer).toEqual(Array.from(readNpy(readFileSync(join(CONF, 'mnist-extrasmall/sample.expected.npy'))).data as BigInt64Array, Number));
  }, 120_000);

  it('cross-check is ok on the 1-D mixed-precision fixture too', async () => {
    const art = artifactsFrom('ecg1d-mixed');
    const r = await realSynth(art);
    expect((await crossCheck({ artifacts: resolveArtifacts(art), izerExpectedNpy: r.izerExpectedNpy })).status).toBe('ok');
  }, 120_000);

  it('a YAML of another network is refused as an arch mismatch', async () => {
    const e = await realSynth(artifactsFrom('mnist-extrasmall', 'mnist-qat8')).catch((x) => x);
    expect(e.reason).toBe('arch-mismatch');
    expect(e.message).toMatch(/ai85net5/);
  }, 120_000);
});

// The stand-in izer only where the real one cannot be made to fail that way (a mismatching known
// answer) or to keep the failure map's process handling fast.
describe('synthesize with the stand-in izer', () => {
  it('cross-check reports a mismatch with both outputs when the izer output differs', async () => {
    const art = artifactsFrom('mnist-extrasmall');
    const r = await synth(art, { FAKE_IZER_EXPECTED: join(CONF, 'mnist-qat8/sample.expected.npy') });
    const cc = await crossCheck({ artifacts: resolveArtifacts(art), izerExpectedNpy: r.izerExpectedNpy });
    expect(cc.status).toBe('mismatch');
    expect(cc.izer).not.toEqual(cc.simulator);
    expect(cc.simulator).toHaveLength(10);
    expect(cc.differences!.length).toBeGreaterThan(0);
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
