// Build, flash and console steps with real processes: make + the real arm-none-eabi-gcc on a
// project from the stand-in izer (with a STAND-IN MSDK gcc.mk, test/fixtures/toolchain/fake-msdk),
// Debian's openocd with no adapter attached, and the KAT console read over a real pty pair.
import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runSynthesize } from '../../src-main/toolchain/steps/synthesize.ts';
import { addHarness } from '../../src-main/toolchain/steps/harness.ts';
import { runBuild } from '../../src-main/toolchain/steps/build.ts';
import { runFlash, openocdArgs } from '../../src-main/toolchain/steps/flash.ts';
import { readKat } from '../../src-main/toolchain/steps/console.ts';
import { writeSynthesisRecord } from '../../src-main/toolchain/steps/synthesis-record.ts';
import { resolveArtifacts } from '../../src-main/toolchain/artifacts.ts';
import { ToolchainError } from '../../src-main/toolchain/toolchain-error.ts';
import { createPtyPair } from '../../src-main/device/pty-pair.ts';
import { openPort } from '../../src-main/device/serial-port.ts';
import type { Progress } from '../../src-main/api/contract.ts';
import { ToolchainProgressData } from '../../src-main/api/toolchain.api.ts';
import { CONFORMANCE } from '../support/fixtures.ts';

const FIX = resolve(import.meta.dirname, '../fixtures/toolchain');
const CONF = CONFORMANCE;
const MSDK = join(FIX, 'fake-msdk');

async function generatedProject(): Promise<string> {
  const art = mkdtempSync(join(tmpdir(), 'qatwb-art-'));
  for (const f of ['checkpoint.pth.tar', 'network.yaml', 'sample.input.npy']) copyFileSync(join(CONF, 'mnist-extrasmall', f), join(art, f));
  const r = await runSynthesize({
    python: '/usr/bin/python3', izerDir: join(FIX, 'fake-izer'), artifacts: resolveArtifacts(art), testDir: mkdtempSync(join(tmpdir(), 'qatwb-out-')), prefix: 'kat',
    extraEnv: { FAKE_IZER_EXPECTED: join(CONF, 'mnist-extrasmall/sample.expected.npy') }, timeoutMs: 60_000,
  });
  await addHarness({ projectDir: r.projectDir, harnessDir: join(FIX, 'harness-stub'), checkpoint: join(art, 'checkpoint.pth.tar'), yaml: join(art, 'network.yaml'), inputShape: [1, 28, 28], outputCount: 10, prefix: 'kat' });
  return r.projectDir;
}

async function failure(p: Promise<unknown>): Promise<ToolchainError> {
  const e = await p.then(() => undefined, (x) => x);
  expect(e).toBeInstanceOf(ToolchainError);
  return e as ToolchainError;
}

