// The real ai8x-synthesis as the judge of our exporter, simulator and planner: for every network
// we can export, ai8xize.py must (a) accept the export, (b) compute the same known answer for the
// sample as our simulator, integer for integer, and (c) report the weight and bias memory our
// planner computes. Each case takes the izer about 1.5–4 s.
import { describe, expect, it, type ExpectStatic } from 'vitest';
import { ai85net5, ai85netExtraSmall, ecgNet } from '../../src-main/ir/zoo.ts';
import type { Layer, Model, Pool } from '../../src-main/ir/graph.ts';
import { crossCheck } from '../../src-main/toolchain/steps/cross-check.ts';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { gate, need, REPO_ROOT } from '../support/fixtures.ts';
import { exportNetwork, runRealIzer, type Exported, type ExportOptions } from './izer-harness.ts';
import { simulate } from '../../src-main/sim/simulate.ts';

interface Case {
  name: string;
  model: () => Model;
  opts?: ExportOptions;
}

type Spec = Partial<Layer> & Pick<Layer, 'name' | 'op' | 'inChannels' | 'outChannels'>;

/** A layer with the builder's defaults (3x3 / k=3 kernels, ReLU, 8-bit, bias) overridden by `s`. */
function L(s: Spec): Layer {
  const weightless = ['passthrough', 'add', 'sub', 'or', 'xor'].includes(s.op);
  const k = s.op === 'linear' || weightless ? 1 : 3;
  return {
    kernel: s.op === 'conv1d' ? [k, 1] : [k, k], pad: 0, stride: s.op === 'convtranspose2d' ? 2 : 1, flatten: false,
    activation: weightless ? 'none' : 'relu', weightBits: 8, outputShift: 0, outputWidth: 8, hasBias: !weightless, ...s,
  };
}

const pool = (kind: Pool['kind'], size: [number, number], stride: [number, number] = size): Pool => ({ kind, size, stride });

function net(arch: string, input: Model['input'], layers: Layer[]): Model {
  return { arch, dataset: 'test', device: 'MAX78002', input, layers };
}

