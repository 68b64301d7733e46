// A PyTorch-engine run survives the death of its Python: the engine hands its whole state over after
// every epoch and the app keeps it in the run folder (state.json, written atomically), so after
// SIGKILL of the python child mid-epoch, `qatwb runs --continue` goes on from the last finished epoch
// and ends where the same run in one go ends — bit for bit (same seed, 1 CPU thread: the state holds
// the exact float32 weights, BN statistics and Adam moments, and the batch order is a function of the
// seed and the epoch, so nothing is re-drawn differently).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PYTHON, missing, need, skipNote } from '../../../test/support/fixtures.ts';

const reqs = [need.python(), need.numpy(), need.torch()];
const EPOCHS = 4;
// Small (the exports evaluate every test sample through the simulator) but tens of batches an epoch:
// time enough to kill the engine inside one.
const RUN = ['train', '--example', 'mnist', '--limit', '1200', '--test', '0.1', '--epochs', String(EPOCHS), '--qat-start', '2', '--batch-size', '32', '--seed', '4',
  '--engine', 'pytorch', '--python', PYTHON, '--threads', '1', '--json'];

interface RunJson { runId: string; status: string; epochsDone: number; history: Record<string, unknown>[] }
const runJson = (project: string): RunJson | undefined => {
  const root = join(project, 'runs');
  const id = existsSync(root) ? readdirSync(root)[0] : undefined;
  const file = id ? join(root, id, 'run.json') : undefined;
  return file && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as RunJson) : undefined;
};
const stateOf = (project: string, runId: string) => JSON.parse(readFileSync(join(project, 'runs', runId, 'state.json'), 'utf8')) as { epoch: number; variables: unknown[] };

/** The python child of the CLI process `parent` (the engine: `python -m qatwb_torch train`). */
function engineChild(parent: number): number | undefined {
  const ps = spawnSync('ps', ['-A', '-o', 'pid=,ppid=,args='], { encoding: 'utf8' }).stdout;
  for (const line of ps.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    if (m && Number(m[2]) === parent && m[3]!.includes('qatwb_torch train')) return Number(m[1]);
  }
  return undefined;
}

describe.skipIf(missing(...reqs))(`PyTorch engine: kill -9 of the engine, continue${skipNote(...reqs)}`, () => {
  it('SIGKILL of the python child mid-epoch, qatwb runs --continue: the right epochs and history, the same result as one go', async () => {
    const killed = mkdtempSync(join(tmpdir(), 'qatwb-torch-kill-'));
    const cli = spawn('node', ['bin/qatwb.mjs', ...RUN, '--project', killed], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    cli.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => cli.on('close', resolve));
    // Kill once an epoch is kept and the engine is a few batches into the next one.
    let done = 0;
    const t0 = Date.now();
    for (;;) {
      if (Date.now() - t0 > 300_000) throw new Error(`no epoch kept in time; stderr: ${stderr.slice(-2000)}`);
      done = runJson(killed)?.epochsDone ?? 0;
      if (done >= 1 && done < EPOCHS && new RegExp(`epoch ${done + 1}/${EPOCHS} \\(\\w+\\) batch ([3-9]|\\d\\d+)/`).test(stderr)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const pid = engineChild(cli.pid!);
    expect(pid, 'the engine process').toBeDefined();
    process.kill(pid!, 'SIGKILL');
    expect(await exited).toBe(1);
    expect(stderr).toMatch(/The PyTorch engine was killed \(SIGKILL, exit 137\).*continue the run/);
    const before = runJson(killed)!;
    expect(before.status).toBe('failed');
    expect(before.epochsDone).toBeGreaterThanOrEqual(done);
    expect(before.epochsDone).toBeLessThan(EPOCHS);
    expect(before.history.map((e) => e['epoch'])).toEqual(Array.from({ length: before.epochsDone }, (_, i) => i));
    expect(stateOf(killed, before.runId).epoch).toBe(before.epochsDone);

    const cont = spawnSync('node', ['bin/qatwb.mjs', 'runs', '--project', killed, '--continue', before.runId, '--json'], { encoding: 'utf8', timeout: 600_000 });
    expect(cont.status, cont.stderr).toBe(0);
    expect(cont.stderr).toMatch(new RegExp(`run ${before.runId} from epoch ${before.epochsDone + 1}`));
    const resumed = JSON.parse(cont.stdout);
    expect(resumed.engine).toBe('pytorch');

    const whole = mkdtempSync(join(tmpdir(), 'qatwb-torch-whole-'));
    const one = spawnSync('node', ['bin/qatwb.mjs', ...RUN, '--project', whole], { encoding: 'utf8', timeout: 600_000 });
    expect(one.status, one.stderr).toBe(0);
    const oneGo = JSON.parse(one.stdout);

    const after = runJson(killed)!;
    const ref = runJson(whole)!;
    expect(after.status).toBe('done');
    expect(after.epochsDone).toBe(EPOCHS);
    expect(after.history.map((e) => [e['epoch'], e['phase']])).toEqual([[0, 'float'], [1, 'float'], [2, 'qat'], [3, 'qat']]);
    // The epochs before the kill are kept as they were, and every epoch equals the run in one go.
    after.history.slice(0, before.epochsDone).forEach((e, i) => expect(e).toEqual(before.history[i]));
    expect(after.history).toEqual(ref.history); // losses, accuracies, learning rates, per-layer ranges
    expect(resumed.rows.map((r: { name: string; accuracy: number; mae: number }) => [r.name, r.accuracy, r.mae]))
      .toEqual(oneGo.rows.map((r: { name: string; accuracy: number; mae: number }) => [r.name, r.accuracy, r.mae]));
    expect(stateOf(killed, before.runId).variables).toEqual(stateOf(whole, ref.runId).variables);
  }, 900_000);
});
