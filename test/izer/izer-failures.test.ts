// The error map against the real ai8x-synthesis: each failure of izer-failures.ts is provoked
// live and must come back as its specific reason with a plain message (not "exit code 1"); the
// same cases are checked offline on the recorded outputs in error-map.test.ts. A YAML that lacks a
// layer is accepted by the izer (it generates a shorter network), so the flow's pre-flight check
// is what stops it.
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { ecgNet } from '../../src-main/ir/zoo.ts';
import { ToolchainError } from '../../src-main/toolchain/toolchain-error.ts';
import { checkLayerCount } from '../../src-main/toolchain/steps/preflight.ts';
import { gate, need } from '../support/fixtures.ts';
import { exportNetwork, runRealIzer } from './izer-harness.ts';
import { FAILURES } from './izer-failures.ts';

const izer = gate(need.izer());

describe.skipIf(izer.skip)(`real ai8xize.py failures are diagnosed${izer.note}`, () => {
  for (const c of FAILURES) {
    it(`${c.name} → ${c.reason}`, async () => {
      const e = await c.make();
      const err = await runRealIzer(e).then(() => undefined, (x: unknown) => x);
      expect(err).toBeInstanceOf(ToolchainError);
      const t = err as ToolchainError;
      expect(t.reason, t.message).toBe(c.reason);
      expect(t.message).toMatch(c.message);
      expect(t.exitCode).toBe(1);
      expect(t.fix.length).toBeGreaterThan(20);
    }, 120_000);
  }

  it('a YAML without the last layer: the izer accepts it, the pre-flight check refuses it', async () => {
    const e = await exportNetwork(ecgNet(), { seed: 3 });
    const yaml = readFileSync(e.artifacts.yaml, 'utf8').trimEnd().split('\n  - ');
    writeFileSync(e.artifacts.yaml, yaml.slice(0, -1).join('\n  - ') + '\n');
    const r = await runRealIzer(e);
    expect(r.run.exitCode).toBe(0);
    expect(r.izerOutput, "conv4's 64 channels x 8 positions: the network without its Linear layer").toHaveLength(64 * 8);
    const err = await checkLayerCount(e.artifacts).then(() => undefined, (x: unknown) => x);
    expect(err).toBeInstanceOf(ToolchainError);
    expect((err as ToolchainError).reason).toBe('layer-count');
    expect((err as ToolchainError).message).toMatch(/network\.yaml has 4 layers with weights but checkpoint\.pth\.tar holds 5 \(fc\.op\.weight have no layer\)/);
  }, 120_000);
});
