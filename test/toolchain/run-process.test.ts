// run-process against real processes: make + gcc, Debian's openocd with no adapter, a shell tree
// that is cancelled or timed out (no member of its process group may survive).
import { describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MAX_LINE_CHARS, runProcess } from '../../src-main/toolchain/run-process.ts';
import { isGroupAlive } from '../../src-main/toolchain/process-tree.ts';
import { createMakeProgress } from '../../src-main/toolchain/tools/make.ts';
import { createOpenocdProgress } from '../../src-main/toolchain/tools/openocd.ts';
import { ToolchainError } from '../../src-main/toolchain/toolchain-error.ts';
import type { Progress } from '../../src-main/api/contract.ts';
import { ToolchainProgressData } from '../../src-main/api/toolchain.api.ts';

/** A progress's data read as its job declares it (ToolchainProgressData): a producer that sends another shape fails here; stepOf: undefined without data. */
const data = (p: Progress) => ToolchainProgressData.parse(p.data);
const stepOf = (p: Progress) => { if (p.data === undefined) return undefined; const d = data(p); return 'step' in d ? d.step : undefined; };

const FIX = resolve(import.meta.dirname, '../fixtures/toolchain');

function copyFixture(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `qatwb-${name}-`));
  cpSync(join(FIX, name), dir, { recursive: true });
  return dir;
}

async function failure(p: Promise<unknown>): Promise<ToolchainError> {
  try {
    await p;
  } catch (error) {
    expect(error).toBeInstanceOf(ToolchainError);
    return error as ToolchainError;
  }
  throw new Error('expected the run to fail');
}

describe('runProcess with real make and gcc', () => {
  it('builds a small project, streaming lines and counting compiled files', async () => {
    const dir = copyFixture('make-ok');
    const progress: Progress[] = [];
    const lines: string[] = [];
    const r = await runProcess({
      tool: 'make', file: 'make', args: ['-r', '-j', '2'], cwd: dir,
      onLine: (l) => lines.push(l), progress: createMakeProgress(5), onProgress: (p) => progress.push(p),
    });
    expect(r.exitCode).toBe(0);
    expect(existsSync(join(dir, 'build/app.elf'))).toBe(true);
    expect(lines.filter((l) => /^\s*CC\s/.test(l))).toHaveLength(5);
    const counts = progress.map((p) => { const d = data(p); return d.kind === 'make' ? d.compiled : undefined; }).filter((c) => c !== undefined);
    expect(Math.max(...(counts as number[]))).toBe(5);
    expect(progress.at(-1)!.message).toBe('LD build/app.elf');
    const fractions = progress.map((p) => p.fraction!);
    expect([...fractions].sort((a, b) => a - b)).toEqual(fractions); // never goes backwards
  });

  it('maps a real gcc compile error to file:line with a plain message', async () => {
    const dir = copyFixture('make-error');
    const e = await failure(runProcess({ tool: 'make', file: 'make', args: ['-r'], cwd: dir }));
    expect(e.reason).toBe('compile-error');
    expect(e.file).toBe('cnn.c');
    expect(e.line).toBe(3);
    expect(e.message).toMatch(/undeclared_register/);
    expect(e.message).toMatch(/^make: cnn\.c:3: Compile error/);
    expect(e.exitCode).toBe(2);
    expect(e.code).toBe('toolchain');
  });

  it('reports a missing program as not found, with a fix', async () => {
    const e = await failure(runProcess({ tool: 'make', file: '/nonexistent/bin/make', args: [], cwd: tmpdir() }));
    expect(e.reason).toBe('not-found');
    expect(e.fix).toMatch(/Settings/);
  });

  it('a tool printing megabytes without a line end gives lines of at most MAX_LINE_CHARS, nothing lost', async () => {
    const seen: string[] = [];
    const r = await runProcess({ tool: 'other', file: 'sh', args: ['-c', "head -c 3000000 /dev/zero | tr '\\0' x; echo; echo done"], cwd: tmpdir(), onLine: (l) => seen.push(l) });
    expect(Math.max(...seen.map((l) => l.length))).toBe(MAX_LINE_CHARS);
    expect(seen.slice(0, -1).join('').length).toBe(3_000_000);
    expect(seen.at(-1)).toBe('done');
    expect(r.exitCode).toBe(0);
  });

  it('passes only the minimal environment plus what the tool needs', async () => {
    process.env.QATWB_SECRET_TEST = 'leak';
    try {
      const r = await runProcess({ tool: 'other', file: 'env', args: [], cwd: tmpdir(), env: { MAXIM_PATH: '/opt/MaximSDK' } });
      const names = r.lines.map((l) => l.split('=')[0]);
      expect(names).toContain('MAXIM_PATH');
      expect(names).toContain('PATH');
      expect(names).not.toContain('QATWB_SECRET_TEST');
    } finally {
      delete process.env.QATWB_SECRET_TEST;
    }
  });
});

