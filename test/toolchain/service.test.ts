// The toolchain service over the in-memory RPC transport (the same contract the app and web mode
// use): settings round trip, doctor, a synthesize job with progress and log events (STAND-IN
// izer), an error carrying its fix, and cancel ending the izer's whole process tree.
import { ToolchainProgressData } from '../../src-main/api/toolchain.api.ts';
import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRpcServer } from '../../src-main/rpc/serve.ts';
import { createRpcClient } from '../../src-main/rpc/client.ts';
import { memoryTransport } from '../../src-main/rpc/memory-transport.ts';
import { createToolchainService } from '../../src-main/toolchain/toolchain.service.ts';
import type { Progress } from '../../src-main/api/contract.ts';
import type { ToolPathChange } from '../../src-main/services.ts';
import { writeFileSync } from 'node:fs';
import { CONFORMANCE } from '../support/fixtures.ts';

type LogEvent = { tool: string; stream: string; line: string };

const FIX = resolve(import.meta.dirname, '../fixtures/toolchain');
const CONF = CONFORMANCE;

/** `approve`: the desktop's confirmation of new program paths (absent = web mode, which refuses). */
function connect(approve: ((changes: ToolPathChange[]) => Promise<boolean>) | null = async () => true, stateDir = mkdtempSync(join(tmpdir(), 'qatwb-svc-'))) {
  let server: ReturnType<typeof createRpcServer>;
  // Only this service: the others are built by their owners and need not load here.
  server = createRpcServer({ toolchain: createToolchainService({ stateDir, emit: (s, e, p) => server.emit(s, e, p), ...(approve ? { approveToolPaths: approve } : {}) }) });
  return createRpcClient(memoryTransport(server));
}

function artifacts(): string {
  const dir = mkdtempSync(join(tmpdir(), 'qatwb-svc-art-'));
  for (const f of ['checkpoint.pth.tar', 'network.yaml', 'sample.input.npy']) copyFileSync(join(CONF, 'ecg1d-mixed', f), join(dir, f));
  return dir;
}

const izerSettings = (env: Record<string, string>) => ({ izerDir: join(FIX, 'fake-izer'), python: '/usr/bin/python3', izerEnv: env });

