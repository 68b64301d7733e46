// The real ai8x-synthesis as the judge of our exporter, simulator and planner: for every network
// we can export, ai8xize.py must (a) accept the export, (b) compute the same known answer for the
// sample as our simulator, integer for integer, and (c) report the weight and bias memory our
// planner computes. Each case takes the izer about 1.5–4 s.
import { describe, expect, it } from 'vitest';
import { ai85net5, ai85netExtraSmall, ecgNet } from '../../src-main/ir/zoo.ts';
import type { Model } from '../../src-main/ir/graph.ts';
import { crossCheck } from '../../src-main/toolchain/steps/cross-check.ts';
import { missing, need, skipNote } from '../support/fixtures.ts';
import { exportNetwork, runRealIzer, type ExportOptions } from './izer-harness.ts';

interface Case {
  name: string;
  model: () => Model;
  opts?: ExportOptions;
}

const cases: Case[] = [
  { name: 'ai85net5 (zoo, 2-D CHW, max/avg pool, flatten, wide output)', model: () => ai85net5() },
  { name: 'ai85netextrasmall (zoo)', model: () => ai85netExtraSmall(), opts: { seed: 2 } },
  { name: 'ecgnet (zoo, 1-D HWC, mixed 8/4/2-bit)', model: () => ecgNet(), opts: { seed: 3, bits: { conv1: 8, conv2: 4, conv3: 2, conv4: 4, fc: 8 } } },
];

async function judge(c: Case): Promise<void> {
  const e = await exportNetwork(c.model(), c.opts);
  expect(e.plan.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const r = await runRealIzer(e);
  // (b) the izer's known answer equals our simulator's, and the deploy step's cross-check agrees.
  expect(r.izerOutput).toEqual(Array.from(e.expected));
  expect(new Set(r.izerOutput).size, 'a degenerate output would prove little').toBeGreaterThan(1);
  expect((await crossCheck({ artifacts: e.artifacts, izerExpectedNpy: r.izerExpectedNpy })).status).toBe('ok');
  // (c) resources as the izer reports them equal the planner's.
  expect(r.resources).toBeDefined();
  expect({ weight: r.resources!.weightBytes, bias: r.resources!.biasBytes }).toEqual({ weight: e.plan.weightMemoryBytes, bias: e.plan.biasMemoryBytes });
}

describe.skipIf(missing(need.izer()))(`every export is accepted by the real ai8x-synthesis${skipNote(need.izer())}`, () => {
  for (const c of cases) it(c.name, () => judge(c), 120_000);
});