describe('build step (real make + arm-none-eabi-gcc, stand-in MSDK makefile)', () => {
  it('builds an Arm ELF with the MSDK command line, reporting each compiled file', async () => {
    const dir = await generatedProject();
    const progress: Progress[] = [];
    const r = await runBuild({ projectDir: dir, make: '/usr/bin/make', maximPath: MSDK, armGcc: '/usr/bin/arm-none-eabi-gcc', jobs: 2, onProgress: (p) => progress.push(p) });
    expect(r.run.command.slice(1)).toEqual(['-r', '-j', '2', 'TARGET=MAX78002', 'BOARD=EvKit_V1', `MAXIM_PATH=${MSDK}`]);
    expect(r.elf).toBe(join(dir, 'build', 'max78002.elf'));
    const elf = readFileSync(r.elf);
    expect(elf.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(elf.readUInt16LE(18)).toBe(0x28); // e_machine = ARM
    expect(r.sizeBytes).toBe(elf.length);
    // main.c, cnn.c, softmax.c from the izer; qatwb_main.c + harness_stub.c from the harness.
    const compiled = progress.map((p) => (p.data === undefined ? undefined : ToolchainProgressData.parse(p.data))).map((d) => (d?.kind === 'make' ? d.compiled : 0));
    expect(Math.max(...compiled)).toBe(5);
    expect(progress.at(-1)!.fraction).toBe(1);
  });

  it('refuses a MAXIM_PATH that is not an MSDK before running make', async () => {
    const e = await failure(runBuild({ projectDir: await generatedProject(), make: 'make', maximPath: tmpdir() }));
    expect(e.reason).toBe('maxim-path');
    expect(e.fix).toMatch(/MaximSDK/);
  });

  it('maps make\'s own error for an MSDK without its build files to maxim-path', async () => {
    const msdk = mkdtempSync(join(tmpdir(), 'qatwb-msdk-'));
    mkdirSync(join(msdk, 'Libraries'));
    const e = await failure(runBuild({ projectDir: await generatedProject(), make: 'make', maximPath: msdk }));
    expect(e.reason).toBe('maxim-path');
    expect(e.evidence).toMatch(/gcc\.mk/);
  });

  it('maps a compile error in the generated code to file:line', async () => {
    const dir = await generatedProject();
    writeFileSync(join(dir, 'cnn.c'), readFileSync(join(dir, 'cnn.c'), 'utf8').replace('return CNN_OK; }', 'return CNN_OK }'));
    const e = await failure(runBuild({ projectDir: dir, make: 'make', maximPath: MSDK, jobs: 1 }));
    expect(e.reason).toBe('compile-error');
    expect(e.file).toBe('cnn.c');
    expect(e.line).toBe(3);
  });

  it('will not build a project whose cross-check found a mismatch', async () => {
    const dir = await generatedProject();
    await writeSynthesisRecord(dir, {
      version: 1, createdAt: '', prefix: 'kat', artifactsDir: '', checkpointSha256: '', yamlSha256: '', sampleSha256: '', command: [],
      crossCheck: { status: 'mismatch', izer: [1], simulator: [2], differences: [0] }, harness: { added: true, files: [] },
    });
    const e = await failure(runBuild({ projectDir: dir, make: 'make', maximPath: MSDK }));
    expect(e.reason).toBe('cross-check-mismatch');
  });
});

describe('flash step (Debian openocd, no adapter attached)', () => {
  it('builds the MSDK flash command line', () => {
    expect(openocdArgs({ projectDir: '/p', elf: '/p/build/max 78002.elf', openocd: 'openocd', scriptsDir: '/msdk/Tools/OpenOCD/scripts' })).toEqual([
      '-s', '/msdk/Tools/OpenOCD/scripts', '-f', 'interface/cmsis-dap.cfg', '-f', 'target/max78002.cfg', '-c', 'program {/p/build/max 78002.elf} verify reset exit',
    ]);
  });

  it('reports no adapter found, with a fix', async () => {
    const dir = await generatedProject();
    const elf = join(dir, 'build', 'max78002.elf');
    mkdirSync(join(dir, 'build'), { recursive: true });
    writeFileSync(elf, 'not really an elf');
    const e = await failure(
      runFlash({ projectDir: dir, elf, openocd: '/usr/bin/openocd', scriptsDir: '/usr/share/openocd/scripts', targetConfig: 'target/max32620.cfg', timeoutMs: 30_000 }),
    );
    expect(e.reason).toBe('adapter-not-found');
    expect(e.fix).toMatch(/PICO/);
  });

  it('says the stock scripts lack the MAX78002 target before running', async () => {
    const dir = await generatedProject();
    const elf = join(dir, 'fw.elf');
    writeFileSync(elf, '');
    const e = await failure(runFlash({ projectDir: dir, elf, openocd: '/usr/bin/openocd', scriptsDir: '/usr/share/openocd/scripts' }));
    expect(e.reason).toBe('openocd-config-missing');
  });

  it('a missing ELF is named', async () => {
    const e = await failure(runFlash({ projectDir: tmpdir(), elf: '/nonexistent/x.elf', openocd: '/usr/bin/openocd' }));
    expect(e.reason).toBe('bad-input');
    expect(e.message).toMatch(/x\.elf/);
  });
});

describe('KAT console over a real pty', () => {
  async function withPty(text: Uint8Array | string, timeoutMs = 3000, trailingMs = 200) {
    const pair = await createPtyPair();
    const link = await openPort(pair.hostPath, 115200);
    try {
      const reading = readKat(link, { timeoutMs, trailingMs });
      const fd = openSync(pair.devicePath, 'w');
      writeSync(fd, typeof text === 'string' ? Buffer.from(text) : text);
      closeSync(fd);
      return await reading;
    } finally {
      await link.close();
      await pair.close();
    }
  }

  it('confirms *** PASS *** and reads the inference time', async () => {
    const r = await withPty('Waiting...\r\n\r\n*** CNN Inference Test kat ***\r\n\r\n*** PASS ***\r\n\r\nApproximate inference time: 1234 us\r\n\r\nClassification results:\r\n[ 123456] -> Class 0: 99.9%\r\n');
    expect(r.status).toBe('pass');
    expect(r.inferenceUs).toBe(1234);
    expect(r.lines).toContain('*** CNN Inference Test kat ***');
  });

  it('reports *** FAIL *** with the mismatch lines and a hint', async () => {
    const r = await withPty('Waiting...\n*** CNN Inference Test kat ***\nData mismatch (3/10) at address 0x51800008: Expected 0x00001234, read 0x00001235.\n*** FAIL ***\n');
    expect(r.status).toBe('fail');
    expect(r.mismatches).toHaveLength(1);
    expect(r.note).toMatch(/offsets or processor maps/);
  });

  it('stops at the harness\'s binary frames after PASS', async () => {
    const t0 = Date.now();
    const r = await withPty(Buffer.concat([Buffer.from('*** CNN Inference Test kat ***\n*** PASS ***\n'), Buffer.from([0xa5, 0x5a, 0x01, 0x00])]), 10_000, 8000);
    expect(r.status).toBe('pass');
    expect(Date.now() - t0).toBeLessThan(5000); // did not wait for the 8 s trailing window
  });

  it('no verdict after the header within the time limit suggests --no-wfi', async () => {
    const r = await withPty('Waiting...\n*** CNN Inference Test kat ***\n', 600);
    expect(r.status).toBe('not-read');
    expect(r.note).toMatch(/--no-wfi/);
  });
});
