// Child-process adapter for the virtual MAX78002 (its simulator runs per window, so keep it off main).
// Messages: start {artifacts, sensor?, rateHz?, faultRate?, baud?, bugLayer?, ignoreLayerRequests?} → ready {path, pts};
// unplug {ms} → unplugged; stop → stopped {stats}. Errors → error {code, message}.
import { ApiError } from '../api/contract.ts';
import { parentChannel } from './device-process.ts';
import { loadRuntime } from './model-runtime.ts';
import { loadWindowSource } from './sensor-source.ts';
import { VirtualDevice } from './virtual-device.ts';

export type VirtualDeviceRequest =
  | { type: 'start'; artifacts: string; sensor?: string; rateHz?: number; faultRate?: number; baud?: number; bugLayer?: number; ignoreLayerRequests?: boolean }
  | { type: 'unplug'; ms: number }
  | { type: 'stop' };

let vd: VirtualDevice | null = null;
const post = (m: unknown) => parentChannel.post(m);
const fail = (e: unknown) => post({ type: 'error', code: e instanceof ApiError ? e.code : 'device', message: (e as Error).message ?? String(e) });

parentChannel.onMessage(async (m: VirtualDeviceRequest) => {
  try {
    if (m.type === 'start') {
      const runtime = await loadRuntime(m.artifacts);
      const sensor = m.sensor ? await loadWindowSource(m.sensor, runtime) : undefined;
      vd = new VirtualDevice({
        runtime,
        ...(m.baud ? { baud: m.baud } : {}),
        ...(m.faultRate ? { faultRate: m.faultRate } : {}),
        ...(sensor ? { sensorWindows: sensor.windows } : {}),
        ...(m.rateHz ? { sensorRateHz: m.rateHz } : {}),
        ...(m.bugLayer !== undefined ? { bugLayer: m.bugLayer } : {}),
        ...(m.ignoreLayerRequests ? { ignoreLayerRequests: true } : {}),
      });
      const path = await vd.start();
      post({ type: 'ready', path, pts: vd.hostPts });
    } else if (m.type === 'unplug') {
      await vd?.unplug(m.ms);
      post({ type: 'unplugged' });
    } else if (m.type === 'stop') {
      await vd?.stop();
      post({ type: 'stopped', stats: vd?.stats ?? null });
      vd = null;
      parentChannel.close();
    }
  } catch (e) {
    fail(e);
  }
}, async () => {
  await vd?.stop();
});
