// The error map on recorded-form outputs (test/fixtures/toolchain/outputs): each known failure
// becomes a specific reason with a plain message and a fix; unknown ones fall back to the tool's
// own last error line.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { diagnoseFailure, scanWarnings } from '../../src-main/toolchain/error-map.ts';
import type { ToolName } from '../../src-main/toolchain/toolchain-error.ts';
import { FAILURES } from '../izer/izer-failures.ts';

const OUT = resolve(import.meta.dirname, '../fixtures/toolchain/outputs');
const lines = (name: string) => readFileSync(resolve(OUT, name), 'utf8').split('\n').filter(Boolean);

const CASES: [string, ToolName, string, RegExp, RegExp][] = [
  ['izer-bn-unfused.txt', 'ai8xize', 'bn-not-folded', /conv1\.bn\.weight/, /QAT checkpoint|batchnormfuser/],
  ['izer-processor-count.txt', 'ai8xize', 'processor-count', /Layer 2 has 32 input channels.*0x000000000000ffff enables 16 processors instead of 32/, /Set 32 processor bits for layer 2/],
  ['izer-data-memory.txt', 'ai8xize', 'data-memory-overflow', /Layer 0's data.*81920 bytes/, /81,920 bytes on MAX78002/],
  ['izer-overwrite.txt', 'ai8xize', 'overwriting-input', /Layer 3 writes its output over input/, /0xA000 on MAX78002/],
  ['izer-arch-mismatch.txt', 'ai8xize', 'arch-mismatch', /YAML says arch "ai87net".*"ai85net5"/, /YAML exported with this checkpoint/],
  ['izer-flatten.txt', 'ai8xize', 'flatten-limit', /512 \* 1 > 256/, /256 positions/],
  ['izer-module-missing.txt', 'ai8xize', 'python-module-missing', /cannot import "numpy"/, /virtual environment/],
  ['izer-other.txt', 'ai8xize', 'yaml-config', /refused at layer 1: .*Unsupported value `5x5` for `kernel_size`/, /Correct that layer/],
  ['openocd-idr.txt', 'openocd', 'cannot-read-idr', /does not answer on SWD/, /RSTN.*2-second boot window/],
  ['openocd-not-examined.txt', 'openocd', 'cannot-read-idr', /cannot read IDR/, /boot window/],
  ['openocd-busy.txt', 'openocd', 'adapter-busy', /in use by another program/, /Close other debuggers/],
  ['make-maxim-path.txt', 'make', 'maxim-path', /MAXIM_PATH does not point at the MSDK/, /MaximSDK folder/],
  ['make-no-compiler.txt', 'make', 'compiler-missing', /cannot find arm-none-eabi-gcc/, /GNUTools\/10\.3/],
  ['make-link.txt', 'make', 'link-error', /nothing defines "qatwb_harness_run"/, /re-synthesize/],
];

describe('diagnoseFailure on recorded outputs', () => {
  it.each(CASES)('%s → %s', (file, tool, reason, message, fix) => {
    const d = diagnoseFailure(tool, lines(file), 1);
    expect(d.reason).toBe(reason);
    expect(d.message).toMatch(message);
    expect(d.fix).toMatch(fix);
    expect(d.evidence).toBeTruthy();
    expect(d.tail!.length).toBeGreaterThan(0);
  });

  it('rules are per tool: an izer message in make output is not diagnosed as an izer failure', () => {
    expect(diagnoseFailure('make', lines('izer-bn-unfused.txt'), 2).reason).toBe('make-error');
  });

  it('an izer error no rule knows is given in the tool\'s own words', () => {
    const d = diagnoseFailure('ai8xize', ['Configuring device: MAX78002', 'ERROR: Something new went wrong.'], 1);
    expect(d.reason).toBe('izer-error');
    expect(d.message).toMatch(/ai8xize failed: ERROR: Something new went wrong/);
  });

  it('a failure with no error line still says the exit code', () => {
    const d = diagnoseFailure('openocd', ['Open On-Chip Debugger 0.12.0'], 3);
    expect(d.message).toMatch(/exit code 3/);
  });
});

// Outputs of the real ai8x-synthesis (recorded by test/izer/record-izer-failures.ts).
describe('diagnoseFailure on recorded real ai8xize.py outputs', () => {
  it.each(FAILURES.map((c) => [c.name, c] as const))('izer-real-%s.txt', (name, c) => {
    const d = diagnoseFailure('ai8xize', lines(`izer-real-${name}.txt`), 1);
    expect(d.reason).toBe(c.reason);
    expect(d.message).toMatch(c.message);
    expect(d.evidence).toBeTruthy();
  });
});

describe('scanWarnings', () => {
  it('flags all-zero weights (a float checkpoint fed to the izer)', () => {
    const w = scanWarnings('ai8xize', lines('izer-zero-weights.txt'));
    expect(w).toHaveLength(1);
    expect(w[0]!.reason).toBe('zero-weights');
    expect(w[0]!.message).toMatch(/conv1\.op\.weight/);
  });
  it('finds nothing in a clean run', () => {
    expect(scanWarnings('ai8xize', ['Configuring device: MAX78002', 'Creating network...'])).toEqual([]);
  });
});
