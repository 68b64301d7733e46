// A check whose serial link is lost for good (socat killed mid-check: the port vanishes and does not
// come back within the replug window) ends with a report of every window compared so far, saying
// why it ended: in host and live mode, and through `qatwb check --json --report` as a user runs it.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLiveCheck } from '../../src-main/device/live-check.ts';
import { loadRuntime, type ModelRuntime } from '../../src-main/device/model-runtime.ts';
import { mnistWindows, type WindowSet } from '../../src-main/device/sensor-source.ts';
import { DeviceSession } from '../../src-main/device/session.ts';
import { VirtualDevice } from '../../src-main/device/virtual-device.ts';
import { startVirtualDevice } from './virtual-device-process.ts';
import { CONFORMANCE } from '../support/fixtures.ts';
import { pullCable } from '../support/pull-cable.ts';

const CLI = fileURLToPath(new URL('../../bin/qatwb.mjs', import.meta.url));
let rt: ModelRuntime;
let mnist: WindowSet;
const tmp = mkdtempSync(join(tmpdir(), 'qatwb-lost-'));

beforeAll(async () => {
  rt = await loadRuntime(join(CONFORMANCE, 'mnist-extrasmall'));
  mnist = await mnistWindows();
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('a link lost for good mid-check', () => {
  it('host windows: the check ends with a report of the windows compared, status link-lost and the reason', async () => {
    const vd = new VirtualDevice({ runtime: rt, baud: 4000000 });
    const session = await DeviceSession.open({ path: await vd.start(), baud: 4000000, reconnectTimeoutMs: 1000 });
    let seen = 0;
    const t0 = Date.now();
    try {
      const report = await runLiveCheck({
        session, runtime: rt, source: { kind: 'windows', windows: mnist.windows, labels: mnist.labels!, name: 'mnist' },
        onWindow: () => {
          if (++seen === 40) pullCable(vd.hostPath);
        },
      });
      expect(report.status).toBe('link-lost');
      expect(report.reason).toMatch(/has been gone for \d+ s/);
      expect(report.reason).toMatch(new RegExp(`ended after ${report.windows} of ${mnist.windows.length} windows`));
      expect(report.windowsPlanned).toBe(mnist.windows.length);
      expect(report.windows).toBeGreaterThanOrEqual(40);
      expect(report.windows).toBeLessThan(200);
      expect(report.perWindow.length).toBe(report.windows);
      expect(report.bitExactRate).toBe(1); // every window kept was compared in full
      expect(report.rows![0]!.windows).toBe(report.windows);
      expect(Date.now() - t0).toBeLessThan(15_000);
    } finally {
      await session.close();
      await vd.stop();
    }
  }, 30_000);

  it('live windows: the same, before the stall watchdog', async () => {
    const vd = new VirtualDevice({ runtime: rt, baud: 4000000, sensorWindows: mnist.windows.slice(0, 100), sensorRateHz: 200 });
    const session = await DeviceSession.open({ path: await vd.start(), baud: 4000000, reconnectTimeoutMs: 1000 });
    let seen = 0;
    try {
      const report = await runLiveCheck({
        session, runtime: rt, windows: 100_000, source: { kind: 'device' }, sensorStallMs: 10_000,
        onWindow: () => {
          if (++seen === 20) pullCable(vd.hostPath);
        },
      });
      expect(report.status).toBe('link-lost');
      expect(report.reason).toMatch(/has been gone for \d+ s.*ended after \d+ of 100000 windows/);
      expect(report.windows).toBeGreaterThanOrEqual(20);
      expect(report.perWindow.length).toBe(report.windows);
      expect(report.bitExactRate).toBe(1);
    } finally {
      await session.close();
      await vd.stop();
    }
  }, 30_000);

  it('a live device that stays connected but sends nothing ends the check with status device-stalled instead of hanging', async () => {
    // Its sensor ticks every 100 s: the link is fine, the windows do not come.
    const vd = new VirtualDevice({ runtime: rt, baud: 4000000, sensorWindows: mnist.windows.slice(0, 50), sensorRateHz: 0.01 });
    const session = await DeviceSession.open({ path: await vd.start(), baud: 4000000 });
    const t0 = Date.now();
    try {
      const report = await runLiveCheck({ session, runtime: rt, windows: 10_000, source: { kind: 'device' }, sensorStallMs: 800 });
      expect(report.status).toBe('device-stalled');
      expect(report.reason).toMatch(/sent no window for 800 ms \(after 0 windows\).*ended after 0 of 10000 windows/);
      expect(report.windows).toBe(0);
      expect(Date.now() - t0).toBeLessThan(5000);
    } finally {
      await session.close();
      await vd.stop();
    }
  }, 30_000);

  it('a live link that is down is not a stalled device: the replug window decides', async () => {
    const vd = new VirtualDevice({ runtime: rt, baud: 4000000, sensorWindows: mnist.windows.slice(0, 50), sensorRateHz: 100 });
    const session = await DeviceSession.open({ path: await vd.start(), baud: 4000000, reconnectTimeoutMs: 2500 });
    try {
      const check = runLiveCheck({ session, runtime: rt, windows: 10_000, source: { kind: 'device' }, sensorStallMs: 800 });
      await new Promise((r) => setTimeout(r, 300));
      await vd.stop(); // the pty goes with it, for good
      const report = await check;
      expect(report.status).toBe('link-lost');
      expect(report.windows).toBe(report.perWindow.length);
      expect(report.windows).toBeGreaterThan(0);
    } finally {
      await session.close();
    }
  }, 30_000);

  it('qatwb check --json: prints the partial report (status, reason, windows so far), writes --report, exits 1', async () => {
    const artifacts = join(CONFORMANCE, 'mnist-qat8'); // slow enough per window that 10,000 windows outlast the kill
    const vd = await startVirtualDevice(['--artifacts', artifacts]);
    const reportFile = join(tmp, 'report.json');
    try {
      const child = spawn(process.execPath, [CLI, 'check', '--port', vd.path, '--artifacts', artifacts, '--source', 'mnist', '--report', reportFile, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
      child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
      const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? -1)));
      // Wait until the check holds the port open (an fd of qatwb or of a process it started, the
      // device service's link process, points at the pty), then let windows flow.
      const holds = (pid: number) => {
        try {
          return readdirSync(`/proc/${pid}/fd`).some((fd) => {
            try { return readlinkSync(`/proc/${pid}/fd/${fd}`) === vd.pts; } catch { return false; }
          });
        } catch {
          return false;
        }
      };
      const childrenOf = (pid: number): number[] => readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((p) => {
        try { return Number(readFileSync(`/proc/${p}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]) === pid; } catch { return false; }
      });
      const holdsPort = (pid = child.pid!): boolean => holds(pid) || childrenOf(pid).some((c) => holdsPort(c));
      for (let i = 0; i < 300 && !holdsPort(); i++) await new Promise((r) => setTimeout(r, 50));
      expect(holdsPort(), stderr).toBe(true);
      await new Promise((r) => setTimeout(r, 1000));
      pullCable(vd.path);
      const code = await exited;
      expect(code, stderr).toBe(1);
      expect(stdout, stderr).toMatch(/"status"/);
      const r = JSON.parse(stdout) as { status: string; reason: string; windows: number; windowsPlanned: number; bitExactRate: number };
      expect(r.status).toBe('link-lost');
      expect(r.windows).toBeGreaterThan(0);
      expect(r.windows).toBeLessThan(r.windowsPlanned);
      expect(r.reason).toMatch(new RegExp(`gone for \\d+ s.*ended after ${r.windows} of ${r.windowsPlanned} windows`));
      expect(r.bitExactRate).toBe(1);
      expect(stderr).toMatch(/link unplugged/);
      // The saved report holds the same, with every window's row.
      expect(existsSync(reportFile)).toBe(true);
      const saved = JSON.parse(readFileSync(reportFile, 'utf8')) as typeof r & { perWindow: unknown[] };
      expect(saved.status).toBe('link-lost');
      expect(saved.perWindow.length).toBe(r.windows);
    } finally {
      await vd.stop();
    }
  }, 90_000);
});
