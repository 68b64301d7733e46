// The real live-check harness (resources/firmware) injected into the project the real ai8xize.py
// generates: every source compiles with the real arm-none-eabi-gcc against our MSDK header stubs
// (test/device/msdk-stub), and a partial link proves one main(), one cnn_time, the KAT kept as
// qatwb_kat_main and the harness's main() reached as qatwb_harness_main. Not linked against the
// MSDK (not installable here), so not run.
import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runSynthesize } from '../../src-main/toolchain/steps/synthesize.ts';
import { addHarness, defaultHarnessDir } from '../../src-main/toolchain/steps/harness.ts';
import { resolveArtifacts } from '../../src-main/toolchain/artifacts.ts';
import { runProcess } from '../../src-main/toolchain/run-process.ts';
import { crc32 } from '../../src-main/device/framing.ts';
import { CONFORMANCE, gate, izerDir, need, PYTHON } from '../support/fixtures.ts';

const CONF = CONFORMANCE;
const STUB = resolve(import.meta.dirname, '../device/msdk-stub');
const HARNESS = defaultHarnessDir();

const gcc = gate(need.command('arm-none-eabi-gcc', 'gcc-arm-none-eabi libnewlib-arm-none-eabi'), need.izer());
describe.skipIf(gcc.skip)('the real firmware harness in the project ai8xize.py generates' + gcc.note, () => {
  it('compiles for the Cortex-M4 and links into one program with the KAT first', async () => {
    const art = mkdtempSync(join(tmpdir(), 'qatwb-h-art-'));
    for (const f of ['checkpoint.pth.tar', 'network.yaml', 'sample.input.npy']) copyFileSync(join(CONF, 'mnist-qat8', f), join(art, f));
    const r = await runSynthesize({
      python: PYTHON, izerDir: izerDir(), artifacts: resolveArtifacts(art), testDir: mkdtempSync(join(tmpdir(), 'qatwb-h-out-')), prefix: 'kat', timeoutMs: 120_000,
    });
    const h = await addHarness({
      projectDir: r.projectDir, harnessDir: HARNESS, checkpoint: join(art, 'checkpoint.pth.tar'), yaml: join(art, 'network.yaml'),
      inputShape: [1, 28, 28], outputCount: 10, prefix: 'kat', scaling: { kind: 'minmax', min: -1.25, max: 2.450000047683716 },
    });
    expect(h.added).toBe(true);
    expect(h.files).toContain('qatwb_scaling.c');
    expect(h.files).toContain('hal_msdk.c');
    expect(h.files).not.toContain('hal_host.c');
    expect(h.files).not.toContain('qw_vectors.c');

    const sources = readdirSync(r.projectDir).filter((f) => f.endsWith('.c'));
    const objects: string[] = [];
    for (const f of sources) {
      const o = join(r.projectDir, f.replace(/\.c$/, '.o'));
      await runProcess({
        tool: 'gcc', file: 'arm-none-eabi-gcc', cwd: r.projectDir, timeoutMs: 60_000,
        args: ['-mcpu=cortex-m4', '-mthumb', '-mfloat-abi=hard', '-mfpu=fpv4-sp-d16', '-O2', '-Wall', '-I', STUB, '-c', f, '-o', o],
      });
      objects.push(o);
    }
    // A partial link fails on any symbol defined twice (main, cnn_time, ...).
    const all = join(r.projectDir, 'all.o');
    await runProcess({ tool: 'gcc', file: 'arm-none-eabi-gcc', cwd: r.projectDir, args: ['-mcpu=cortex-m4', '-mthumb', '-nostdlib', '-r', '-o', all, ...objects], timeoutMs: 60_000 });
    const nm = (await runProcess({ tool: 'other', file: 'arm-none-eabi-nm', args: [all], cwd: r.projectDir })).lines;
    const defined = (name: string) => nm.filter((l) => new RegExp(`^[0-9a-f]+ [TBDC] ${name}$`).test(l)).length;
    expect(defined('main')).toBe(1);
    expect(defined('qatwb_kat_main')).toBe(1);
    expect(defined('qatwb_harness_main')).toBe(1);
    expect(defined('cnn_time')).toBe(1);
    expect(defined('qw_device_poll')).toBe(1);
    // The raw-value scaling is in the program, with the model's own constants.
    expect(defined('qw_scale_window')).toBe(1);
    expect(nm.filter((l) => / [RD] qw_input_scaling$/.test(l)).length).toBe(1);

    // The model facts the firmware reports match what the host computes.
    const ckpt = readFileSync(join(art, 'checkpoint.pth.tar'));
    const yaml = readFileSync(join(art, 'network.yaml'));
    const hash = (crc32(new Uint8Array(yaml), 0, yaml.length, crc32(new Uint8Array(ckpt))) >>> 0).toString(16).padStart(8, '0');
    const modelH = readFileSync(join(r.projectDir, 'qatwb_model.h'), 'utf8');
    expect(modelH).toContain(`#define QATWB_MODEL_HASH 0x${hash}u`);
    expect(modelH).toMatch(/#define QW_INPUT_H 28/);
    expect(modelH).toContain('#define QW_INPUT_SCALING_KIND QW_SCALING_MINMAX\n#define QW_INPUT_SCALING_MIN -1.25\n#define QW_INPUT_SCALING_MAX 2.450000047683716\n');
    expect(modelH).toMatch(/model\.json input\.scaling: minmax, min-max of the training file/);
    expect(readFileSync(join(r.projectDir, 'hal_msdk.c'), 'utf8').startsWith('#define QW_HAVE_MODEL_H 1')).toBe(true);
  });
});
