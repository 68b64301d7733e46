// The live check: window by window, the device's output vs the bit-exact simulator vs the float
// model (ONNX Runtime) on one scale, rolling metrics, the three-row report when labels exist, the
// first divergent layer when the device and the simulator disagree, and the disagreeing windows
// saved as a dataset for the next training round.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { ApiError } from '../api/contract.ts';
import { writeNpy } from '../formats/npy.ts';
import type { InputScaling } from '../ir/graph.ts';
import type { FloatModel } from './float-model.ts';
import { findDivergence, type Divergence } from './layer-search.ts';
import { Comparison, LabelAccuracy, LatencyStats, argmax, type ComparisonSummary } from './metrics.ts';
import { outputScaleExp, type ModelRuntime } from './model-runtime.ts';
import type { DeviceSession, SessionStats } from './session.ts';

export type { Divergence };

export type CheckSource =
  /** Live mode: the device captures windows with its own sensor and sends SENSOR frames. */
  | { kind: 'device'; rateHz?: number }
  /** Host mode: these windows go to the device as INPUT frames (labels optional). */
  | { kind: 'windows'; windows: Int8Array[]; labels?: Int32Array; name: string; /** Raw values scaled to these codes with this. */ scaledWith?: InputScaling };

export interface CheckOptions {
  session: DeviceSession;
  runtime: ModelRuntime;
  source: CheckSource;
  /** Float reference; absent when the artifacts have no model.onnx. */
  float?: FloatModel;
  /** Windows to check (default: all windows of the source; live mode: 100). */
  windows?: number;
  /** Windows in flight at once in host mode (default 2: the line never idles). */
  pipeline?: number;
  /** Folder for disagreeing windows (x.npy + y.npy); none: not saved. */
  saveDir?: string;
  /** Live mode: fail when no window arrives for this long, ms (default 5000). */
  sensorStallMs?: number;
  /** How many device≠simulator windows get a first-divergent-layer search (default 3). */
  divergenceChecks?: number;
  signal?: AbortSignal;
  onWindow?(w: WindowRecord, rolling: RollingFigures): void;
}

export interface WindowRecord {
  index: number;
  seq: number;
  label: number | null;
  deviceClass: number;
  simClass: number;
  floatClass: number | null;
  bitExact: boolean;
  /** Device vs float on the float scale (null without a float model). */
  cosineFloat: number | null;
  maxAbsErrorFloat: number | null;
  deviceTimeUs: number;
  /** Host processing time for this window (decode, simulator, float, metrics), ms. */
  hostMs: number;
  /** Saved to the disagreement dataset. */
  disagrees: boolean;
}

export interface RollingFigures {
  windows: number;
  bitExactRate: number;
  top1AgreementFloat: number | null;
  cosineMean: number | null;
  sqnrDb: number | null;
}

export interface CheckReport {
  /**
   * complete: every planned window was checked; stopped: the user stopped it; link-lost: the serial
   * link went away and did not come back within the reconnect window; device-stalled: a live device
   * sent no window for the stall time. Every figure covers the `windows` checked before the end.
   */
  status: 'complete' | 'stopped' | 'link-lost' | 'device-stalled';
  /** Why it ended early, in words (null when complete). */
  reason: string | null;
  /** Windows the check set out to compare (the source's, or --windows). */
  windowsPlanned: number;
  windows: number;
  bitExactRate: number;
  top1AgreementFloat: number | null;
  cosineMean: number | null;
  sqnrDb: number | null;
  l2r: number | null;
  rmse: number | null;
  mae: number | null;
  maxAbsError: number | null;
  nse: number | null;
  framesCorrupted: number;
  framesRecovered: number;
  windowsLost: number;
  device: { id: string; firmware: string; modelHash: string; modelHashMatches: boolean };
  model: string;
  source: string;
  /**
   * The input the model expects and what the host did with the source: `scaling` is model.json's
   * `input.scaling` (null when not recorded); `raw` is true when the host scaled raw source values
   * to int8 codes with it (then device, simulator and float model all saw those codes).
   */
  input: { raw: boolean; scaling: InputScaling | null };
  /** Output unit used to compare with float logits: value · 2^scaleExp. */
  scaleExp: number;
  float: { present: boolean; note?: string };
  vsFloat: ComparisonSummary | null;
  vsSimulator: ComparisonSummary;
  /** The three rows (device vs labels, float twin vs labels, device vs float twin); null without labels. */
  rows: { name: string; windows: number; accuracy: number | null }[] | null;
  confusionDeviceVsLabels: number[][] | null;
  latency: ReturnType<LatencyStats['summary']>;
  hostMsPerWindow: number;
  wallMsPerWindow: number;
  link: SessionStats;
  divergences: Divergence[];
  /**
   * Windows saved for retraining: those where the device differs from the simulator, the float twin
   * of QAT or the label; `against` counts each reason.
   */
  disagreements: { count: number; against: { simulator: number; floatTwin: number; labels: number }; xPath?: string; yPath?: string };
  perWindow: WindowRecord[];
}

