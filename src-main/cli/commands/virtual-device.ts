// `qatwb virtual-device`: a virtual MAX78002 on a pty pair (socat), answering the device protocol
// with the bit-exact simulator. Prints one line with the port path, then runs until Ctrl-C.
// SIGUSR1 simulates unplugging the cable for half a second.
import { optInt, optNumber, optString, reqString, UsageError } from '../args.ts';
import type { Command } from '../command.ts';
import { loadRuntime } from '../../device/model-runtime.ts';
import { loadWindowSource } from '../../device/sensor-source.ts';
import { VirtualDevice } from '../../device/virtual-device.ts';

export const command: Command = {
  name: 'virtual-device',
  ownsSignals: true,
  summary: 'Start a virtual MAX78002 on a pseudo-terminal.',
  usage: `qatwb virtual-device --artifacts DIR [--sensor mnist|FILE.npy] [--rate HZ] [--fault-rate R] [--baud 921600]
                              [--bug-layer N] [--ignore-layer-requests] [--raw] [--json]
  --artifacts DIR   folder with checkpoint.pth.tar + network.yaml (the model the device runs)
  --sensor SRC      live mode source: "mnist" (built-in digits), an int8 .npy of windows, or raw sensor
                    values (a .csv in the training file's layout, a float .npy; --raw: an integer
                    .npy) that the device scales with model.json input.scaling, as training did
  --rate HZ         sensor windows per second (default 10)
  --sensor-autostart  stream at once, without waiting for the host to ask
  --fault-rate R    probability per frame of an injected fault (corrupt/drop/delay/garbage), 0..1
  --baud B          line rate the device paces its bytes at (default 921600; a pty ignores baud)
  --bug-layer N     inject a deployment bug: every value of layer N off in its lowest bit; later layers
                    and the output compute from it (host and sensor windows alike)
  --ignore-layer-requests  never answer layer requests (to see a first-divergent-layer search fail)
Prints one line with the port path to open. SIGUSR1: unplug for 0.5 s and replug. Ctrl-C: stop.`,
  options: ['artifacts', 'sensor', 'rate', 'fault-rate', 'baud', 'bug-layer'],
  booleans: ['sensor-autostart', 'ignore-layer-requests', 'raw'],
  async run(args, io) {
    const dir = reqString(args, 'artifacts');
    const baud = optInt(args, 'baud', { min: 300 }) ?? 921600;
    const faultRate = optNumber(args, 'fault-rate', { min: 0, max: 1 }) ?? 0;
    const rateHz = optNumber(args, 'rate', { gt: 0 }) ?? 10;
    const bugLayer = optInt(args, 'bug-layer', { min: 0 });
    const runtime = await loadRuntime(dir);
    if (bugLayer !== undefined && bugLayer >= runtime.layerNames.length) {
      throw new UsageError(`--bug-layer expects a layer index 0..${runtime.layerNames.length - 1} of ${runtime.name}, got ${bugLayer}.`);
    }
    const sensorSpec = optString(args, 'sensor');
    const sensor = sensorSpec ? await loadWindowSource(sensorSpec, runtime, args.options.get('raw') === true ? { raw: true } : {}) : undefined;
    const vd = new VirtualDevice({
      runtime, baud, faultRate, sensorRateHz: rateHz,
      ...(sensor ? { sensorWindows: sensor.windows } : {}),
      sensorAutostart: args.options.get('sensor-autostart') === true,
      ...(bugLayer !== undefined ? { bugLayer } : {}),
      ignoreLayerRequests: args.options.get('ignore-layer-requests') === true,
    });
    const path = await vd.start();
    const ready = { path, pts: vd.hostPts, model: runtime.name, baud, faultRate, sensor: sensor?.name ?? null, sensorScaling: sensor?.scaledWith ?? null, pid: process.pid };
    if (args.options.has('json')) io.out(JSON.stringify(ready));
    else io.out(`virtual MAX78002 ready on ${path} (${ready.pts}) — model ${runtime.name}, ${baud} baud${faultRate ? `, fault rate ${faultRate}` : ''}`);
    return await new Promise<number>((resolve) => {
      let stopping = false;
      const stop = async () => {
        if (stopping) return;
        stopping = true;
        await vd.stop();
        io.err(`virtual-device stats ${JSON.stringify(vd.stats)}`);
        resolve(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      process.on('SIGUSR1', () => void vd.unplug(500).catch((e: Error) => io.err(`replug failed: ${e.message}`)));
    });
  },
};
