// One live check from start to end, as the CLI and the device service run it: load the artifacts,
// the window source (raw windows scaled as the model was trained) and the float model when there
// is one, open the port, check N windows, close.
import { inputScaleFrom, loadFloatModel, type FloatModel } from './float-model.ts';
import { runLiveCheck, type CheckReport, type CheckSource, type RollingFigures, type WindowRecord } from './live-check.ts';
import { loadRuntime, type ModelRuntime } from './model-runtime.ts';
import { loadWindowSource } from './sensor-source.ts';
import { DeviceSession, type LinkStatus } from './session.ts';

export interface CheckInputs {
  artifacts: string;
  /** "device" (live sensor), "mnist", an .npy of windows (int8 codes; float: raw) or a .csv of raw values. */
  source?: string;
  labels?: string;
  /** An integer .npy holds raw sensor values, scaled with the model's input scaling. */
  raw?: boolean;
}

export interface CheckJobRequest extends CheckInputs {
  port: string;
  baud?: number;
  windows?: number;
  saveDir?: string;
  helloTimeoutMs?: number;
}

export interface CheckJobHooks {
  signal?: AbortSignal;
  onWindow?(w: WindowRecord, rolling: RollingFigures): void;
  onStatus?(s: LinkStatus, message?: string): void;
}

export interface PreparedCheck {
  runtime: ModelRuntime;
  source: CheckSource;
  float?: FloatModel;
}

/** The model, the windows and the float model of a check (close `float` when done). */
export async function prepareCheck(req: CheckInputs): Promise<PreparedCheck> {
  const runtime = await loadRuntime(req.artifacts);
  const spec = req.source ?? 'device';
  let source: CheckSource;
  if (spec === 'device') source = { kind: 'device' };
  else {
    const set = await loadWindowSource(spec, runtime, { ...(req.labels ? { labels: req.labels } : {}), ...(req.raw ? { raw: true } : {}) });
    source = { kind: 'windows', windows: set.windows, name: set.name, ...(set.labels ? { labels: set.labels } : {}), ...(set.scaledWith ? { scaledWith: set.scaledWith } : {}) };
  }
  const float = runtime.floatModelPath ? await loadFloatModel(runtime.floatModelPath, runtime.inputShape, inputScaleFrom(runtime.quantization)) : undefined;
  return { runtime, source, ...(float ? { float } : {}) };
}

export async function runCheckJob(req: CheckJobRequest, hooks: CheckJobHooks = {}): Promise<CheckReport> {
  const { runtime, source, float } = await prepareCheck(req);
  let session: DeviceSession;
  try {
    session = await DeviceSession.open({
      path: req.port,
      ...(req.baud ? { baud: req.baud } : {}),
      ...(req.helloTimeoutMs ? { helloTimeoutMs: req.helloTimeoutMs } : {}),
    });
  } catch (error) {
    await float?.close();
    throw error;
  }
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
