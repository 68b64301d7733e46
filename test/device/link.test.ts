// The link on real ptys (socat) against `qatwb virtual-device` running the bit-exact simulator on
// the mnist-extrasmall conformance model: 10,000 windows with 1 % injected faults, unplug/replug,
// and the clear errors for a busy port, a missing port and a silent device.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../src-main/api/contract.ts';
import { loadRuntime, type ModelRuntime } from '../../src-main/device/model-runtime.ts';
import { createPtyPair } from '../../src-main/device/pty-pair.ts';
import { mnistWindows } from '../../src-main/device/sensor-source.ts';
import { DeviceSession, type LinkStatus } from '../../src-main/device/session.ts';
import { VirtualDevice } from '../../src-main/device/virtual-device.ts';
import { startVirtualDevice } from './virtual-device-process.ts';
import { CONFORMANCE } from '../support/fixtures.ts';

const ARTIFACTS = join(CONFORMANCE, 'mnist-extrasmall');
// This file's ptys (and its child processes') live under a temp folder of its own, so the orphan
// check below sees only socats this file started, not those of suites running beside it.
const OWN_TMP = mkdtempSync(join(tmpdir(), 'qatwb-link-test-'));
process.env.TMPDIR = OWN_TMP;
let rt: ModelRuntime;
let windows: Int8Array[];

beforeAll(async () => {
  rt = await loadRuntime(ARTIFACTS);
  windows = (await mnistWindows()).windows;
});

const same = (a: Int32Array, b: Int32Array) => a.length === b.length && a.every((v, i) => v === b[i]);