/**
 * How an error ends the check with what was compared: the link gone for good (link-lost) or the
 * session closed under it (stopped); null for any other error.
 */
function linkEnd(e: Error): 'link-lost' | 'stopped' | null {
  if (!(e instanceof ApiError)) return null;
  return e.code === 'device-unplugged' ? 'link-lost' : e.code === 'cancelled' ? 'stopped' : null;
}

async function writeAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await fs.writeFile(tmp, bytes);
  await fs.rename(tmp, path);
}

export async function runLiveCheck(o: CheckOptions): Promise<CheckReport> {
  const { session, runtime: rt } = o;
  const classes = rt.outputCount;
  const scale = 2 ** outputScaleExp(rt);
  const vsFloat = o.float ? new Comparison(classes) : null;
  const vsSim = new Comparison(classes);
  const labels = o.source.kind === 'windows' ? o.source.labels : undefined;
  const devAcc = labels ? new LabelAccuracy(classes) : null;
  const floatAcc = labels && o.float ? new LabelAccuracy(classes) : null;
  const latency = new LatencyStats();
  const perWindow: WindowRecord[] = [];
  const divergences: Divergence[] = [];
  const bad: { x: Int8Array; y: number }[] = [];
  /** Why windows were saved: the device's class against each reference (a window may count twice). */
  const against = { simulator: 0, floatTwin: 0, labels: 0 };
  let bitExact = 0;
  let hostMs = 0;
  let divergenceSlots = 0;
  const t0 = performance.now();
  const live = o.source.kind === 'device';
  const rate = o.source.kind === 'device' ? o.source.rateHz ?? 0 : 0;
  // Layer searches run one at a time with the link to themselves: no new window is sent (host
  // mode) or captured (live mode) meanwhile, so a device that keeps only its last window still
  // holds it, and no reply waits behind other traffic.
  /** Why the check ended before its last window (first cause wins); null: it ran to the end. */
  let ended: { status: CheckReport['status']; reason: string } | null = null;
  const end = (status: CheckReport['status'], reason: string) => {
    ended ??= { status, reason };
  };
  let searches: Promise<unknown> = Promise.resolve();
  let hold: Promise<void> | null = null;
  let searching = false;
  const searchLayers = (index: number, seq: number, window: Int8Array, outputs: Int32Array): Promise<Divergence> => {
    const run = searches.then(async () => {
      let release = () => {};
      hold = new Promise((r) => (release = r));
      searching = true;
      const pause = live && session.hello.layerCount > 0; // a firmware without layers has nothing to read
      try {
        if (pause) await session.sensor(false).catch(() => {});
        await session.whenIdle();
        return await findDivergence(session, rt, { index, seq, inputSeq: live ? null : seq, window, outputs });
      } finally {
        searching = false;
        hold = null;
        release();
        if (pause && !o.signal?.aborted) await session.sensor(true, rate).catch(() => {});
      }
    });
    searches = run.catch(() => {});
    return run;
  };

  const process1 = async (index: number, seq: number, window: Int8Array, outputs: Int32Array, timeUs: number) => {
    const h0 = performance.now();
    const sim = rt.run(window);
    const exact = sim.length === outputs.length && sim.every((v, i) => v === outputs[i]);
    if (exact) bitExact++;
    const y = Float64Array.from(outputs, (v) => v * scale);
    vsSim.add(Float64Array.from(sim, (v) => v * scale), y);
    let floatClass: number | null = null;
    let cosineFloat: number | null = null;
    let maxAbsErrorFloat: number | null = null;
    let floatOut: ArrayLike<number> | null = null;
    if (o.float && vsFloat) {
      const f = await o.float.run(window);
      floatOut = f;
      const c = vsFloat.add(f, y);
      floatClass = c.refClass;
      cosineFloat = c.cosine;
      maxAbsErrorFloat = c.maxAbsError;
    }
    const deviceClass = argmax(outputs);
    const label = labels ? labels[index]! : null;
    if (devAcc && label !== null) devAcc.add(label, deviceClass);
    if (floatAcc && label !== null && floatClass !== null) floatAcc.add(label, floatClass);
    latency.add(timeUs);
    const vsFloatTwin = floatClass !== null && floatClass !== deviceClass;
    const vsLabel = label !== null && label !== deviceClass;
    if (!exact) against.simulator++;
    if (vsFloatTwin) against.floatTwin++;
    if (vsLabel) against.labels++;
    const disagrees = !exact || vsFloatTwin || vsLabel;
    if (disagrees) bad.push({ x: window, y: label ?? floatClass ?? argmax(sim) });
    const ms = performance.now() - h0;
    hostMs += ms;
    const rec: WindowRecord = {
      index, seq, label, deviceClass, simClass: argmax(sim), floatClass, bitExact: exact, cosineFloat, maxAbsErrorFloat,
      deviceTimeUs: timeUs, hostMs: ms, disagrees,
    };
    perWindow.push(rec);
    if (!exact && divergenceSlots < (o.divergenceChecks ?? 3)) {
      divergenceSlots++; // taken before the await: windows in flight are processed concurrently
      divergences.push(await searchLayers(index, seq, window, outputs));
    }
    const f = vsFloat?.summary();
    // The three output vectors (float scale) go to the live view only, not into the stored rows.
    const vectors = { device: Array.from(y), simulator: Array.from(sim, (v) => v * scale), float: floatOut ? Array.from(floatOut) : null };
    o.onWindow?.({ ...rec, outputs: vectors } as WindowRecord, {
      windows: perWindow.length, bitExactRate: bitExact / perWindow.length,
      top1AgreementFloat: f?.top1Agreement ?? null, cosineMean: f?.cosineMean ?? null, sqnrDb: f?.sqnrDb ?? null,
    });
  };

  if (o.source.kind === 'windows') {
    const src = o.source.windows;
    const total = Math.min(o.windows ?? src.length, src.length);
    let next = 0;
    const worker = async () => {
      while (next < total && !o.signal?.aborted && !ended) {
        while (hold) await hold;
        if (next >= total || o.signal?.aborted || ended) break;
        const i = next++;
        const window = src[i]!;
        const r = await session.infer(window).catch((e: Error) => e);
        if (r instanceof Error) {
          const how = linkEnd(r);
          if (how) {
            end(how, r.message);
            break;
          }
          if (!(r instanceof ApiError) || r.code !== 'device-timeout') throw r;
          continue; // lost after every retry: counted by the session
        }
        await process1(i, r.seq, window, r.outputs, r.timeUs);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, o.pipeline ?? 2) }, worker));
  } else {
    const total = o.windows ?? 100;
    let index = 0;
    let chain = Promise.resolve();
    const stallMs = o.sensorStallMs ?? 5000;
    let stopListening = () => {};
    await new Promise<void>((resolve, reject) => {
      let watchdog: NodeJS.Timeout | null = null;
      const finish = (error?: Error) => {
        if (watchdog) clearTimeout(watchdog);
        stopListening();
        const how = error ? linkEnd(error) : null;
        if (error && how) end(how, error.message);
        else if (error instanceof ApiError && error.code === 'device-stalled') end('device-stalled', error.message);
        else if (error) return reject(error);
        resolve();
      };
      // A live device that stops sending (unplugged for good, crashed) must not hang the check.
      const arm = () => {
        if (watchdog) clearTimeout(watchdog);
        watchdog = setTimeout(() => {
          // The sensor is paused for a layer search, or the link is down and being reconnected (it
          // ends the check itself if the port stays gone past the replug window).
          if (searching || session.status !== 'connected') arm();
          else finish(new ApiError('device-stalled', `The device sent no window for ${stallMs} ms (after ${perWindow.length} windows); is it still running in live mode?`));
        }, stallMs);
      };
      o.signal?.addEventListener('abort', () => finish(), { once: true });
      const offSensor = session.onSensor((s) => {
        arm();
        if (index >= total) return;
        const i = index++;
        chain = chain.then(() => process1(i, s.seq, s.window, s.outputs, s.timeUs)).then(() => {
          if (perWindow.length >= total) finish();
        }, finish);
      });
      const offStatus = session.onStatus((st, message) => {
        if (st === 'closed') finish(session.lost ?? new ApiError('device-unplugged', message ?? 'The link to the device closed.'));
        else if (st === 'connected') void session.sensor(true, rate).catch(() => {}); // back after a replug
      });
      stopListening = () => {
        offSensor();
        offStatus();
      };
      arm();
      session.sensor(true, rate).catch(finish);
    });
    await chain.catch(() => {}); // windows already received are compared and kept
    await searches; // a search still running re-enables the sensor when it ends
    // Not while the link is down: the request would wait out the whole replug window.
    if (session.status === 'connected') await session.sensor(false).catch(() => {});
  }
  if (!ended && o.signal?.aborted) end('stopped', 'Stopped before all windows were checked.');

  const n = perWindow.length;
  const planned = o.source.kind === 'windows' ? Math.min(o.windows ?? o.source.windows.length, o.source.windows.length) : o.windows ?? 100;
  const fs1 = vsFloat?.summary() ?? null;
  const ss = vsSim.summary();
  const disagreements: CheckReport['disagreements'] = { count: bad.length, against };
  if (o.saveDir && bad.length > 0) {
    await fs.mkdir(o.saveDir, { recursive: true });
    const x = new Int8Array(bad.length * rt.inputLength);
    bad.forEach((b, i) => x.set(b.x, i * rt.inputLength));
    disagreements.xPath = join(o.saveDir, 'disagreements.x.npy');
    disagreements.yPath = join(o.saveDir, 'disagreements.y.npy');
    await writeAtomic(disagreements.xPath, writeNpy({ dtype: 'int8', shape: [bad.length, ...rt.inputShape], data: x }));
    await writeAtomic(disagreements.yPath, writeNpy({ dtype: 'int64', shape: [bad.length], data: BigInt64Array.from(bad, (b) => BigInt(b.y)) }));
  }
  const rows = devAcc
    ? [
        { name: 'device vs labels', ...pick(devAcc.summary()) },
        { name: 'float twin vs labels', ...(floatAcc ? pick(floatAcc.summary()) : { windows: 0, accuracy: null }) },
        { name: 'device vs float twin', windows: fs1?.windows ?? 0, accuracy: fs1?.top1Agreement ?? null },
      ]
    : null;
  const hello = session.hello;
  const finished = ended as { status: CheckReport['status']; reason: string } | null;
  return {
    status: finished?.status ?? 'complete',
    reason: finished ? `${finished.reason} The check ended after ${n} of ${planned} windows; every figure covers those ${n}.` : null,
    windowsPlanned: planned,
    windows: n,
    bitExactRate: n ? bitExact / n : 0,
    top1AgreementFloat: fs1?.top1Agreement ?? null,
    cosineMean: fs1?.cosineMean ?? null,
    sqnrDb: fs1?.sqnrDb ?? null,
    l2r: fs1?.l2r ?? null,
    rmse: fs1?.rmse ?? null,
    mae: fs1?.mae ?? null,
    maxAbsError: fs1?.maxAbsError ?? null,
    nse: fs1?.nse ?? null,
    framesCorrupted: session.stats.framesCorrupted,
    framesRecovered: session.stats.framesRecovered,
    windowsLost: session.stats.windowsLost,
    device: { id: hello.deviceId, firmware: hello.firmwareId, modelHash: hello.modelHash.toString(16).padStart(8, '0'), modelHashMatches: hello.modelHash === rt.modelHash },
    model: rt.name,
    source: o.source.kind === 'device' ? 'device sensor' : o.source.name,
    input: { raw: o.source.kind === 'windows' && o.source.scaledWith !== undefined, scaling: (o.source.kind === 'windows' ? o.source.scaledWith : undefined) ?? rt.scaling ?? null },
    scaleExp: outputScaleExp(rt),
    float: o.float ? { present: true } : { present: false, note: 'No model.onnx in the artifacts: the float column is absent; device is compared with the simulator only.' },
    vsFloat: fs1,
    vsSimulator: ss,
    rows,
    confusionDeviceVsLabels: devAcc?.summary().confusion ?? null,
    latency: latency.summary(),
    hostMsPerWindow: n ? hostMs / n : 0,
    wallMsPerWindow: n ? (performance.now() - t0) / n : 0,
    link: { ...session.stats },
    divergences,
    disagreements,
    perWindow,
  };
}

function pick(s: { windows: number; accuracy: number | null }): { windows: number; accuracy: number | null } {
  return { windows: s.windows, accuracy: s.accuracy };
}

/** Per-window records as CSV (one header line). */
export function reportCsv(r: CheckReport): string {
  const cols: (keyof WindowRecord)[] = ['index', 'seq', 'label', 'deviceClass', 'simClass', 'floatClass', 'bitExact', 'cosineFloat', 'maxAbsErrorFloat', 'deviceTimeUs', 'hostMs', 'disagrees'];
  const lines = [cols.join(',')];
  for (const w of r.perWindow) lines.push(cols.map((c) => (w[c] === null ? '' : String(w[c]))).join(','));
  return lines.join('\n') + '\n';
}

/** JSON with Infinity written as the string "Infinity" (an exact match has infinite SQNR). */
export function reportJson(r: unknown, space?: number): string {
  return JSON.stringify(r, (_k, v) => (v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v), space);
}
