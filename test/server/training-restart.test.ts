// A training run survives a crash of `qatwb serve`: the run is kept in the project folder as it goes,
// so after kill -9 and a restart the run list, its curves and its status (interrupted) come back,
// and continueRun takes it from the last finished epoch to its planned end.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createRpcClient, type RpcClient } from '../../src-main/rpc/client.ts';
import { socketTransport, type SocketLike } from '../../src-renderer/api/socket-transport.ts';
import { TrainProgressData } from '../../src-main/api/training.api.ts';
import { startServe, type ServeProcess } from './serve-process.ts';
import { writeFallCsv } from '../support/fall-data.ts';

const procs: ServeProcess[] = [];
const clients: RpcClient[] = [];
afterAll(async () => {
  clients.forEach((c) => c.dispose());
  await Promise.all(procs.map((p) => p.stop()));
});

async function connect(): Promise<{ proc: ServeProcess; client: RpcClient }> {
  const proc = await startServe();
  procs.push(proc);
  const url = `ws://127.0.0.1:${proc.port}/rpc?token=${proc.token}`;
  const client = createRpcClient(socketTransport(() => {
    // A reconnect to the killed server fails; that is expected here, not an error of the test.
    const ws = new WebSocket(url, { origin: proc.origin });
    ws.on('error', () => undefined);
    return ws as unknown as SocketLike;
  }));
  clients.push(client);
  return { proc, client };
}

const waitFor = async (what: string, ok: () => boolean, ms = 120_000) => {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe('a run survives a restart of qatwb serve', () => {
  it('kill -9 mid-run, restart: the run is listed as interrupted with its curves, and continues to its end', async () => {
    const projectDir = mkdtempSync(join(tmpdir(), 'qatwb-project-'));
    const csv = writeFallCsv({ count: 240, seed: 3 });
    const request = {
      data: { source: { kind: 'csv' as const, file: csv } }, model: 'ecgnet' as const, epochs: 6, qatStart: 3, batchSize: 16,
      classWeights: true, earlyStopping: { patience: 5 }, projectDir,
    };
    const first = await connect();
    let runId = '';
    let runDir = '';
    const job = first.client.services.training.train(request, {
      onProgress: (p) => {
        const d = TrainProgressData.safeParse(p.data);
        if (d.success && d.data.kind === 'start') ({ runId, dir: runDir = '' } = d.data);
      },
    });
    job.catch(() => undefined); // the server dies under it
    const runFile = () => JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as { status: string; epochsDone: number; history: { loss: number }[] };
    await waitFor('the second epoch on disk', () => !!runDir && existsSync(join(runDir, 'run.json')) && runFile().epochsDone >= 2);
    first.client.dispose();
    await first.proc.kill('SIGKILL');
    const before = runFile();
    expect(before.status).toBe('running');
    expect(before.epochsDone).toBeGreaterThanOrEqual(2);
    expect(before.epochsDone).toBeLessThan(6);
    expect(runDir).toBe(join(projectDir, 'runs', runId));

    const second = await connect();
    const training = second.client.services.training;
    const listed = await training.listRuns({ projectDir });
    expect(listed.runs.map((r) => [r.runId, r.status])).toEqual([[runId, 'interrupted']]);
    const kept = await training.getRun({ runId, projectDir });
    expect(kept.status).toBe('interrupted');
    expect(kept.result).toBeNull();
    expect(kept.history.map((e) => e.epoch)).toEqual(Array.from({ length: before.epochsDone }, (_, i) => i));

    const epochsRun: number[] = [];
    const done = await training.continueRun({ runId, projectDir }, {
      onProgress: (p) => {
        const d = TrainProgressData.safeParse(p.data);
        if (d.success && d.data.kind === 'epoch' && typeof d.data.epochLoss === 'number') epochsRun.push(d.data.epoch);
      },
    });
    // It went on from the first epoch not on disk (not from the start).
    expect(epochsRun[0]).toBe(before.epochsDone);
    expect(done.runId).toBe(runId);
    expect(done.epochsDone).toBe(6);
    expect(done.rows.map((r) => r.name)).toEqual(['float (end of float phase)', 'PTQ 8-bit', 'QAT 8-bit']);
    const after = await training.getRun({ runId, projectDir });
    expect(after.status).toBe('done');
    expect(after.history.map((e) => e.phase)).toEqual(['float', 'float', 'float', 'qat', 'qat', 'qat']);
    // The epochs trained before the crash are kept as they were.
    after.history.slice(0, before.epochsDone).forEach((e, i) => expect(e.loss).toBe(before.history[i]!.loss));
    expect(runFile().status).toBe('done');
    for (const f of ['checkpoint.pth.tar', 'network.yaml', 'state.json', 'comparison.json']) expect(existsSync(join(runDir, f)), f).toBe(true);
    expect((await training.listRuns({ projectDir })).runs[0]).toMatchObject({ runId, status: 'done', epochsDone: 6 });
  }, 400_000);
});