const cases: Case[] = [
  { name: 'ai85net5 (zoo, 2-D CHW, max/avg pool, flatten, wide output)', model: () => ai85net5() },
  { name: 'ai85netextrasmall (zoo)', model: () => ai85netExtraSmall(), opts: { seed: 2 } },
  { name: 'ai85netextrasmall on the MAX78000', model: () => ai85netExtraSmall('MAX78000'), opts: { seed: 4 } },
  { name: 'ecgnet (zoo, 1-D HWC, mixed 8/4/2-bit)', model: () => ecgNet(), opts: { seed: 3, bits: { conv1: 8, conv2: 4, conv3: 2, conv4: 4, fc: 8 } } },
  {
    name: '2-D HWC, 1x1 and 3x3 kernels, pad 0/1/2, Abs and no activation, avg pool with stride ≠ size, 8-bit output layer',
    model: () => net('t2dhwc', { channels: 3, dims: [12, 12], format: 'HWC' }, [
      L({ name: 'c1', op: 'conv2d', inChannels: 3, outChannels: 8, kernel: [1, 1], activation: 'abs' }),
      L({ name: 'c2', op: 'conv2d', inChannels: 8, outChannels: 12, pad: 2, pool: pool('avg', [3, 3], [2, 2]) }),
      L({ name: 'c3', op: 'conv2d', inChannels: 12, outChannels: 6, pad: 1, activation: 'none', hasBias: false }),
    ]),
    opts: { seed: 11 },
  },
  {
    name: '4-, 2- and 1-bit weights, max pool 2x2 stride 1, BatchNorm folded, Linear with flatten and wide output',
    model: () => net('tbits', { channels: 2, dims: [10, 10], format: 'CHW' }, [
      L({ name: 'c1', op: 'conv2d', inChannels: 2, outChannels: 16, pad: 1 }),
      L({ name: 'c2', op: 'conv2d', inChannels: 16, outChannels: 16, pad: 1, pool: pool('max', [2, 2], [1, 1]) }),
      L({ name: 'c3', op: 'conv2d', inChannels: 16, outChannels: 8, pad: 1, pool: pool('max', [3, 3]) }),
      L({ name: 'fc', op: 'linear', inChannels: 8, outChannels: 4, flatten: true, activation: 'none', outputWidth: 32 }),
    ]),
    opts: { seed: 12, batchNorm: true, bits: { c1: 4, c2: 2, c3: 1, fc: 8 } },
  },
  {
    name: 'weight counts that are not whole bytes at 1 and 2 bits (the izer rounds each layer down)',
    model: () => net('todd', { channels: 3, dims: [6, 6], format: 'HWC' }, [
      L({ name: 'c1', op: 'conv2d', inChannels: 3, outChannels: 5, kernel: [1, 1] }),
      L({ name: 'c2', op: 'conv2d', inChannels: 5, outChannels: 3, kernel: [1, 1] }),
      L({ name: 'c3', op: 'conv2d', inChannels: 3, outChannels: 7, kernel: [1, 1], activation: 'none' }),
    ]),
    opts: { seed: 22, bits: { c1: 1, c2: 2, c3: 4 } },
  },
  {
    name: 'pooling-only (passthrough) layer, then Linear without flatten on 1x1 data, 8-bit output',
    model: () => net('tpass', { channels: 4, dims: [8, 8], format: 'HWC' }, [
      L({ name: 'c1', op: 'conv2d', inChannels: 4, outChannels: 16, pad: 1 }),
      L({ name: 'p1', op: 'passthrough', inChannels: 16, outChannels: 16, pool: pool('max', [8, 8]) }),
      L({ name: 'fc1', op: 'linear', inChannels: 16, outChannels: 12 }),
      L({ name: 'fc2', op: 'linear', inChannels: 12, outChannels: 5, activation: 'none', hasBias: false }),
    ]),
    opts: { seed: 13 },
  },
  {
    name: 'more than 64 channels (multi-pass), avg pool, wide output',
    model: () => net('twide', { channels: 3, dims: [8, 8], format: 'HWC' }, [
      L({ name: 'c1', op: 'conv2d', inChannels: 3, outChannels: 100, pad: 1 }),
      L({ name: 'c2', op: 'conv2d', inChannels: 100, outChannels: 80, pad: 1, pool: pool('avg', [2, 2]) }),
      L({ name: 'c3', op: 'conv2d', inChannels: 80, outChannels: 10, kernel: [1, 1], pool: pool('max', [4, 4]), activation: 'none', outputWidth: 32 }),
    ]),
    opts: { seed: 14 },
  },
  {
    name: '1-D: kernels 1, 5 and 9, pad 0/2, avg and max pools with stride ≠ size, 1/2/4-bit, BatchNorm folded, wide Linear',
    model: () => net('t1d', { channels: 2, dims: [96], format: 'HWC' }, [
      L({ name: 'c1', op: 'conv1d', inChannels: 2, outChannels: 16, kernel: [9, 1], pad: 2 }),
      L({ name: 'c2', op: 'conv1d', inChannels: 16, outChannels: 16, kernel: [1, 1], pool: pool('avg', [3, 1], [2, 1]) }),
      L({ name: 'c3', op: 'conv1d', inChannels: 16, outChannels: 24, kernel: [5, 1], pad: 2, pool: pool('max', [4, 1]), activation: 'abs' }),
      L({ name: 'fc', op: 'linear', inChannels: 24, outChannels: 6, flatten: true, activation: 'none', outputWidth: 32 }),
    ]),
    opts: { seed: 15, batchNorm: true, bits: { c1: 8, c2: 1, c3: 2, fc: 4 } },
  },
  {
    name: '1-D CHW input, 1-D passthrough pool, dilated Conv1d, 8-bit Conv1d output',
    model: () => net('t1dchw', { channels: 1, dims: [64], format: 'CHW' }, [
      L({ name: 'c1', op: 'conv1d', inChannels: 1, outChannels: 8, kernel: [3, 1], pad: 1 }),
      L({ name: 'p', op: 'passthrough', inChannels: 8, outChannels: 8, pool: pool('avg', [2, 1]) }),
      L({ name: 'c2', op: 'conv1d', inChannels: 8, outChannels: 8, kernel: [3, 1], pad: 1, dilation: 2 }),
      L({ name: 'c3', op: 'conv1d', inChannels: 8, outChannels: 4, kernel: [7, 1], activation: 'none' }),
    ]),
    opts: { seed: 16 },
  },
  {
    name: 'residual: stand-alone Add of two layers (in_sequences), Sub, then Conv with a fused element-wise Add',
    model: () => net('telt', { channels: 4, dims: [8, 8], format: 'HWC' }, [
      L({ name: 'c1', op: 'conv2d', inChannels: 4, outChannels: 8, pad: 1 }),
      L({ name: 'c2', op: 'conv2d', inChannels: 8, outChannels: 8, pad: 1 }),
      L({ name: 'a', op: 'add', inChannels: 8, outChannels: 8, inputs: [0, 1], operands: 2 }),
      L({ name: 's', op: 'sub', inChannels: 8, outChannels: 8, inputs: [2, 0], operands: 2 }),
      L({ name: 'c3', op: 'conv2d', inChannels: 8, outChannels: 6, pad: 1, eltwise: 'add', operands: 2, inputs: [3, 1], activation: 'none', hasBias: false }),
    ]),
    opts: { seed: 17 },
  },
  {
    name: 'Or/Xor layers, element-wise with pooling combined first (pool_first: false)',
    model: () => net('tbit', { channels: 4, dims: [8, 8], format: 'HWC' }, [
      L({ name: 'c1', op: 'conv2d', inChannels: 4, outChannels: 8, pad: 1 }),
      L({ name: 'c2', op: 'conv2d', inChannels: 8, outChannels: 8, pad: 1 }),
      L({ name: 'o', op: 'or', inChannels: 8, outChannels: 8, inputs: [0, 1], operands: 2 }),
      L({ name: 'x', op: 'xor', inChannels: 8, outChannels: 8, inputs: [2, 1], operands: 2, pool: pool('max', [2, 2]), poolFirst: false }),
      L({ name: 'c3', op: 'conv2d', inChannels: 8, outChannels: 4, kernel: [1, 1], activation: 'none' }),
    ]),
    opts: { seed: 18 },
  },
  {
    name: 'ConvTranspose2d (stride 2), 1-bit',
    model: () => net('tup', { channels: 4, dims: [6, 6], format: 'HWC' }, [
      L({ name: 'c1', op: 'conv2d', inChannels: 4, outChannels: 8, pad: 1 }),
      L({ name: 'up', op: 'convtranspose2d', inChannels: 8, outChannels: 8, pad: 1 }),
      L({ name: 'c2', op: 'conv2d', inChannels: 8, outChannels: 4, pad: 1, activation: 'none' }),
    ]),
    opts: { seed: 19, bits: { c1: 8, up: 1, c2: 8 } },
  },
];

