// The PyTorch engine as the app runs it (a real child process of Debian's Python with torch): the
// same initial weights and batch order as the embedded engine, a run split by resume equal to the
// same run in one go, a 2-process DDP run on CPU (gloo) that tracks the single-process run, cancel
// with a resumable state, networks with pooling-only layers, a remote command prefix that moves the
// job and the results, and clear errors for bad input.
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ai85net5, ecgNet } from '../ir/zoo.ts';
import type { Model } from '../ir/graph.ts';
import type { Dataset, Split } from '../data/dataset.ts';
import { seededRng } from '../data/random.ts';
import { trainWithPytorch, type PytorchEngineOptions } from './pytorch-engine.ts';
import { runTrainingInWorker } from './train-in-worker.ts';
import type { TrainConfig, TrainProgress, TrainState } from './train-types.ts';
import { PYTHON, missing, need, skipNote } from '../../test/support/fixtures.ts';
import { withBitsEdits } from '../ir/bits-policy.ts';

const reqs = [need.python(), need.numpy(), need.torch()];

/** A learnable 1-D problem: the class is which quarter of the signal holds a bump. */
function bumps(count: number, length = 64, classes = 4, seed = 5): { dataset: Dataset; split: Split } {
  const rng = seededRng(seed);
  const x = new Float32Array(count * length);
  const y = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    const c = n % classes;
    y[n] = c;
    const centre = Math.floor(((c + 0.2 + rng() * 0.6) * length) / classes);
    for (let i = 0; i < length; i++) {
      const d = (i - centre) / 3;
      x[n * length + i] = Math.round((Math.exp(-d * d) * 0.8 + (rng() - 0.5) * 0.3) * 128) / 128;
    }
  }
  const idx = Int32Array.from({ length: count }, (_, i) => i);
  const nVal = Math.floor(count / 5);
  return {
    dataset: { name: 'bumps', count, channels: 1, dims: [length], x, y, classNames: Array.from({ length: classes }, (_, i) => `q${i}`) },
    split: { train: idx.subarray(nVal), validation: idx.subarray(0, nVal), test: idx.subarray(0, nVal) },
  };
}

const model: Model = ecgNet('MAX78002', 64, 4);
const base: TrainConfig = {
  epochs: 4, qatStartEpoch: 3, batchSize: 16, learningRate: 2e-3, batchNorm: true,
  qat: { learningRate: 6e-4 }, seed: 3,
};
const opts: PytorchEngineOptions = { python: PYTHON, threads: 1 };

