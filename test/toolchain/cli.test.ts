// The qatwb toolchain commands end to end (in-process CLI, real child processes for the tools):
// synthesize with the real ai8x-synthesis (the STAND-IN izer for mismatches) → build with real make/arm-gcc and the stand-in MSDK makefile →
// flash with Debian's openocd (no adapter) → bundle contents and a headless replay.
import { describe, expect, it } from 'vitest';
import { appendFileSync, copyFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { main } from '../../src-main/cli/main.ts';
import { runProcess } from '../../src-main/toolchain/run-process.ts';
import { CONFORMANCE, gate, izerDir, need, PYTHON } from '../support/fixtures.ts';

const FIX = resolve(import.meta.dirname, '../fixtures/toolchain');
const CONF = CONFORMANCE;

async function qatwb(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err, json: argv.includes('--json') && out.length ? JSON.parse(out.at(-1)!) : undefined };
}

function artifacts(kase: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'qatwb-cli-art-'));
  for (const f of ['checkpoint.pth.tar', 'network.yaml', 'sample.input.npy']) copyFileSync(join(CONF, kase, f), join(dir, f));
  return dir;
}

const state = mkdtempSync(join(tmpdir(), 'qatwb-cli-state-'));
const izer = ['--izer', join(FIX, 'fake-izer'), '--python', '/usr/bin/python3', '--state-dir', state];
/** The real ai8x-synthesis; the stand-in above only where a different izer output is the point. */
const realIzer = ['--izer', izerDir(), '--python', PYTHON, '--state-dir', state];
const real = gate(need.izer());
const expectedOf = (kase: string) => `FAKE_IZER_EXPECTED=${join(CONF, kase, 'sample.expected.npy')}`;

