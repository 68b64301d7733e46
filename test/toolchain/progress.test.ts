// Progress parsers on representative line forms. The ai8xize forms follow the izer's console
// output as described in max78002.md and its README; they were not captured from a real run here.
import { describe, expect, it } from 'vitest';
import { createAi8xizeProgress } from '../../src-main/toolchain/tools/ai8xize.ts';
import { createMakeProgress } from '../../src-main/toolchain/tools/make.ts';
import { createOpenocdProgress } from '../../src-main/toolchain/tools/openocd.ts';
import type { ProgressParser } from '../../src-main/toolchain/tools/progress-parser.ts';
import { ToolchainProgressData } from '../../src-main/api/toolchain.api.ts';
import type { Progress } from '../../src-main/api/contract.ts';

/** A progress's data read as its job declares it (ToolchainProgressData): a producer that sends another shape fails here; stepOf: undefined without data. */
const data = (p: Progress) => ToolchainProgressData.parse(p.data);
const stepOf = (p: Progress) => { if (p.data === undefined) return undefined; const d = data(p); return 'step' in d ? d.step : undefined; };

const feed = (parser: ProgressParser, lines: string[]) => lines.map(parser).filter((p) => p !== undefined);

describe('ai8xize progress', () => {
  it('moves through the phases and follows the progress bars', () => {
    const ps = feed(createAi8xizeProgress(), [
      'Configuring device: MAX78002',
      'Reading networks/ai85net5.yaml to configure network...',
      'Reading trained/ai85-mnist-qat8-q.pth.tar to configure network weights...',
      'Checkpoint for epoch 136, model ai85net5 - weight and bias data:',
      ' InCh OutCh  Weights         Quant Shift  Min  Max   Size Key                                       Bias       Quant  Min  Max Size Key',
      '    1    60  (60, 1, 3, 3)       8    -1 -128  127    540 conv1.op.weight                           (60,)          8 -128  127   60 conv1.op.bias',
      '   60    60  (3600, 3, 3)        8    -1 -128  127  32400 conv2.op.weight                           (60,)          8 -128  127   60 conv2.op.bias',
      'TOTAL: 5 parameter layers, 71,148 parameters, 71,158 bytes',
      'Configuring data set: mnist.',
      'Arranging weights... ━━━━━━━━━━━━━━━━━━━━                     50% 0:00:01',
      'Arranging weights... ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ 100% 0:00:00',
      'Creating network... ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ 100% 0:00:00',
      'unrelated line',
    ]);
    const steps = ps.map(stepOf);
    expect(steps).toEqual(['configure', 'read-yaml', 'read-checkpoint', 'read-checkpoint', 'read-checkpoint', 'read-checkpoint', 'read-checkpoint', 'sample', 'arrange-weights', 'arrange-weights', 'generate']);
    expect(data(ps[5]!)).toEqual({ kind: 'ai8xize', step: 'read-checkpoint', layers: 2 });
    expect(data(ps[6]!)).toEqual({ kind: 'ai8xize', step: 'read-checkpoint', layers: 5 });
    const f = ps.map((p) => p.fraction!);
    expect([...f].sort((a, b) => a - b)).toEqual(f);
    expect(f.at(-1)).toBeLessThan(1); // 1 only when the step has checked the generated files
  });
});

describe('make progress', () => {
  it('counts MSDK short lines and verbose gcc lines, then the link', () => {
    const ps = feed(createMakeProgress(4), [
      '  CC    main.c',
      '  CC    /opt/MaximSDK/Libraries/PeriphDrivers/Source/SYS/mxc_assert.c',
      'arm-none-eabi-gcc -mthumb -mcpu=cortex-m4 -c cnn.c -o build/cnn.o',
      '  AR    build/libPeriphDriver.a',
      'make[1]: Nothing to be done',
      '  LD    build/max78002.elf',
    ]);
    expect(ps.map((p) => { const d = data(p); return d.kind === 'make' ? d.compiled : undefined; })).toEqual([1, 2, 3, 4, 4]);
    expect(ps[2]!.message).toBe('CC cnn.c');
    expect(ps.at(-1)!.message).toBe('LD build/max78002.elf');
    expect(ps.at(-1)!.fraction).toBe(0.95);
  });
});

describe('openocd progress', () => {
  it('follows program → verify → reset and never goes back', () => {
    const ps = feed(createOpenocdProgress(), [
      'Info : CMSIS-DAP: SWD supported',
      '[max32xxx.cpu] halted due to debug-request, current mode: Thread',
      '** Programming Started **',
      'wrote 65536 bytes from file build/max78002.elf in 2.1s (30.4 KiB/s)',
      '** Programming Finished **',
      '** Verify Started **',
      '** Verified OK **',
      '** Resetting Target **',
      'Info : CMSIS-DAP: SWD supported',
      'shutdown command invoked',
    ]);
    expect(ps.map(stepOf)).toEqual(['adapter', 'halted', 'program', 'program', 'program', 'verify', 'verify', 'reset', 'done']);
  });
});
