// The deployment bundle is written whole: a failure part way through writing a new bundle or
// recording a step leaves the previous bundle exactly as it was (real files, a failing write
// injected at a chosen file), and a folder of other files is never replaced.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createBundle, readBundle, recordStep, verifyBundleInputs, type CreateBundleInput } from '../../src-main/toolchain/bundle.ts';
import { conformance } from '../support/fixtures.ts';

const artifacts = (kase: 'mnist-qat8' | 'mnist-extrasmall') => ({
  dir: conformance(kase),
  checkpoint: conformance(kase, 'checkpoint.pth.tar'),
  yaml: conformance(kase, 'network.yaml'),
  sampleInput: conformance(kase, 'sample.input.npy'),
  sampleExpected: conformance(kase, 'sample.expected.npy'),
});

function input(bundleDir: string, kase: 'mnist-qat8' | 'mnist-extrasmall'): CreateBundleInput {
  return { bundleDir, artifacts: artifacts(kase), prefix: kase, tools: { python: 'Python 3.11' } };
}

/** Every file below `dir` with its bytes, by relative path. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(dir, p)] = readFileSync(p).toString('base64');
    }
  };
  walk(dir);
  return out;
}

const failAt = (target: string) => ({
  beforeFile(name: string) {
    if (name === target) throw new Error(`disk full while writing ${name}`);
  },
});

describe('deployment bundle', () => {
  it('a new bundle that fails part way leaves the previous one intact, and no staging folder behind', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'qatwb-bundle-'));
    const dir = join(parent, 'bundle');
    await createBundle(input(dir, 'mnist-qat8'), { step: { name: 'synthesize', exitCode: 0 }, logLines: ['synthesized'], validation: { crossCheck: { status: 'ok' } } });
    const before = snapshot(dir);
    expect(Object.keys(before).sort()).toEqual(['inputs/checkpoint.pth.tar', 'inputs/network.yaml', 'inputs/sample.expected.npy', 'inputs/sample.input.npy', 'logs/synthesize.log', 'manifest.json', 'validation.json']);

    // Fails after the new checkpoint and YAML were written (another model's), before the rest.
    await expect(createBundle(input(dir, 'mnist-extrasmall'), undefined, failAt('inputs/sample.input.npy'))).rejects.toThrow(/disk full/);
    expect(snapshot(dir)).toEqual(before);
    expect(readdirSync(parent)).toEqual(['bundle']);
    const m = await readBundle(dir);
    expect(m.prefix).toBe('mnist-qat8');
    await expect(verifyBundleInputs(dir, m)).resolves.toMatchObject({ checkpoint: join(dir, 'inputs/checkpoint.pth.tar') });

    // A complete write replaces it whole.
    await createBundle(input(dir, 'mnist-extrasmall'));
    expect((await readBundle(dir)).prefix).toBe('mnist-extrasmall');
    expect(existsSync(join(dir, 'logs/synthesize.log'))).toBe(false);
  });

  it('a step that fails while being recorded leaves the bundle as it was; a recorded one adds its log and validation', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'qatwb-bundle-')), 'bundle');
    await createBundle(input(dir, 'mnist-qat8'), { step: { name: 'synthesize', exitCode: 0 }, logLines: ['synthesized'], validation: { crossCheck: { status: 'ok' } } });
    const before = snapshot(dir);
    for (const at of ['logs/build.log', 'validation.json', 'manifest.json']) {
      await expect(recordStep(dir, { step: { name: 'build', exitCode: 0 }, logLines: ['built'], validation: { build: 'ok' } }, failAt(at))).rejects.toThrow(/disk full/);
      expect(snapshot(dir), at).toEqual(before);
    }
    await recordStep(dir, { step: { name: 'build', exitCode: 0 }, logLines: ['built'], validation: { build: 'ok' } });
    const m = await readBundle(dir);
    expect(m.steps.map((s) => s.name)).toEqual(['synthesize', 'build']);
    expect(m.crossCheck).toEqual({ status: 'ok' });
    expect(JSON.parse(readFileSync(join(dir, 'validation.json'), 'utf8'))).toEqual({ crossCheck: { status: 'ok' }, build: 'ok' });
    expect(readFileSync(join(dir, 'logs/build.log'), 'utf8')).toBe('built\n');
    expect(readFileSync(join(dir, 'inputs/checkpoint.pth.tar'))).toEqual(readFileSync(conformance('mnist-qat8', 'checkpoint.pth.tar')));
  });

  it('a bundle set aside by a crash between the two renames is put back before the next write', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'qatwb-bundle-'));
    const dir = join(parent, 'bundle');
    await createBundle(input(dir, 'mnist-qat8'));
    const before = snapshot(dir);
    renameSync(dir, join(parent, '.bundle.replaced-123-abcd'));
    mkdirSync(join(parent, '.bundle.staging-123-abcd'));
    await expect(createBundle(input(dir, 'mnist-extrasmall'), undefined, failAt('manifest.json'))).rejects.toThrow(/disk full/);
    expect(snapshot(dir)).toEqual(before);
    expect(readdirSync(parent)).toEqual(['bundle']);
  });

  it('a folder of other files is refused and left alone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qatwb-bundle-'));
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    await expect(createBundle(input(dir, 'mnist-qat8'))).rejects.toMatchObject({ code: 'toolchain', details: { reason: 'bad-input' }, message: expect.stringMatching(/not a deployment bundle/) });
    expect(readdirSync(dir)).toEqual(['notes.txt']);
  });
});