describe('qatwb synthesize → build → flash', () => {
  it.skipIf(real.skip)('runs the flow with the real ai8x-synthesis, writes a bundle, and replays it headlessly' + real.note, async () => {
    const art = artifacts('mnist-qat8');
    const out = mkdtempSync(join(tmpdir(), 'qatwb-cli-out-'));
    const bundle = join(out, 'bundle');
    const s = await qatwb('synthesize', '--artifacts', art, '--out', out, ...realIzer, '--harness-dir', join(FIX, 'harness-stub'), '--bundle-out', bundle, '--json', '--quiet');
    expect(s.code, s.err.join('\n')).toBe(0);
    expect(s.json).toMatchObject({ projectDir: join(out, 'ai85net5'), crossCheck: 'ok', harness: { added: true }, weightBytes: 71148, biasBytes: 10 });

    const b = await qatwb('build', '--project', s.json.projectDir, '--maxim-path', join(FIX, 'fake-msdk'), '--arm-gcc', '/usr/bin/arm-none-eabi-gcc', '--state-dir', state, '--json', '--quiet');
    expect(b.code, b.err.join('\n')).toBe(0);
    expect(b.json.elf).toBe(join(s.json.projectDir, 'build', 'max78002.elf'));

    const f = await qatwb('flash', '--project', s.json.projectDir, '--openocd', '/usr/bin/openocd', '--openocd-scripts', '/usr/share/openocd/scripts', '--target-config', 'target/max32620.cfg', '--state-dir', state, '--json', '--quiet');
    expect(f.code).toBe(1);
    expect(f.json.error).toMatchObject({ code: 'toolchain', tool: 'openocd', reason: 'adapter-not-found' });
    expect(f.json.error.fix).toMatch(/PICO/);

    // The bundle: hashed inputs, tool versions, logs of each step that ran, the cross-check.
    const m = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8'));
    const sha = createHash('sha256').update(readFileSync(join(CONF, 'mnist-qat8/checkpoint.pth.tar'))).digest('hex');
    expect(m.inputs.checkpoint).toEqual({ file: 'inputs/checkpoint.pth.tar', sha256: sha });
    expect(m.tools.python).toMatch(/^Python 3/);
    expect(m.tools['arm-none-eabi-gcc']).toMatch(/arm-none-eabi-gcc/); // found on PATH
    expect(m.izerExpectedSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(m.steps.map((x: { name: string }) => x.name)).toEqual(['synthesize', 'build']);
    expect(readFileSync(join(bundle, 'logs/synthesize.log'), 'utf8')).toMatch(/Configuring device: MAX78002/);
    expect(readFileSync(join(bundle, 'logs/build.log'), 'utf8')).toMatch(/LD\s+build\/max78002\.elf/);
    expect(JSON.parse(readFileSync(join(bundle, 'validation.json'), 'utf8')).crossCheck.status).toBe('ok');

    const out2 = mkdtempSync(join(tmpdir(), 'qatwb-cli-replay-'));
    const r = await qatwb('synthesize', '--bundle', bundle, '--out', out2, ...realIzer, '--json', '--quiet');
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(r.json).toMatchObject({ crossCheck: 'ok', replay: { izerExpectedMatches: true, recordedCrossCheck: 'ok' } });

    // A replay whose izer now produces something else (the stand-in, told to) is flagged (exit 1).
    const r2 = await qatwb('synthesize', '--bundle', bundle, '--out', mkdtempSync(join(tmpdir(), 'qatwb-cli-replay-')), ...izer, '--izer-env', expectedOf('mnist-extrasmall'), '--json', '--quiet');
    expect(r2.code).toBe(1);
    expect(r2.json).toMatchObject({ crossCheck: 'mismatch', replay: { izerExpectedMatches: false } });

    // A tampered input is refused before anything runs.
    appendFileSync(join(bundle, 'inputs/network.yaml'), '# edited\n');
    const r3 = await qatwb('synthesize', '--bundle', bundle, '--out', out2, ...izer, '--json', '--quiet');
    expect(r3.code).toBe(1);
    expect(r3.json.error.message).toMatch(/network\.yaml.*changed/);
  });

  it('a cross-check mismatch exits 1 and stops the flow at build', async () => {
    const out = mkdtempSync(join(tmpdir(), 'qatwb-cli-out-'));
    const s = await qatwb('synthesize', '--artifacts', artifacts('mnist-extrasmall'), '--out', out, ...izer, '--izer-env', expectedOf('mnist-qat8'), '--json', '--quiet');
    expect(s.code).toBe(1);
    expect(s.json.crossCheck).toBe('mismatch');
    // Without --harness-dir the app's own harness (resources/firmware) is added.
    expect(s.json.harness.files).toContain('hal_msdk.c');
    expect(readFileSync(join(s.json.projectDir, 'qatwb_model.h'), 'utf8')).toMatch(/#define QW_OUTPUT_WEIGHT_BITS 8/);
    expect(s.json.crossCheckDetail.izer).not.toEqual(s.json.crossCheckDetail.simulator);
    const b = await qatwb('build', '--project', s.json.projectDir, '--maxim-path', join(FIX, 'fake-msdk'), '--state-dir', state, '--json', '--quiet');
    expect(b.code).toBe(1);
    expect(b.json.error.reason).toBe('cross-check-mismatch');
  });

  it('human output shows both columns on a mismatch', async () => {
    const out = mkdtempSync(join(tmpdir(), 'qatwb-cli-out-'));
    const s = await qatwb('synthesize', '--artifacts', artifacts('mnist-extrasmall'), '--out', out, ...izer, '--izer-env', expectedOf('mnist-qat8'), '--quiet');
    expect(s.out.join('\n')).toMatch(/cross-check mismatch: izer vs simulator/);
    expect(s.out.some((l) => l.endsWith('<- differs'))).toBe(true);
  });

  it('doctor --json through the real bin/qatwb.mjs', async () => {
    const r = await runProcess({ tool: 'other', file: process.execPath, args: [resolve(import.meta.dirname, '../../bin/qatwb.mjs'), 'doctor', '--json', '--state-dir', state], cwd: tmpdir(), okExitCodes: [0, 1], timeoutMs: 60_000 });
    const doc = JSON.parse(r.lines.find((l) => l.startsWith('{'))!);
    expect(doc.items.map((i: { id: string }) => i.id)).toEqual(['izer', 'python', 'python-modules', 'msdk', 'arm-gcc', 'make', 'openocd', 'openocd-scripts', 'pytorch']);
    expect(doc.items.find((i: { id: string }) => i.id === 'openocd').status).toBe('ok');
    expect(existsSync(state)).toBe(true);
  });
});