describe('toolchain service over RPC', () => {
  it('saves and returns settings; rejects an unknown field', async () => {
    const { services } = connect();
    expect(await services.toolchain.getSettings({})).toEqual({});
    await services.toolchain.setSettings({ maximPath: '/opt/MaximSDK', buildJobs: 2 });
    expect(await services.toolchain.getSettings({})).toEqual({ maximPath: '/opt/MaximSDK', buildJobs: 2 });
    await expect(services.toolchain.setSettings({ bogus: 1 } as never)).rejects.toMatchObject({ code: 'bad-request', field: 'bogus' });
  });

  it('izerEnv accepts only the allow-listed names: PYTHON*, LD_*, BROWSER, BASH_ENV, NODE_OPTIONS are refused', async () => {
    const { services } = connect();
    for (const name of ['PYTHONWARNINGS', 'PYTHONSTARTUP', 'PYTHONPATH', 'LD_PRELOAD', 'BROWSER', 'BASH_ENV', 'NODE_OPTIONS', 'PATH', 'ENV']) {
      await expect(services.toolchain.setSettings({ izerEnv: { [name]: 'x' } }), name).rejects.toMatchObject({ code: 'bad-request', field: `izerEnv.${name}` });
    }
    await services.toolchain.setSettings({ izerEnv: { CUDA_VISIBLE_DEVICES: '0', OMP_NUM_THREADS: '2' } });
    expect(await services.toolchain.getSettings({})).toEqual({ izerEnv: { CUDA_VISIBLE_DEVICES: '0', OMP_NUM_THREADS: '2' } });
  });

  it('a saved settings file with refused names loses them on load, with a warning, and the file is rewritten', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'qatwb-svc-'));
    const file = join(stateDir, 'toolchain-settings.json');
    writeFileSync(file, JSON.stringify({ buildJobs: 3, izerEnv: { PYTHONWARNINGS: 'ignore::x.y', BROWSER: 'id', OMP_NUM_THREADS: '1' } }));
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const { services } = connect(null, stateDir);
      expect(await services.toolchain.getSettings({})).toEqual({ buildJobs: 3, izerEnv: { OMP_NUM_THREADS: '1' } });
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.join('\n')).toMatch(/toolchain-settings\.json: izerEnv PYTHONWARNINGS, BROWSER dropped/);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ buildJobs: 3, izerEnv: { OMP_NUM_THREADS: '1' } });
  });

  it('program paths: refused without a confirmer (web mode), asked for and honoured with one (desktop)', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'qatwb-svc-'));
    const web = connect(null, stateDir).services;
    // The page greys out the fields the policy names, with its reason beside them.
    const policy = await web.toolchain.pathPolicy({});
    expect(policy.locked).toEqual(['izerDir', 'python', 'maximPath', 'armGcc', 'make', 'openocd', 'openocdScripts', 'torchPython', 'trainRemotePrefix']);
    expect(policy.reason).toMatch(/^Program paths cannot be changed from here: set them in the desktop app, or edit .*toolchain-settings\.json\.$/);
    await expect(web.toolchain.setSettings({ python: '/tmp/evil' })).rejects.toMatchObject({ code: 'forbidden', field: 'python', message: policy.reason!.replace('Program paths', 'Program paths (python)') });
    // The training engine's Python and remote prefix are programs the app runs, too.
    await expect(web.toolchain.setSettings({ torchPython: '/tmp/evil' })).rejects.toMatchObject({ code: 'forbidden', field: 'torchPython' });
    await expect(web.toolchain.setSettings({ trainRemotePrefix: ['sh', '-c', 'touch /tmp/x'] })).rejects.toMatchObject({ code: 'forbidden', field: 'trainRemotePrefix' });
    await web.toolchain.setSettings({ buildJobs: 4 }); // other settings still change
    const asked: ToolPathChange[][] = [];
    let answer = false;
    const desk = connect(async (c) => { asked.push(c); return answer; }, stateDir).services;
    expect(await desk.toolchain.pathPolicy({})).toEqual({ locked: [], reason: null });
    await expect(desk.toolchain.setSettings({ buildJobs: 4, python: '/usr/bin/python3' })).rejects.toMatchObject({ code: 'cancelled' });
    expect(await desk.toolchain.getSettings({})).toEqual({ buildJobs: 4 });
    answer = true;
    await desk.toolchain.setSettings({ buildJobs: 4, python: '/usr/bin/python3', make: '/usr/bin/make' });
    expect(asked.at(-1)).toEqual([{ field: 'python', to: '/usr/bin/python3' }, { field: 'make', to: '/usr/bin/make' }]);
    // Unchanged paths need no confirmation, and web mode may save the rest around them.
    await web.toolchain.setSettings({ buildJobs: 2, python: '/usr/bin/python3', make: '/usr/bin/make' });
    expect(asked).toHaveLength(2);
    await expect(web.toolchain.setSettings({ buildJobs: 2 })).rejects.toMatchObject({ code: 'forbidden', field: 'python' });
    // A remote prefix is compared word by word: the same command needs no confirmation, another one does.
    await desk.toolchain.setSettings({ buildJobs: 2, python: '/usr/bin/python3', make: '/usr/bin/make', trainRemotePrefix: ['ssh', 'gpu-box'] });
    expect(asked.at(-1)).toEqual([{ field: 'trainRemotePrefix', to: 'ssh gpu-box' }]);
    await web.toolchain.setSettings({ buildJobs: 3, python: '/usr/bin/python3', make: '/usr/bin/make', trainRemotePrefix: ['ssh', 'gpu-box'] });
    await expect(web.toolchain.setSettings({ buildJobs: 3, python: '/usr/bin/python3', make: '/usr/bin/make', trainRemotePrefix: ['ssh', 'other'] }))
      .rejects.toMatchObject({ code: 'forbidden', field: 'trainRemotePrefix' });
  });

  it('doctor answers with every item', async () => {
    const { services } = connect();
    const r = await services.toolchain.doctor({});
    expect(r.items.map((i) => i.id)).toEqual(['izer', 'python', 'python-modules', 'msdk', 'arm-gcc', 'make', 'openocd', 'openocd-scripts', 'pytorch']);
    expect(r.items.find((i) => i.id === 'make')!.status).toBe('ok');
  });

  it('runs a synthesize job with progress and log events, and the cross-check', async () => {
    const client = connect();
    await client.services.toolchain.setSettings(izerSettings({ FAKE_IZER_EXPECTED: join(CONF, 'ecg1d-mixed/sample.expected.npy') }));
    const logs: string[] = [];
    client.on('toolchain', 'log', (payload) => {
      const e = payload as LogEvent;
      logs.push(`${e.tool}: ${e.line}`);
    });
    const progress: Progress[] = [];
    const out = mkdtempSync(join(tmpdir(), 'qatwb-svc-out-'));
    const r = await client.services.toolchain.synthesize({ artifactsDir: artifacts(), outDir: out, addHarness: false }, { onProgress: (p) => progress.push(p) });
    expect(r.projectDir).toBe(join(out, 'ai87ecgnet'));
    expect(r.crossCheck.status).toBe('ok');
    expect(logs).toContain('ai8xize: Configuring device: MAX78002');
    expect(progress.some((p) => p.phase === 'synthesize')).toBe(true);
    // Every figure the job sent is what its contract declares (ToolchainProgressData).
    const data = progress.filter((p) => p.data !== undefined).map((p) => ToolchainProgressData.parse(p.data));
    expect(data.some((d) => d.kind === 'ai8xize' && d.step === 'configure')).toBe(true);
  });

  it('an izer failure arrives as a toolchain error with its fix', async () => {
    const client = connect();
    await client.services.toolchain.setSettings(izerSettings({ FAKE_IZER_FAIL: 'bn' }));
    await expect(client.services.toolchain.synthesize({ artifactsDir: artifacts(), outDir: mkdtempSync(join(tmpdir(), 'qatwb-svc-out-')) })).rejects.toMatchObject({
      code: 'toolchain',
      message: expect.stringMatching(/unfolded BatchNorm.*Fix: Export the QAT checkpoint/),
      // The structured facts cross the wire too (the CLI prints them with --json).
      details: { tool: 'ai8xize', reason: 'bn-not-folded', fix: expect.stringMatching(/Export the QAT checkpoint/) },
    });
  });

  it('cancelling the job ends the izer and its child', async () => {
    const client = connect();
    await client.services.toolchain.setSettings(izerSettings({ FAKE_IZER_SLEEP: '29.731' }));
    const ac = new AbortController();
    const t0 = Date.now();
    let sleepersBeforeCancel: string[] = [];
    client.on('toolchain', 'log', (payload) => {
      if (!(payload as LogEvent).line.startsWith('Configuring device')) return;
      setTimeout(() => {
        sleepersBeforeCancel = sleepers();
        ac.abort();
      }, 300);
    });
    const job = client.services.toolchain.synthesize({ artifactsDir: artifacts(), outDir: mkdtempSync(join(tmpdir(), 'qatwb-svc-out-')) }, { signal: ac.signal });
    await expect(job).rejects.toMatchObject({ code: 'cancelled' });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(sleepersBeforeCancel).toHaveLength(1); // the stand-in's child was running
    expect(sleepers()).toEqual([]); // and is gone
  });
});

/** PIDs of live `sleep 29.731` processes (a duration no other test uses) (the stand-in izer's child). */
function sleepers(): string[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8') === 'sleep\u000029.731\u0000' && !/\) Z /.test(readFileSync(`/proc/${p}/stat`, 'utf8'));
    } catch {
      return false;
    }
  });
}