async function judge(c: Case, expect: ExpectStatic): Promise<void> {
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

const izer = gate(need.izer());

describe.skipIf(izer.skip)(`every export is accepted by the real ai8x-synthesis${izer.note}`, () => {
  // Concurrent: each case waits on its own izer process, so a machine with cores to spare runs them side by side.
  for (const c of cases) it.concurrent(c.name, ({ expect }) => judge(c, expect), 180_000);

  it('qatwb simulate on the exported files gives the izer\'s known answer (1-D and 2-D with spatial output)', async () => {
    const picked = cases.filter((k) => k.name.startsWith('ecgnet') || k.name.startsWith('2-D HWC'));
    expect(picked).toHaveLength(2);
    for (const c of picked) {
      const e = await exportNetwork(c.model(), c.opts);
      const r = await runRealIzer(e);
      const sim = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/qatwb.mjs'), 'simulate', '--checkpoint', e.artifacts.checkpoint, '--network', e.artifacts.yaml,
        '--input', e.artifacts.sampleInput, '--json'], { encoding: 'utf8', cwd: REPO_ROOT });
      expect(sim.status, sim.stderr).toBe(0);
      expect((JSON.parse(sim.stdout) as { output: number[] }).output).toEqual(r.izerOutput);
    }
  }, 240_000);
});

// avg-pool rounding (izer --avg-pool-rounding) as the izer computes it. The pooled data reaches the
// output as is (a pooling-only last layer) or through a 1x1 conv, with ties (means on .5) of both signs.
interface PoolCase { name: string; model: (rounding: boolean) => Model; rounds: boolean }
const withRounding = (m: Model, r: boolean): Model => (r ? { ...m, avgPoolRounding: true } : m);
const poolCases: PoolCase[] = [
  {
    name: '1-D pooling-only layer: rounds (the izer pools it as 2-D data)', rounds: true,
    model: (r) => withRounding(net('tavg1dp', { channels: 4, dims: [48], format: 'HWC' }, [
      L({ name: 'c1', op: 'conv1d', inChannels: 4, outChannels: 16, kernel: [1, 1], activation: 'none' }),
      L({ name: 'p', op: 'passthrough', inChannels: 16, outChannels: 16, pool: pool('avg', [2, 1]) }),
    ]), r),
  },
  {
    name: '1-D avg pool fused into a Conv1d: always truncates', rounds: false,
    model: (r) => withRounding(net('tavg1dc', { channels: 4, dims: [48], format: 'HWC' }, [
      L({ name: 'c1', op: 'conv1d', inChannels: 4, outChannels: 16, kernel: [1, 1], activation: 'none' }),
      L({ name: 'c2', op: 'conv1d', inChannels: 16, outChannels: 16, kernel: [1, 1], activation: 'none', pool: pool('avg', [2, 1]) }),
    ]), r),
  },
  {
    name: '2-D pooling-only layer 2x2: rounds half away from zero', rounds: true,
    model: (r) => withRounding(net('tavg2dp', { channels: 4, dims: [8, 8], format: 'HWC' }, [
      L({ name: 'c1', op: 'conv2d', inChannels: 4, outChannels: 16, kernel: [1, 1], activation: 'none' }),
      L({ name: 'p', op: 'passthrough', inChannels: 16, outChannels: 16, pool: pool('avg', [2, 2]) }),
    ]), r),
  },
];

