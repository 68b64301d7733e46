// The device service: implements api/device.api.ts. The link and the check live in one child
// process (link.process.ts), a virtual MAX78002 in another (virtual-device.process.ts), so the
// simulator never runs on the main thread; this file routes requests and events between them.
import type { ChildProcess } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiError, type ServiceImpl } from '../api/contract.ts';
import type { z } from 'zod';
import type { deviceApi, RollingFigures } from '../api/device.api.ts';
import { startDeviceProcess } from './device-process.ts';
import type { ServiceEnv } from '../services.ts';
import { reportCsv, reportJson, type CheckReport } from './live-check.ts';
import type { LinkRequest } from './link.process.ts';
import { listPorts } from './serial-port.ts';
import { readInputJson } from '../platform/read-input.ts';
import { storedInputScaling } from '../ir/schema.ts';
import type { Hello } from './protocol.ts';
import type { VirtualDeviceRequest } from './virtual-device.process.ts';

type Msg = { type: string; code?: string; message?: string; [k: string]: unknown };

/** Sends `msg` and resolves with the first reply of one of `types` (or rejects on `error`). */
function ask<T extends Msg>(w: ChildProcess, msg: unknown, types: string[], onOther?: (m: Msg) => void, signal?: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMsg = (m: Msg) => {
      if (types.includes(m.type)) done(() => resolve(m as T));
      else if (m.type === 'error') done(() => reject(new ApiError(m.code ?? 'device', m.message ?? 'device error')));
      else onOther?.(m);
    };
    const onExit = () => done(() => reject(new ApiError('device', 'The device process stopped unexpectedly.')));
    const done = (f: () => void) => {
      w.off('message', onMsg);
      w.off('exit', onExit);
      f();
    };
    w.on('message', onMsg);
    w.once('exit', onExit);
    if (signal) signal.addEventListener('abort', () => w.send({ type: 'stop' } satisfies LinkRequest), { once: true });
    w.send(msg as object);
  });
}

function stopChild(c: ChildProcess): void {
  if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
}

/** What a virtual device holds: its request and the model files' identity (path, size, time). */
async function virtualKey(req: Record<string, unknown> & { artifacts: string; sensor?: string }): Promise<string> {
  const files = [join(req.artifacts, 'checkpoint.pth.tar'), join(req.artifacts, 'network.yaml'), ...(req.sensor && req.sensor !== 'mnist' ? [req.sensor] : [])];
  const ids = await Promise.all(files.map((f) => stat(f).then((s) => `${f}:${s.size}:${s.mtimeMs}`, () => `${f}:missing`)));
  return JSON.stringify([req, ids]);
}

function helloView(h: Hello) {
  return {
    protocolVersion: h.protocolVersion, deviceId: h.deviceId, firmwareId: h.firmwareId,
    modelHash: h.modelHash.toString(16).padStart(8, '0'), inputShape: h.inputShape, outputCount: h.outputCount,
    outputBits: h.outputBits, outputWeightBits: h.outputWeightBits, layerCount: h.layerCount,
  };
}