describe('link over a real pty', () => {
  it('10,000 windows with 1 % injected faults: every result belongs to its window, none lost', async () => {
    // 4 Mbaud keeps the test short; the pacing and the protocol are the same as at 921,600.
    const vd = await startVirtualDevice(['--artifacts', ARTIFACTS, '--fault-rate', '0.01', '--baud', '4000000']);
    const s = await DeviceSession.open({ path: vd.path, baud: 4000000 });
    expect(s.hello.modelHash).toBe(rt.modelHash);
    const N = 10000;
    let wrong = 0;
    let next = 0;
    let hostMs = 0;
    const t0 = performance.now();
    const worker = async () => {
      while (next < N) {
        const i = next++;
        const w = windows[i % windows.length]!;
        const r = await s.infer(w);
        const h0 = performance.now();
        if (!same(r.outputs, rt.run(w))) wrong++;
        hostMs += performance.now() - h0;
      }
    };
    await Promise.all([worker(), worker()]);
    const wallMs = performance.now() - t0;
    await s.close();
    const dev = (await vd.stop()) as { injectedOut: Record<string, number>; injectedIn: number; corruptIn: number; inferences: number };
    console.log(`10k windows: ${(wallMs / N).toFixed(3)} ms/window wall, host check ${(hostMs / N).toFixed(3)} ms/window`, s.stats, dev);
    expect(wrong).toBe(0);
    expect(s.stats.windowsLost).toBe(0);
    expect(s.stats.misattributed).toBe(0);
    const out = dev.injectedOut;
    // Some faults really happened in both directions (1 % of ~10,000 frames each way).
    expect((out.corrupt ?? 0) + (out.drop ?? 0)).toBeGreaterThan(30);
    expect(dev.injectedIn).toBeGreaterThan(30);
    // Every damaged device→host frame was caught (none slipped through: `wrong` is 0): by the
    // header check or CRC, or, when the damage hit the sync bytes, as skipped garbage (a resync).
    // No damaged host→device frame got past the device either: a RESULT echoes the CRC of the
    // window it was computed on, so a corrupted INPUT taken as good would show as misattributed.
    expect(s.stats.framesCorrupted + s.stats.resyncs).toBeGreaterThanOrEqual((out.corrupt ?? 0) + (out.drop ?? 0) + (out.garbage ?? 0));
    expect(s.stats.framesCorrupted).toBeGreaterThan(0);
    // Bit flips can share a frame or hit a sync byte (then it is skipped as garbage), so the
    // device counts at most one corrupt frame per flip.
    expect(dev.corruptIn).toBeGreaterThan(0);
    expect(dev.corruptIn).toBeLessThanOrEqual(dev.injectedIn);
    expect(s.stats.framesRecovered).toBeGreaterThan(0);
  }, 120_000);

  it('survives an unplug and replug of the device mid-run', async () => {
    const vd = await startVirtualDevice(['--artifacts', ARTIFACTS]);
    const s = await DeviceSession.open({ path: vd.path });
    const statuses: LinkStatus[] = [];
    s.onStatus((st) => statuses.push(st));
    const results: boolean[] = [];
    const run = (async () => {
      for (let i = 0; i < 150; i++) {
        const w = windows[i]!;
        const r = await s.infer(w);
        results.push(same(r.outputs, rt.run(w)));
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    const before = vd.pts;
    vd.child.kill('SIGUSR1');
    await run;
    await s.close();
    await vd.stop();
    expect(results.length).toBe(150);
    expect(results.every(Boolean)).toBe(true);
    expect(statuses).toContain('unplugged');
    expect(s.stats.reconnects).toBeGreaterThanOrEqual(1);
    expect(s.stats.windowsLost).toBe(0);
    expect(before).toMatch(/^\/dev\/pts\//);
  }, 60_000);

  it('after a replug says connected only once the device has answered HELLO again', async () => {
    const vd = new VirtualDevice({ runtime: rt });
    const s = await DeviceSession.open({ path: await vd.start() });
    // Frames received since the session began reconnecting, at each status it announces.
    let atReconnect = 0;
    const seen: { status: LinkStatus; framesSinceReconnect: number }[] = [];
    s.onStatus((st) => {
      if (st === 'reconnecting') atReconnect = s.stats.framesReceived;
      seen.push({ status: st, framesSinceReconnect: s.stats.framesReceived - atReconnect });
    });
    await vd.unplug(800);
    while (s.status !== 'connected' || !seen.some((x) => x.status === 'connected')) await new Promise((r) => setTimeout(r, 20));
    const r = await s.infer(windows[0]!);
    await s.close();
    await vd.stop();
    expect(same(r.outputs, rt.run(windows[0]!))).toBe(true);
    expect(seen[0]!.status).toBe('unplugged');
    const connected = seen.filter((x) => x.status === 'connected');
    expect(connected.length).toBe(1);
    expect(connected[0]!.framesSinceReconnect).toBeGreaterThanOrEqual(1); // the HELLO came first
  }, 30_000);

  it('a device that goes away for good fails its windows with device-unplugged after the timeout', async () => {
    const vd = new VirtualDevice({ runtime: rt });
    const s = await DeviceSession.open({ path: await vd.start(), reconnectTimeoutMs: 1000 });
    const inflight = [s.infer(windows[0]!), s.infer(windows[1]!), s.infer(windows[2]!)].map((p) => p.catch((e: unknown) => e));
    const t0 = Date.now();
    await vd.stop();
    const results = await Promise.all(inflight);
    const failed = results.filter((r) => r instanceof ApiError) as ApiError[];
    expect(failed.length).toBeGreaterThan(0);
    for (const e of failed) {
      expect(e.code).toBe('device-unplugged');
      expect(e.message).toMatch(/has been gone for \d+ s/);
    }
    expect(s.stats.windowsLost).toBe(failed.length);
    expect(s.status).toBe('closed');
    expect(Date.now() - t0).toBeLessThan(5000);
    await s.close();
  }, 30_000);

  it('names a busy port, a missing port and a silent device', async () => {
    const vd = await startVirtualDevice(['--artifacts', ARTIFACTS]);
    // Another process holds the port's lock (as minicom or a serial monitor would).
    const holder = spawn('flock', ['--nonblock', vd.path, 'sleep', '30'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 300));
    const busy = await DeviceSession.open({ path: vd.path }).catch((e: unknown) => e);
    holder.kill('SIGTERM');
    await vd.stop();
    expect(busy).toBeInstanceOf(ApiError);
    expect((busy as ApiError).code).toBe('port-busy');
    expect((busy as ApiError).message).toMatch(/in use by another program/);

    const missing = await DeviceSession.open({ path: '/dev/ttyQATWB-none' }).catch((e: unknown) => e);
    expect((missing as ApiError).code).toBe('port-not-found');
    expect((missing as ApiError).message).toContain('/dev/ttyQATWB-none');

    // A pty with nothing behind it: the port opens, but nobody ever says HELLO.
    const pair = await createPtyPair();
    const t0 = Date.now();
    const silent = await DeviceSession.open({ path: pair.hostPath, helloTimeoutMs: 500 }).catch((e: unknown) => e);
    await pair.close();
    expect((silent as ApiError).code).toBe('device-silent');
    expect((silent as ApiError).message).toMatch(/Nothing answered .* within 500 ms/);
    expect(Date.now() - t0).toBeLessThan(5000);
  }, 60_000);
});

afterAll(async () => {
  // No socat may outlive the tests.
  const { execFileSync } = await import('node:child_process');
  const left = (() => {
    try {
      return execFileSync('pgrep', ['-f', `${OWN_TMP}/qatwb-vd-`], { encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  })();
  expect(left).toBe('');
});
