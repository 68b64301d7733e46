// The device service through the typed RPC (memory transport): virtual MAX78002 in the port list,
// connect, a check job with window events and progress, reports, clear errors. Runs the real
// workers, ptys and simulator.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRpcClient } from '../../src-main/rpc/client.ts';
import { memoryTransport } from '../../src-main/rpc/memory-transport.ts';
import { createRpcServer } from '../../src-main/rpc/serve.ts';
import { createDeviceService } from '../../src-main/device/device.service.ts';
import { CONFORMANCE } from '../support/fixtures.ts';
import { RollingFigures } from '../../src-main/api/device.api.ts';

function connect() {
  const stateDir = mkdtempSync(join(tmpdir(), 'qatwb-dev-'));
  let server: ReturnType<typeof createRpcServer>;
  // Only the device service: the test does not depend on the other capabilities' state.
  server = createRpcServer({ device: createDeviceService({ stateDir, emit: (s, e, p) => server.emit(s, e, p) }) });
  return createRpcClient(memoryTransport(server));
}

const ARTIFACTS = join(CONFORMANCE, 'mnist-extrasmall');

describe('device service', () => {
  it('runs a check on a virtual MAX78002 picked from the port list', async () => {
    const client = connect();
    const dev = client.services.device;
    const listed0 = await dev.listPorts({});
    // No udevadm here: the list still answers, with advice to type the path.
    if (listed0.warning) expect(listed0.warning).toMatch(/Type the port path by hand/);
    const vd = await dev.startVirtualDevice({ artifacts: ARTIFACTS, sensor: 'mnist', rateHz: 100 });
    try {
      const listed = await dev.listPorts({});
      expect(listed.ports[0]).toMatchObject({ kind: 'virtual', path: vd.path });
      const statuses: string[] = [];
      client.on('device', 'status', (p) => statuses.push((p as { status: string }).status));
      const { hello } = await dev.connect({ path: vd.path });
      expect(hello).toMatchObject({ inputShape: [1, 28, 28], outputCount: 10, outputBits: 32, layerCount: 4 });
      const windows: number[] = [];
      client.on('device', 'window', (p) => windows.push((p as { rolling: { windows: number } }).rolling.windows));
      const progress: number[] = [];
      const report = await dev.startCheck({ artifacts: ARTIFACTS, source: 'mnist', windows: 60 }, { onProgress: (p) => progress.push(p.fraction ?? 0) });
      expect(report.windows).toBe(60);
      expect(report.bitExactRate).toBe(1);
      expect(report.device.modelHashMatches).toBe(true);
      expect(report.rows?.[0]?.name).toBe('device vs labels');
      expect(windows.length).toBeGreaterThan(0);
      expect(progress.length).toBeGreaterThan(0);
      const csv = await dev.getReport({ format: 'csv' });
      expect(csv.text.trim().split('\n').length).toBe(61);
      // Live mode: windows from the virtual device's own "sensor".
      const live = await dev.startCheck({ artifacts: ARTIFACTS, windows: 20 });
      expect(live.source).toBe('device sensor');
      expect(live.windows).toBe(20);
      await dev.unplugVirtualDevice({ ms: 300 });
      const after = await dev.startCheck({ artifacts: ARTIFACTS, source: 'mnist', windows: 10 });
      expect(after.windows).toBe(10);
      expect(statuses).toContain('unplugged');
      await dev.disconnect({});
      await expect(dev.startCheck({ artifacts: ARTIFACTS })).rejects.toMatchObject({ code: 'not-connected' });
    } finally {
      await dev.disconnect({});
      await dev.stopVirtualDevice({});
    }
  }, 90_000);

  it('a device with a deployment bug: the first divergent layer, and a failed layer search, reach the client whole', async () => {
    const dev = connect().services.device;
    try {
      const vd = await dev.startVirtualDevice({ artifacts: ARTIFACTS, bugLayer: 1 });
      await dev.connect({ path: vd.path });
      const found = await dev.startCheck({ artifacts: ARTIFACTS, source: 'mnist', windows: 6 });
      expect(found.windows).toBe(6);
      expect(found.divergences.length).toBe(3);
      expect(found.divergences[0]).toMatchObject({ status: 'found', layer: 1, name: 'conv2', mismatches: 2048, firstIndex: 0, search: { method: 'layer-crcs', requests: 2, bytesDumped: 2048 } });
      await dev.disconnect({});
      // Another option set restarts the device: this one never answers layer requests.
      const silent = await dev.startVirtualDevice({ artifacts: ARTIFACTS, bugLayer: 1, ignoreLayerRequests: true });
      await dev.connect({ path: silent.path });
      const failed = await dev.startCheck({ artifacts: ARTIFACTS, source: 'mnist', windows: 6 });
      expect(failed.windows).toBe(6);
      expect(failed.bitExactRate).toBe(0);
      expect(failed.divergences.map((d) => d.status)).toEqual(['failed', 'failed', 'failed']);
      expect(failed.divergences[0]!.note).toMatch(/failed after 1 layer request\(s\): the device stopped answering layer requests \(No LAYER_CRCS for LAYER_CRC_REQ #\d+ after 6 attempt\(s\)\)\. The windows already compared are kept/);
      const csv = await dev.getReport({ format: 'csv' });
      expect(csv.text.trim().split('\n').length).toBe(7);
      await expect(dev.startVirtualDevice({ artifacts: ARTIFACTS, bugLayer: 9 })).rejects.toMatchObject({ message: expect.stringMatching(/bugLayer is 9; .* has layers 0\.\.3/) });
    } finally {
      await dev.disconnect({});
      await dev.stopVirtualDevice({});
    }
  }, 90_000);

  it('restarts a running virtual device that holds another model, and reuses one that holds this one', async () => {
    const dev = connect().services.device;
    const ecg = join(CONFORMANCE, 'ecg1d-mixed');
    try {
      const first = await dev.startVirtualDevice({ artifacts: ARTIFACTS, sensor: 'mnist' });
      const mnistHello = (await dev.connect({ path: first.path })).hello;
      expect(mnistHello.inputShape).toEqual([1, 28, 28]);
      // The same model again: the running device and the link to it stay.
      await dev.startVirtualDevice({ artifacts: ARTIFACTS, sensor: 'mnist' });
      expect((await dev.startCheck({ artifacts: ARTIFACTS, source: 'mnist', windows: 3 })).windows).toBe(3);
      // Another export: the old device and the link to it go; the new one answers with its model.
      const other = await dev.startVirtualDevice({ artifacts: ecg });
      await expect(dev.startCheck({ artifacts: ARTIFACTS, source: 'mnist', windows: 3 })).rejects.toMatchObject({ code: 'not-connected' });
      const { hello } = await dev.connect({ path: other.path });
      expect(hello.modelHash).not.toBe(mnistHello.modelHash);
      expect(hello.inputShape).not.toEqual([1, 28, 28]);
    } finally {
      await dev.disconnect({});
      await dev.stopVirtualDevice({});
    }
  }, 60_000);

  it('a link lost for good mid-check: the job returns the partial report (status, reason, windows kept) and getReport has it', async () => {
    const dev = connect().services.device;
    try {
      const vd = await dev.startVirtualDevice({ artifacts: join(CONFORMANCE, 'mnist-qat8') });
      await dev.connect({ path: vd.path });
      let killed = false;
      const report = await dev.startCheck({ artifacts: join(CONFORMANCE, 'mnist-qat8'), source: 'mnist' }, {
        onProgress: (p) => {
          if (killed || (RollingFigures.safeParse(p.data).data?.windows ?? 0) < 20) return;
          killed = true;
          // The virtual device's socat, found by its pty folder: the cable is gone and stays gone.
          const pid = execFileSync('pgrep', ['-f', `^socat .*${dirname(vd.path)}/`], { encoding: 'utf8' }).trim();
          process.kill(Number(pid), 'SIGKILL');
        },
      });
      expect(killed).toBe(true);
      expect(report.status).toBe('link-lost');
      expect(report.windows).toBeGreaterThanOrEqual(20);
      expect(report.windows).toBeLessThan(report.windowsPlanned);
      expect(report.reason).toMatch(new RegExp(`has been gone for \\d+ s.*ended after ${report.windows} of ${report.windowsPlanned} windows`));
      const saved = JSON.parse((await dev.getReport({ format: 'json' })).text) as { status: string; perWindow: unknown[] };
      expect(saved.status).toBe('link-lost');
      expect(saved.perWindow.length).toBe(report.windows);
    } finally {
      await dev.disconnect({});
      await dev.stopVirtualDevice({});
    }
  }, 90_000);

  it('states the input scaling an export expects (model.json input.scaling)', async () => {
    const dev = connect().services.device;
    // The conformance exports come from ai8x-synthesis: no model.json, so no scaling to state.
    expect(await dev.inputScaling({ artifacts: ARTIFACTS })).toEqual({ scaling: null, file: null });
    const dir = mkdtempSync(join(tmpdir(), 'qatwb-scaling-'));
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ schema: 'qatwb.model', version: 1, input: { channels: 1, dims: [8], format: 'CHW', scaling: { kind: 'minmax', min: -2, max: 6.5 } }, layers: [] }));
    expect(await dev.inputScaling({ artifacts: dir })).toEqual({ scaling: { kind: 'minmax', min: -2, max: 6.5 }, file: join(dir, 'model.json') });
  });

  it('explains a missing port', async () => {
    const dev = connect().services.device;
    await expect(dev.connect({ path: '/dev/ttyQATWB-missing' })).rejects.toMatchObject({ code: 'port-not-found' });
  });
});