export function createDeviceService(env: ServiceEnv): ServiceImpl<typeof deviceApi> {
  let link: { proc: ChildProcess; path: string } | null = null;
  let virtual: { proc: ChildProcess; path: string; pts: string; key: string } | null = null;
  let checking = false;
  let lastReport: CheckReport | null = null;

  env.onDispose?.(async () => {
    await closeLink();
    if (virtual) stopChild(virtual.proc);
    virtual = null;
  });

  const stopVirtual = async () => {
    const v = virtual;
    virtual = null;
    if (!v) return false;
    // The link to it would only see a dead pty: close it first.
    if (link?.path === v.path && (await closeLink())) env.emit('device', 'status', { path: v.path, status: 'closed', message: 'The virtual MAX78002 was stopped.' });
    await ask(v.proc, { type: 'stop' } satisfies VirtualDeviceRequest, ['stopped']).catch(() => {});
    stopChild(v.proc);
    return true;
  };

  const closeLink = async () => {
    const l = link;
    link = null;
    if (!l) return false;
    await ask(l.proc, { type: 'close' } satisfies LinkRequest, ['closed']).catch(() => {});
    stopChild(l.proc);
    return true;
  };

  return {
    async ping() {
      return { ok: true as const };
    },

    async listPorts() {
      const { ports, warning } = await listPorts();
      const all = virtual
        ? [{ path: virtual.path, kind: 'virtual' as const, label: `Virtual MAX78002 (simulator) — ${virtual.path}` }, ...ports]
        : ports;
      return { ports: all, ...(warning ? { warning } : {}) };
    },

    async connect({ path, baud, prepare }) {
      await closeLink();
      const proc = startDeviceProcess(new URL('./link.process.ts', import.meta.url));
      proc.on('message', (m: Msg) => {
        if (m.type === 'status') env.emit('device', 'status', { path, status: m.status, ...(m.message ? { message: m.message } : {}) });
      });
      try {
        const { hello } = await ask<Msg & { hello: Hello }>(proc, { type: 'connect', path, ...(baud ? { baud } : {}), ...(prepare ? { prepare } : {}) } satisfies LinkRequest, ['hello']);
        link = { proc, path };
        env.emit('device', 'status', { path, status: 'connected' });
        return { path, hello: helloView(hello) };
      } catch (error) {
        stopChild(proc);
        throw error;
      }
    },

    async disconnect() {
      return { closed: await closeLink() };
    },

    async startCheck(req, ctx) {
      if (!link) throw new ApiError('not-connected', 'Connect to a device (or a virtual MAX78002) before starting a check.');
      if (checking) throw new ApiError('busy', 'A check is already running on this device.');
      checking = true;
      try {
        const { report } = await ask<Msg & { report: CheckReport }>(link.proc, { type: 'check', req } satisfies LinkRequest, ['report'], (m) => {
          if (m.type !== 'window') return;
          const { record, rolling } = m as Msg & { record: Record<string, unknown>; rolling: z.input<typeof RollingFigures> };
          env.emit('device', 'window', { record, rolling });
          const total = req.windows;
          ctx.progress({
            phase: 'check',
            ...(total ? { fraction: Math.min(1, rolling.windows / total) } : {}),
            message: `${rolling.windows} windows`,
            data: rolling satisfies z.input<typeof RollingFigures>,
          });
        }, ctx.signal);
        lastReport = report;
        const { perWindow: _rows, ...summary } = report;
        // Infinity (identical outputs) travels as the string "Infinity".
        return JSON.parse(reportJson(summary));
      } finally {
        checking = false;
      }
    },

    async inputScaling({ artifacts }) {
      const file = join(artifacts, 'model.json');
      const doc = await readInputJson(file, 'artifacts').catch((e: ApiError) => (e.code === 'not-found' ? null : Promise.reject(e)));
      if (doc === null) return { scaling: null, file: null };
      try {
        return { scaling: storedInputScaling(doc) ?? null, file };
      } catch (error) {
        throw new ApiError('invalid-data', `${file}: ${(error as Error).message}.`, 'artifacts');
      }
    },

    async stopCheck() {
      if (!link || !checking) return { stopped: false };
      link.proc.send({ type: 'stop' } satisfies LinkRequest);
      return { stopped: true };
    },

    async getReport({ format }) {
      if (!lastReport) throw new ApiError('not-found', 'No check has finished yet.');
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      return format === 'json'
        ? { fileName: `live-check-${stamp}.json`, text: reportJson(lastReport, 1) }
        : { fileName: `live-check-${stamp}.csv`, text: reportCsv(lastReport) };
    },

    async startVirtualDevice(req) {
      // A running one is reused only while it holds this very model and sensor; a retrained export
      // (same folder, new files) or another project's export restarts it.
      const key = await virtualKey(req);
      if (virtual?.key === key) return { path: virtual.path, pts: virtual.pts };
      if (virtual) await stopVirtual();
      const proc = startDeviceProcess(new URL('./virtual-device.process.ts', import.meta.url));
      try {
        const ready = await ask<Msg & { path: string; pts: string }>(proc, { type: 'start', ...req } satisfies VirtualDeviceRequest, ['ready']);
        virtual = { proc, path: ready.path, pts: ready.pts, key };
        return { path: ready.path, pts: ready.pts };
      } catch (error) {
        stopChild(proc);
        throw error;
      }
    },

    async stopVirtualDevice() {
      return { stopped: await stopVirtual() };
    },

    async unplugVirtualDevice({ ms }) {
      if (!virtual) throw new ApiError('not-found', 'No virtual device is running.');
      await ask(virtual.proc, { type: 'unplug', ms: ms ?? 500 } satisfies VirtualDeviceRequest, ['unplugged']);
      return { ok: true };
    },
  };
}