describe.skipIf(missing(...reqs))(`PyTorch engine${skipNote(...reqs)}`, () => {
  const data = bumps(400);
  let whole: Awaited<ReturnType<typeof trainWithPytorch>>;
  const progress: TrainProgress[] = [];
  const checkpoints: TrainState[] = [];

  beforeAll(async () => {
    whole = await trainWithPytorch(model, data, base, opts, { onProgress: (p) => progress.push(p), onCheckpoint: (s) => checkpoints.push(s) });
  });

  it('trains float then QAT with BN folded, streams progress and per-layer ranges, and hands back the app-side result', () => {
    expect(whole.engine).toBe('pytorch');
    expect(whole.device).toBe('cpu');
    expect(whole.backend).toMatch(/^PyTorch .* on cpu \(1 thread\)$/);
    expect(whole.history.map((e) => e.phase)).toEqual(['float', 'float', 'float', 'qat']);
    expect(whole.history[3]!.valAccuracy).toBeGreaterThan(0.6); // 4 classes: chance 0.25
    expect(whole.history.map((e) => e.lr)).toEqual([2e-3, 2e-3, 2e-3, 6e-4]);
    expect(whole.history[3]!.ranges.map((r) => r.layer)).toEqual(model.layers.map((l) => l.name));
    for (const r of whole.history[3]!.ranges) {
      expect(r.weightHistogram.counts.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      expect(r.activationHistogram.counts.length).toBe(32);
    }
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toMatchObject({ epoch: 3, epochs: 4, phase: 'qat', batch: 20, batches: 20 });
    // BN folded into the float-phase snapshot and the final weights; the state has no BN left.
    expect(whole.floatModelParams?.map((p) => p.name)).toEqual(model.layers.map((l) => l.name));
    expect(whole.state.bnFolded).toBe(true);
    expect(whole.state.variables.some((v) => v.name.includes('.bn.'))).toBe(false);
    expect(whole.state.variables.find((v) => v.name === 'conv2.weight')!.shape).toEqual([1, 5, 16, 32]); // the embedded engine's layout
    expect(whole.floatParams[1]!.weight.length).toBe(32 * 16 * 5);
    expect(whole.outputShifts.length).toBe(5);
    expect(whole.layerBits).toEqual([8, 8, 8, 8, 8]);
  });

  it('a run resumed from its saved state equals the same run in one go', async () => {
    const first = await trainWithPytorch(model, data, { ...base, epochs: 3 }, opts);
    expect(first.state.bnFolded).toBe(false);
    expect(first.state.variables.some((v) => v.name === 'conv1.bn.running_var')).toBe(true);
    const rest = await trainWithPytorch(model, data, { ...base, resumeFrom: first.state }, opts);
    expect(rest.history.map((e) => e.epoch)).toEqual([0, 1, 2, 3]);
    expect(rest.history[3]!.valLoss).toBe(whole.history[3]!.valLoss);
    rest.floatParams.forEach((p, i) => expect(Array.from(p.weight)).toEqual(Array.from(whole.floatParams[i]!.weight)));
  });

  it('hands over the whole state after every epoch, and a run resumed from any of them equals the run in one go', async () => {
    expect(checkpoints.map((c) => c.epoch)).toEqual([1, 2, 3, 4]);
    expect(checkpoints.map((c) => c.history.length)).toEqual([1, 2, 3, 4]);
    expect(checkpoints.map((c) => c.bnFolded)).toEqual([false, false, false, true]);
    expect(checkpoints[1]!.optimizer!.step).toBe(2 * 20); // 20 batches an epoch
    // The last one is the final state.
    const last = checkpoints[3]!;
    last.variables.forEach((v, i) => expect(Array.from(v.data)).toEqual(Array.from(whole.state.variables[i]!.data)));
    // From the state after epoch 2 (float phase, BN not folded yet): the same epochs 3 and 4, bit for bit.
    const rest = await trainWithPytorch(model, data, { ...base, resumeFrom: checkpoints[1]! }, opts);
    expect(rest.history.map((e) => e.valLoss)).toEqual(whole.history.map((e) => e.valLoss));
    rest.floatParams.forEach((p, i) => expect(Array.from(p.weight)).toEqual(Array.from(whole.floatParams[i]!.weight)));
  });

  it('2 processes with DDP on CPU (gloo) train the same global batches as one process', async () => {
    const single = await trainWithPytorch(model, data, { ...base, epochs: 2, batchNorm: false }, opts);
    const first: TrainProgress[] = [];
    // Another run's rendezvous store on 29400 (torch 1.13's fixed --standalone port), here a listener that
    // never answers: a run that went there would hang; this one has a port of its own.
    const other = createServer(() => undefined);
    await new Promise<void>((resolve) => other.once('error', () => resolve()).listen(29400, '127.0.0.1', resolve));
    // A timeout of its own: a stuck run is ended with its process group (torchrun and both ranks) before
    // the test's, so nothing is left holding a port or a core.
    const ddp = await trainWithPytorch(model, data, { ...base, epochs: 2, batchNorm: false }, { ...opts, processes: 2, timeoutMs: 270_000 }, { onProgress: (p) => first.push(p) });
    other.close();
    expect(ddp.backend).toMatch(/×2 processes, DDP gloo/);
    expect(ddp.worldSize).toBe(2);
    expect(ddp.history.length).toBe(2);
    // Same initial weights and global batches: the trajectories agree up to float rounding.
    for (let e = 0; e < 2; e++) {
      expect(Math.abs(ddp.history[e]!.trainLoss - single.history[e]!.trainLoss)).toBeLessThan(0.02 * single.history[e]!.trainLoss);
      expect(Math.abs(ddp.history[e]!.valLoss - single.history[e]!.valLoss)).toBeLessThan(0.03 * single.history[e]!.valLoss);
    }
    expect(ddp.history[1]!.valLoss).toBeLessThan(ddp.history[0]!.valLoss + 0.05);
    // torchrun + two ranks importing torch on a 2-core CI runner beside other suites: once over 120 s.
  }, 300_000);

  it('cancel stops between batches with a state that resumes', async () => {
    const controller = new AbortController();
    const big = bumps(4000);
    const cancelled = await trainWithPytorch(model, big, { ...base, epochs: 2 }, opts, {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.batch >= 5) controller.abort();
      },
    });
    expect(cancelled.cancelled).toBe(true);
    expect(cancelled.stoppedAt!.epoch).toBe(0);
    expect(cancelled.stoppedAt!.batch).toBeGreaterThanOrEqual(5);
    expect(cancelled.stoppedAt!.batch).toBeLessThan(200);
    expect(cancelled.state.epoch).toBe(0);
    const again = await trainWithPytorch(model, data, { ...base, epochs: 1, resumeFrom: cancelled.state }, opts);
    expect(again.history.length).toBe(1);
  });

  it('runs through a remote command prefix, moving the job there and the results back', async () => {
    const remoteDir = join(mkdtempSync(join(tmpdir(), 'qatwb-remote-')), 'job');
    const remote = await trainWithPytorch(model, data, { ...base, epochs: 1 }, { ...opts, remotePrefix: ['sh', '-c'], remoteDir });
    expect(remote.history[0]!.valLoss).toBe(
      (await trainWithPytorch(model, data, { ...base, epochs: 1 }, opts)).history[0]!.valLoss,
    );
    expect(existsSync(remoteDir)).toBe(false); // cleaned up after the results came back
  });

  it('says what is wrong: an unknown config field, a model it cannot train, a Python without the engine', async () => {
    await expect(trainWithPytorch(model, data, { ...base, epochs: 1, futureKnob: 1 } as TrainConfig, opts))
      .rejects.toThrow(/futureKnob: not supported by the PyTorch engine/);
    const strided: Model = { ...ai85net5(), layers: ai85net5().layers.map((l, i) => (i === 1 ? { ...l, stride: 2 } : l)) };
    const mnistLike = { dataset: { ...data.dataset, channels: 1, dims: [28, 28], x: new Float32Array(400 * 784) }, split: data.split };
    await expect(trainWithPytorch(strided, mnistLike, { ...base, epochs: 1 }, opts)).rejects.toThrow(/layers\[1\] \(conv2\): stride 2/);
    await expect(trainWithPytorch(model, data, base, { python: join(tmpdir(), 'no-such-python') })).rejects.toThrow(/was not found/);
  });

  it('follows the same recipe as the embedded engine: early stop with restore-best, bits schedule with lr per width, plateau', async () => {
    const recipe: TrainConfig = {
      epochs: 8, qatStartEpoch: 4, batchSize: 16, learningRate: 5e-3, seed: 3,
      earlyStopping: { patience: 1, monitor: 'valAccuracy', restoreBest: true },
      qat: { learningRate: 2e-3, lrSchedule: { kind: 'plateau', factor: 0.5, patience: 1 }, earlyStopping: { patience: 2, monitor: 'valAccuracy' } },
    };
    // The bit schedule is the network's (model.json): 8 then 4 bits with its own lr, conv1 held at 8.
    const scheduled = withBitsEdits(model, { bitsSchedule: [{ fromQatEpoch: 0, bits: 8 }, { fromQatEpoch: 2, bits: 4, learningRate: 1e-3 }], layerBits: { conv1: 8 } });
    const [emb, torch] = [await runTrainingInWorker(scheduled, data, recipe), await trainWithPytorch(scheduled, data, recipe, opts)];
    const shape = (r: typeof emb) => ({
      epochs: r.history.map((e) => [e.epoch, e.phase, e.bits, e.lr]),
      qatStart: r.qatStart, stoppedEarly: r.stoppedEarly, bestEpoch: r.bestEpoch, layerBits: r.layerBits,
      segments: r.segments.map(({ params: _p, ...s }) => s),
    });
    expect(shape(torch)).toEqual(shape(emb));
    expect(torch.stoppedEarly.float).toBe(true); // the float phase stopped early and kept its best epoch
    expect(torch.segments.map((s) => s.bits)).toEqual([8, 4]);
    expect(torch.segments[1]!.layerBits).toEqual([8, 4, 4, 4, 4]);
    torch.history.forEach((e, i) => expect(Math.abs(e.valAccuracy - emb.history[i]!.valAccuracy)).toBeLessThanOrEqual(0.02));
  });

  it('trains networks with pooling-only layers (max and avg) like the embedded engine: same layout of results, same trajectory', async () => {
    const conv = (name: string, cin: number, cout: number, activation: 'relu' | 'none'): Model['layers'][number] => ({
      name, op: 'conv1d', inChannels: cin, outChannels: cout, kernel: [3, 1], pad: 1, stride: 1, flatten: false,
      activation, weightBits: 8, outputShift: 0, outputWidth: 8, hasBias: true,
    });
    const poolOnly = (name: string, c: number, kind: 'max' | 'avg', size: number): Model['layers'][number] => ({
      name, op: 'passthrough', inChannels: c, outChannels: c, kernel: [1, 1], pad: 0, stride: 1, flatten: false,
      activation: 'none', weightBits: 8, outputShift: 0, outputWidth: 8, hasBias: false, pool: { kind, size: [size, 1], stride: [size, 1] },
    });
    const pooled: Model = {
      arch: 'pooled1d', dataset: 'bumps', device: 'MAX78002', input: { channels: 1, dims: [64], format: 'HWC' },
      layers: [
        conv('c1', 1, 8, 'none'), poolOnly('p1', 8, 'avg', 2), // signed averages: the truncation matters
        { ...conv('c2', 8, 12, 'relu'), weightBits: 4 }, poolOnly('p2', 12, 'max', 4),
        { name: 'fc', op: 'linear', inChannels: 12, outChannels: 4, kernel: [1, 1], pad: 0, stride: 1, flatten: true, activation: 'none', weightBits: 8, outputShift: 0, outputWidth: 32, hasBias: true },
      ],
    };
    const cfg: TrainConfig = { epochs: 3, qatStartEpoch: 2, batchSize: 16, learningRate: 3e-3, seed: 7 };
    const [emb, torch] = [await runTrainingInWorker(pooled, data, cfg), await trainWithPytorch(pooled, data, cfg, opts)];
    const weighted = ['c1', 'c2', 'fc'];
    expect(torch.floatParams.map((p) => p.name)).toEqual(weighted);
    expect(emb.floatParams.map((p) => p.name)).toEqual(weighted);
    expect(torch.outputShifts.length).toBe(3);
    expect(torch.layerBits).toEqual(emb.layerBits);
    expect(torch.layerBits).toEqual([8, 8, 4, 8, 8]);
    expect(torch.history.map((e) => e.ranges.map((r) => r.layer))).toEqual(emb.history.map((e) => e.ranges.map((r) => r.layer)));
    expect(torch.state.variables.map((v) => `${v.name}:${v.shape.join('x')}`)).toEqual(emb.state.variables.map((v) => `${v.name}:${v.shape.join('x')}`));
    // Same initial weights and batches: float rounding apart, the same run (QAT epoch included).
    torch.history.forEach((e, i) => {
      expect(Math.abs(e.trainLoss - emb.history[i]!.trainLoss)).toBeLessThan(0.02 * emb.history[i]!.trainLoss);
      expect(Math.abs(e.valAccuracy - emb.history[i]!.valAccuracy)).toBeLessThanOrEqual(0.03);
    });
    expect(torch.history[2]!.valAccuracy).toBeGreaterThan(0.5); // it learned through the pooling-only layers (chance 0.25)
  });

  it('takes over a state from the embedded engine (weights, BN statistics, Adam moments in its layouts) and hands it back unchanged', async () => {
    const cfg: TrainConfig = { ...base, epochs: 1 };
    const emb = await runTrainingInWorker(model, data, cfg);
    expect(emb.state.variables.some((v) => v.name === 'conv1.bn.running_mean')).toBe(true);
    // Nothing left to train: the engine loads the state and hands it straight back.
    const back = await trainWithPytorch(model, data, { ...cfg, resumeFrom: emb.state }, opts);
    expect(back.history).toEqual(emb.history);
    expect(back.state.variables.map((v) => `${v.name}:${v.shape.join('x')}`)).toEqual(emb.state.variables.map((v) => `${v.name}:${v.shape.join('x')}`));
    back.state.variables.forEach((v, i) => expect(Array.from(v.data)).toEqual(Array.from(emb.state.variables[i]!.data)));
    expect(Array.from(back.state.optimizer!.m)).toEqual(Array.from(emb.state.optimizer!.m));
    expect(Array.from(back.state.optimizer!.v)).toEqual(Array.from(emb.state.optimizer!.v));
    expect(back.state.optimizer!.step).toBe(emb.state.optimizer!.step);
    // BN folded the same way (PyTorch layout, ai8x /4 rule), up to float rounding of the fold.
    back.floatParams.forEach((p, i) => {
      const want = emb.floatParams[i]!;
      p.weight.forEach((w, k) => expect(Math.abs(w - want.weight[k]!)).toBeLessThan(1e-6 * Math.max(1, Math.abs(want.weight[k]!))));
    });
  });
});
