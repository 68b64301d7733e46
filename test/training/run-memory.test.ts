// Runs held in memory are bounded: after 20 training runs (each with its own 600-sample data
// set), the memory held is what the last MAX_LIVE_RUNS keep plus small summaries, not 20 data
// sets. Stated bound: JS heap + array buffers after 20 runs ≤ after the first MAX_LIVE_RUNS + 12 MB
// (without the bound, 14 more data sets and engine states cost over 30 MB).
import { describe, expect, it } from 'vitest';
import { tmpdir } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createTrainingService, MAX_LIVE_RUNS } from '../../src-main/training/training.service.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const held = () => {
  for (let i = 0; i < 3; i++) gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};
const ctx = () => ({ signal: new AbortController().signal, progress() {} });

describe('training runs in memory', () => {
  it(`20 runs hold no more than the last ${MAX_LIVE_RUNS} plus summaries`, async () => {
    const svc = createTrainingService({ stateDir: tmpdir(), emit() {} });
    const req = {
      data: { source: { kind: 'example' as const, name: 'mnist' as const }, limit: 600, split: { test: 50, validation: 0 } },
      model: 'ai85netextrasmall' as const, epochs: 1, qatStart: 1, batchSize: 256,
    };
    const ids: string[] = [];
    let afterLive = 0;
    for (let k = 0; k < 20; k++) {
      ids.push((await svc.train({ ...req, data: { ...req.data, split: { ...req.data.split, seed: k + 1 } } }, ctx())).runId);
      if (k === MAX_LIVE_RUNS - 1) afterLive = held();
    }
    const after = held();
    console.log(`held after ${MAX_LIVE_RUNS} runs ${(afterLive / 2 ** 20).toFixed(0)} MB, after 20 runs ${(after / 2 ** 20).toFixed(0)} MB`);
    expect(after - afterLive).toBeLessThan(12 * 2 ** 20);
    // Every run is still listed and shown; only the newest can be resumed.
    expect((await svc.listRuns({}, ctx())).runs.length).toBeGreaterThanOrEqual(20);
    expect((await svc.getRun({ runId: ids[0]! }, ctx())).history.length).toBeGreaterThan(0);
    await expect(svc.resume({ runId: ids[0]!, epochs: 1 }, ctx())).rejects.toMatchObject({ code: 'not-found', message: expect.stringMatching(/released from memory/) });
  }, 600_000);
});