/** Pool windows (size = stride) of layer 1 whose mean sits exactly on .5, from our simulator's layer-0 output. */
function poolTies(e: Exported): { neg: number; pos: number } {
  const model = e.plan.model;
  const first = simulate(model, e.sample, { allLayers: true }).layers![0]!;
  const [ph, pw] = model.layers[1]!.pool!.size;
  const c = first.shape.channels, h = first.shape.dims[0]!, w = first.shape.dims[1] ?? 1;
  const [sh, sw] = first.shape.dims.length === 1 ? [ph, 1] : [ph, pw];
  const n = sh * sw;
  let neg = 0, pos = 0;
  for (let ch = 0; ch < c; ch++) for (let y = 0; y + sh <= h; y += sh) for (let x = 0; x + sw <= w; x += sw) {
    let s = 0;
    for (let a = 0; a < sh; a++) for (let b = 0; b < sw; b++) s += first.data[(ch * h + y + a) * w + x + b]!;
    if (Math.abs(s) % n === n / 2) { if (s < 0) neg++; else pos++; }
  }
  return { neg, pos };
}

describe.skipIf(izer.skip)(`average pooling with --avg-pool-rounding as the real ai8x-synthesis computes it${izer.note}`, () => {
  for (const c of poolCases) {
    it.concurrent(`${c.name}; known answer with and without the flag equals our simulator`, async ({ expect }) => {
      const [plain, rounded] = await Promise.all([exportNetwork(c.model(false), { seed: 31 }), exportNetwork(c.model(true), { seed: 31 })]);
      const t = poolTies(rounded);
      expect(t.neg, 'windows with a negative .5 mean').toBeGreaterThan(3);
      expect(t.pos, 'windows with a positive .5 mean').toBeGreaterThan(3);
      const [izPlain, izRounded] = await Promise.all([runRealIzer(plain), runRealIzer(rounded)]);
      expect(izPlain.izerOutput).toEqual(Array.from(plain.expected));
      expect(izRounded.izerOutput).toEqual(Array.from(rounded.expected));
      if (c.rounds) expect(izRounded.izerOutput).not.toEqual(izPlain.izerOutput);
      else expect(izRounded.izerOutput).toEqual(izPlain.izerOutput);
    }, 180_000);
  }
});

// What the planner refuses, the real izer refuses too (each rule here was found by this suite).
const refusals: (Case & { rule: string; izer: RegExp })[] = [
  {
    name: 'an in-flight element-wise Add fused into a Conv2d with a bias',
    rule: 'eltwise-multipass-bias',
    izer: /multi-pass element-wise operations must be in a separate layer from convolutions with bias/,
    model: () => net('tfusedbias', { channels: 4, dims: [8, 8], format: 'HWC' }, [
      L({ name: 'c1', op: 'conv2d', inChannels: 4, outChannels: 8, pad: 1 }),
      L({ name: 'c2', op: 'conv2d', inChannels: 8, outChannels: 8, pad: 1 }),
      L({ name: 'c3', op: 'conv2d', inChannels: 8, outChannels: 6, pad: 1, eltwise: 'add', operands: 2, inputs: [0, 1], activation: 'none' }),
    ]),
  },
  {
    name: 'a dilated Conv2d',
    rule: 'conv2d-dilation',
    izer: /`dilation` > 1 is supported for Conv1d only/,
    model: () => net('tdil', { channels: 4, dims: [8, 8], format: 'HWC' }, [
      L({ name: 'c1', op: 'conv2d', inChannels: 4, outChannels: 8, pad: 2, dilation: 2, activation: 'none' }),
    ]),
  },
];

describe.skipIf(izer.skip)(`the planner refuses what the real ai8x-synthesis refuses${izer.note}`, () => {
  for (const c of refusals) {
    it(c.name, async () => {
      const e = await exportNetwork(c.model(), { seed: 21, despitePlanErrors: true });
      expect(e.plan.diagnostics.filter((d) => d.severity === 'error').map((d) => d.rule)).toEqual([c.rule]);
      await expect(runRealIzer(e)).rejects.toThrow(c.izer);
    }, 120_000);
  }
});
