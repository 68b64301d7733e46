// The training service over the in-memory RPC: a small real training run (MNIST subset), progress,
// cancel, getRun/listRuns, resume, and request validation.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRpcServer } from '../rpc/serve.ts';
import { createRpcClient } from '../rpc/client.ts';
import { memoryTransport } from '../rpc/memory-transport.ts';
import { createTrainingService } from './training.service.ts';
import type { Progress } from '../api/contract.ts';
import { TrainProgressData } from '../api/training.api.ts';
import { serializeModel } from '../ir/schema.ts';
import { zooForData } from '../ir/zoo.ts';
import { withBitsEdits } from '../ir/bits-policy.ts';

function client() {
  const server = createRpcServer({ training: createTrainingService({ stateDir: tmpdir(), emit() {} }) });
  return createRpcClient(memoryTransport(server)).services.training;
}

const small = { data: { source: { kind: 'example' as const, name: 'mnist' as const }, limit: 400, split: { test: 60, validation: 0 } }, model: 'ai85netextrasmall' as const };

describe('training service', () => {
  it('trains the widths the network itself carries (its IR: final bits and schedule), with no bits in the request', async () => {
    const training = client();
    const net = serializeModel(withBitsEdits(zooForData('ai85netextrasmall', 'MAX78002', { channels: 1, dims: [28, 28], classes: 10 })!, {
      bitsSchedule: [{ fromQatEpoch: 0, bits: 8 }, { fromQatEpoch: 1, bits: 2, learningRate: 2e-4 }], layerBits: { conv1: 8 },
    }));
    const r = await training.train({ ...small, model: net, epochs: 3, qatStart: 1, batchSize: 32 });
    expect(r.rows.map((x) => [x.name, x.layerBits])).toEqual([
      ['float (end of float phase)', [32, 32, 32, 32]], ['PTQ 8-bit', [8, 8, 8, 8]], ['QAT 8-bit', [8, 8, 8, 8]], ['QAT 2-bit mixed', [8, 2, 2, 2]],
    ]);
    expect(r.layers.map((l) => l.bits)).toEqual([8, 2, 2, 2]);
    const run = await training.getRun({ runId: r.runId });
    expect(run.history.map((h) => [h.phase, h.bits, h.lr])).toEqual([['float', 2, 1e-3], ['qat', 8, 3e-4], ['qat', 2, 2e-4]].map(([p, b, lr]) => [p, b, expect.closeTo(lr as number, 12)]));
  });


  it('trains float then QAT, reports float / PTQ / QAT on the same test set, streams progress, resumes', async () => {
    const training = client();
    const seen: Progress[] = [];
    const r = await training.train({ ...small, epochs: 3, qatStart: 2, bits: 8, batchSize: 8 }, { onProgress: (p) => seen.push(p) });
    expect(r.table.map((row) => row.name)).toEqual(['float', 'ptq', 'qat']);
    expect(r.table.every((row) => row.total === r.table[0]!.total)).toBe(true);
    expect(r.table[0]!.total).toBeGreaterThan(50);
    for (const a of [r.floatAccuracy, r.ptqAccuracy!, r.qatAccuracy!]) expect(a).toBeGreaterThan(0.2); // chance is 0.1
    expect(r.samplesPerSecond).toBeGreaterThan(0);
    expect(r.backend).toMatch(/wasm|tensorflow/);
    expect(r.layers.map((l) => l.bits)).toEqual([8, 8, 8, 8]);
    expect(new Set(seen.map((p) => p.phase))).toContain('evaluate');
    // Every progress with data is one of the contract's TrainProgressData kinds, as the store parses it.
    const data = seen.filter((p) => p.data !== undefined).map((p) => TrainProgressData.parse(p.data));
    expect(data[0]).toEqual({ kind: 'start', runId: r.runId });
    expect(data.some((d) => d.kind === 'batch' && d.phase === 'float' && typeof d.loss === 'number')).toBe(true);
    // Every epoch's record arrives, whatever the progress rate limit dropped around it.
    const epochEnds = data.filter((d) => d.kind === 'epoch');
    expect(epochEnds.map((d) => d.epoch)).toEqual([0, 1, 2]);
    expect(epochEnds.every((d) => typeof d.epochLoss === 'number')).toBe(true);

    const got = await training.getRun({ runId: r.runId });
    expect(got.result?.qatAccuracy).toBe(r.qatAccuracy);
    expect(got.history.length).toBe(3);
    expect(got.history.map((e) => e.phase)).toEqual(['float', 'float', 'qat']);
    expect((await training.listRuns({})).runs[0]!.runId).toBe(r.runId);

    const more = await training.resume({ runId: r.runId, epochs: 1 });
    expect(more.epochsDone).toBe(4);
    expect(more.runId).not.toBe(r.runId);
    expect((await training.getRun({ runId: more.runId })).history.length).toBe(4);
    expect((await training.getRun({ runId: r.runId })).history.length).toBe(3); // the source run stays

    // A float-only run, then QAT at 4 bits branched from its state (what the benchmark does per bit width).
    const f = await training.train({ ...small, epochs: 1, qatStart: 1, batchSize: 8 });
    expect(f.qatAccuracy).toBeNull();
    expect(f.ptqAccuracy).not.toBeNull();
    const q4 = await training.resume({ runId: f.runId, epochs: 1, bits: 4 });
    expect(q4.layers.every((l) => l.bits === 4)).toBe(true);
    expect(q4.floatAccuracy).toBe(f.floatAccuracy); // same float-phase model
    expect(q4.qatAccuracy).not.toBeNull();
    expect((await training.getRun({ runId: q4.runId })).history.map((e) => e.phase)).toEqual(['float', 'qat']);
  });

  it('cancels a running job through the RPC signal, and rejects bad requests by field', async () => {
    const training = client();
    const controller = new AbortController();
    let runId = '';
    const job = training.train({ ...small, epochs: 20, qatStart: 10, batchSize: 16 }, {
      signal: controller.signal,
      onProgress: (p) => {
        const d = TrainProgressData.safeParse(p.data);
        if (d.success && d.data.kind === 'start') runId = d.data.runId;
        if (p.phase === 'float') controller.abort();
      },
    });
    const t0 = Date.now();
    await expect(job).rejects.toMatchObject({ code: 'cancelled' });
    expect(Date.now() - t0).toBeLessThan(20_000); // stopped within a batch, not after 20 epochs
    expect(runId).not.toBe('');
    // The cancelled run keeps its state: resume continues it (here: 1 epoch, all QAT from epoch 0).
    const resumed = await training.resume({ runId, epochs: 1, qatStart: 0 });
    expect(resumed.epochsDone).toBe(1);
    await expect(training.train({ ...small, epochs: 2, qatStart: 1, bits: 3 as never })).rejects.toMatchObject({ code: 'bad-request', field: 'bits' });
    await expect(training.train({ ...small, epochs: 2, qatStart: 5 })).rejects.toMatchObject({ code: 'bad-request', field: 'qatStart' });
    // The engine's Python is a program the app runs: only Settings or the CLI's --python choose it, never a request.
    await expect(training.train({ ...small, epochs: 2, qatStart: 1, engine: 'pytorch', python: '/tmp/evil' } as never)).rejects.toMatchObject({ code: 'bad-request', field: 'python' });
    await expect(training.train({ ...small, epochs: 2, qatStart: 1, layerBits: { nope: 4 } })).rejects.toMatchObject({ code: 'bad-request', field: 'layerBits.nope' });
    await expect(training.train({ ...small, epochs: 4, qatStart: 2, bitsSchedule: [{ fromQatEpoch: 0, bits: 8 }, { fromQatEpoch: 2, bits: 4 }] }))
      .rejects.toMatchObject({ code: 'bad-request', field: 'bitsSchedule.1.fromQatEpoch', message: expect.stringMatching(/QAT phase has 2 epochs/) });
    await expect(training.train({ ...small, epochs: 4, qatStart: 2, bits: 2, bitsSchedule: [{ fromQatEpoch: 0, bits: 8 }, { fromQatEpoch: 1, bits: 4 }] }))
      .rejects.toMatchObject({ code: 'bad-request', field: 'bits' });
    await expect(training.train({ ...small, model: 'ecgnet', epochs: 2, qatStart: 1 })).rejects.toMatchObject({ code: 'invalid-data' });
    await expect(training.getRun({ runId: 'nope' })).rejects.toMatchObject({ code: 'not-found' });
  });

  it('lists a session run (no project) by its real start time, newest first among the kept runs', async () => {
    const training = client();
    const projectDir = mkdtempSync(join(tmpdir(), 'qatwb-runs-'));
    const t0 = Date.now();
    const kept = await training.train({ ...small, epochs: 1, qatStart: 1, batchSize: 16, projectDir });
    const inMemory = await training.train({ ...small, epochs: 1, qatStart: 1, batchSize: 16 });
    const { runs } = await training.listRuns({ projectDir });
    expect(runs.slice(0, 2).map((r) => [r.runId, r.dir === null])).toEqual([[inMemory.runId, true], [kept.runId, false]]);
    const [newest, older] = runs.map((r) => Date.parse(r.createdAt));
    expect(newest).toBeGreaterThan(older!);
    expect(older).toBeGreaterThanOrEqual(t0);
    expect(newest).toBeLessThanOrEqual(Date.now());
  });
});
