// One live check from start to end, as the CLI and the device service run it: load the artifacts,
// the float model when there is one, open the port, check N windows, close.
import { inputScaleFrom, loadFloatModel, type FloatModel } from './float-model.ts';
import { runLiveCheck, type CheckReport, type CheckSource, type RollingFigures, type WindowRecord } from './live-check.ts';
import { loadRuntime } from './model-runtime.ts';
import { loadWindowSource } from './sensor-source.ts';
import { DeviceSession, type LinkStatus } from './session.ts';

export interface CheckJobRequest {
  port: string;
  baud?: number;
  artifacts: string;
  /** "device" (live sensor), "mnist", or an int8 .npy of windows. */
  source?: string;
  labels?: string;
  windows?: number;
  saveDir?: string;
  helloTimeoutMs?: number;
}

export interface CheckJobHooks {
  signal?: AbortSignal;
  onWindow?(w: WindowRecord, rolling: RollingFigures): void;
  onStatus?(s: LinkStatus, message?: string): void;
}

export async function runCheckJob(req: CheckJobRequest, hooks: CheckJobHooks = {}): Promise<CheckReport> {
  const runtime = await loadRuntime(req.artifacts);
  const spec = req.source ?? 'device';
  let source: CheckSource;
  if (spec === 'device') source = { kind: 'device' };
  else {
    const set = await loadWindowSource(spec, runtime.inputLength, req.labels);
    source = { kind: 'windows', windows: set.windows, name: set.name, ...(set.labels ? { labels: set.labels } : {}) };
  }
  let float: FloatModel | undefined;
  if (runtime.floatModelPath) float = await loadFloatModel(runtime.floatModelPath, runtime.inputShape, inputScaleFrom(runtime.quantization));
  const session = await DeviceSession.open({
    path: req.port,
    ...(req.baud ? { baud: req.baud } : {}),
    ...(req.helloTimeoutMs ? { helloTimeoutMs: req.helloTimeoutMs } : {}),
  });
  if (hooks.onStatus) session.onStatus(hooks.onStatus);
  try {
    return await runLiveCheck({
      session, runtime, source,
      ...(float ? { float } : {}),
      ...(req.windows !== undefined ? { windows: req.windows } : {}),
      ...(req.saveDir ? { saveDir: req.saveDir } : {}),
      ...(hooks.signal ? { signal: hooks.signal } : {}),
      ...(hooks.onWindow ? { onWindow: hooks.onWindow } : {}),
    });
  } finally {
    await session.close();
    await float?.close();
  }
}

/** The report without per-window rows (what `--json` prints and the UI's summary shows). */
export function summarizeReport(r: CheckReport): Omit<CheckReport, 'perWindow'> {
  const { perWindow: _omit, ...rest } = r;
  return rest;
}