describe('runProcess with Debian openocd and no adapter', () => {
  it('says no CMSIS-DAP adapter was found, with a fix', async () => {
    const progress: Progress[] = [];
    const e = await failure(
      runProcess({
        tool: 'openocd', file: '/usr/bin/openocd', cwd: tmpdir(), timeoutMs: 30_000,
        // Debian's openocd has no max78002.cfg; max32620 is the nearest Maxim target it ships.
        args: ['-f', 'interface/cmsis-dap.cfg', '-f', 'target/max32620.cfg', '-c', 'program /tmp/none.elf verify reset exit'],
        progress: createOpenocdProgress(), onProgress: (p) => progress.push(p),
      }),
    );
    expect(e.reason).toBe('adapter-not-found');
    expect(e.evidence).toMatch(/unable to find a matching CMSIS-DAP device/);
    expect(e.fix).toMatch(/PICO|adapter|USB/);
    expect(progress.some((p) => stepOf(p) === 'program')).toBe(false);
  });

  it('says the MAX78002 target script is missing from a stock openocd', async () => {
    const e = await failure(
      runProcess({ tool: 'openocd', file: '/usr/bin/openocd', cwd: tmpdir(), timeoutMs: 30_000, args: ['-f', 'interface/cmsis-dap.cfg', '-f', 'target/max78002.cfg', '-c', 'exit'] }),
    );
    expect(e.reason).toBe('openocd-config-missing');
    expect(e.message).toMatch(/target\/max78002\.cfg/);
    expect(e.fix).toMatch(/MSDK/);
  });
});

describe('runProcess ends the whole process tree', () => {
  async function startedPid(onStart: (pid: number) => void) {
    return (line: string) => {
      const m = line.match(/^(?:started|stubborn) (\d+)/);
      if (m) onStart(Number(m[1]));
    };
  }

  it('cancel via AbortSignal kills children and grandchildren', async () => {
    const ac = new AbortController();
    let pid = 0;
    let aliveBeforeCancel = false;
    const run = runProcess({
      tool: 'other', file: join(FIX, 'scripts/tree.sh'), args: [], cwd: tmpdir(), signal: ac.signal, graceMs: 2000,
      onLine: await startedPid((p) => {
        pid = p;
        setTimeout(() => {
          aliveBeforeCancel = isGroupAlive(p); // the check below can see a live group
          ac.abort();
        }, 200); // let the grandchildren start
      }),
    });
    const e = await failure(run);
    expect(e.reason).toBe('cancelled');
    expect(e.code).toBe('cancelled');
    expect(pid).toBeGreaterThan(0);
    expect(aliveBeforeCancel).toBe(true);
    expect(isGroupAlive(pid)).toBe(false);
    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  });

  it('a timeout stops the tree, escalating to SIGKILL when SIGTERM is ignored', async () => {
    let pid = 0;
    const t0 = Date.now();
    const e = await failure(
      runProcess({
        tool: 'other', file: join(FIX, 'scripts/stubborn.sh'), args: [], cwd: tmpdir(), timeoutMs: 500, graceMs: 500,
        onLine: await startedPid((p) => (pid = p)),
      }),
    );
    expect(e.reason).toBe('timeout');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900); // 500 ms timeout + 500 ms grace before SIGKILL
    expect(pid).toBeGreaterThan(0);
    expect(isGroupAlive(pid)).toBe(false);
  });

  it('an already-aborted signal never starts the program', async () => {
    const ac = new AbortController();
    ac.abort();
    const e = await failure(runProcess({ tool: 'other', file: join(FIX, 'scripts/tree.sh'), args: [], cwd: tmpdir(), signal: ac.signal }));
    expect(e.reason).toBe('cancelled');
  });
});

describe('runProcess when the app quits mid-job', () => {
  it('ends the running tool\'s process group on exit', async () => {
    const r = await runProcess({
      tool: 'other', file: process.execPath, args: ['--import', 'tsx', join(FIX, 'scripts/exit-midjob.ts')], cwd: resolve(import.meta.dirname, '../..'), timeoutMs: 60_000,
    });
    const pid = Number(r.lines.find((l) => /^\d+$/.test(l)));
    expect(pid).toBeGreaterThan(0);
    // SIGKILL was sent synchronously at exit; give a loaded machine a moment to reap.
    for (let i = 0; i < 40 && isGroupAlive(pid); i++) await new Promise((res) => setTimeout(res, 50));
    expect(isGroupAlive(pid)).toBe(false);
  });
});
