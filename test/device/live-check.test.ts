// The live check against an in-process virtual MAX78002 on a real pty pair, running the
// mnist-extrasmall conformance model: host windows with labels, live sensor windows, a device
// with a deployment bug (first divergent layer), the disagreement dataset and the exports.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeOnnx } from '../../src-main/formats/onnx.ts';
import { readNpy } from '../../src-main/formats/npy.ts';
import { runCheckJob } from '../../src-main/device/check-job.ts';
import { floatParamsFromInteger } from './float-from-integer.ts';
import { reportCsv, reportJson, runLiveCheck } from '../../src-main/device/live-check.ts';
import { Comparison } from '../../src-main/device/metrics.ts';
import { loadRuntime, type ModelRuntime } from '../../src-main/device/model-runtime.ts';
import { mnistWindows, type WindowSet } from '../../src-main/device/sensor-source.ts';
import { DeviceSession } from '../../src-main/device/session.ts';
import { VirtualDevice } from '../../src-main/device/virtual-device.ts';
import { CONFORMANCE } from '../support/fixtures.ts';

let rt: ModelRuntime;
let mnist: WindowSet;
const tmp = mkdtempSync(join(tmpdir(), 'qatwb-check-'));

beforeAll(async () => {
  rt = await loadRuntime(join(CONFORMANCE, 'mnist-extrasmall'));
  mnist = await mnistWindows();
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function withDevice<T>(opts: Partial<ConstructorParameters<typeof VirtualDevice>[0]>, body: (s: DeviceSession) => Promise<T>): Promise<T> {
  const vd = new VirtualDevice({ runtime: rt, baud: 4000000, ...opts });
  const path = await vd.start();
  const s = await DeviceSession.open({ path, baud: 4000000 });
  try {
    return await body(s);
  } finally {
    await s.close();
    await vd.stop();
  }
}

describe('live check', () => {
  it('host windows with labels: bit-exact, three rows, disagreements saved as a dataset, CSV/JSON', async () => {
    const saveDir = join(tmp, 'save');
    const seen: number[] = [];
    const report = await withDevice({}, (session) => runLiveCheck({
      session, runtime: rt, windows: 200, saveDir,
      source: { kind: 'windows', windows: mnist.windows, labels: mnist.labels!, name: 'mnist' },
      onWindow: (w) => seen.push(w.index),
    }));
    expect(report.windows).toBe(200);
    expect(seen.length).toBe(200);
    expect(report.bitExactRate).toBe(1);
    expect(report.vsSimulator.sqnrDb).toBe(Infinity);
    expect(report.float.present).toBe(false);
    expect(report.top1AgreementFloat).toBeNull();
    const rows = report.rows!;
    expect(rows.map((r) => r.name)).toEqual(['device vs labels', 'float twin vs labels', 'device vs float twin']);
    expect(rows[0]!.accuracy!).toBeGreaterThan(0.85);
    // The saved dataset is exactly the windows whose device class differs from the label.
    const wrong = report.perWindow.filter((w) => w.deviceClass !== w.label);
    expect(report.disagreements.count).toBe(wrong.length);
    // No float twin here, and the device is the simulator: every saved window disagrees with its label.
    expect(report.disagreements.against).toEqual({ simulator: 0, floatTwin: 0, labels: wrong.length });
    const x = readNpy(readFileSync(report.disagreements.xPath!));
    const y = readNpy(readFileSync(report.disagreements.yPath!));
    expect(x.shape).toEqual([wrong.length, 1, 28, 28]);
    expect(x.dtype).toBe('int8');
    const sorted = [...wrong].sort((a, b) => a.index - b.index);
    const ys = Array.from(y.data as BigInt64Array, Number).sort();
    expect(ys).toEqual(sorted.map((w) => w.label).sort());
    const firstSaved = (x.data as Int8Array).subarray(0, 784);
    expect(wrong.some((w) => mnist.windows[w.index]!.every((v, i) => v === firstSaved[i]))).toBe(true);
    const csv = reportCsv(report).trim().split('\n');
    expect(csv.length).toBe(201);
    expect(csv[0]).toMatch(/^index,seq,label,deviceClass/);
    expect(JSON.parse(reportJson(report)).vsSimulator.sqnrDb).toBe('Infinity');
  }, 60_000);

  it('live mode: windows the device captured itself, checked against the simulator', async () => {
    const report = await withDevice({ sensorWindows: mnist.windows.slice(0, 50), sensorRateHz: 200 }, (session) =>
      runLiveCheck({ session, runtime: rt, windows: 40, source: { kind: 'device' } }));
    expect(report.windows).toBe(40);
    expect(report.source).toBe('device sensor');
    expect(report.bitExactRate).toBe(1);
    expect(report.rows).toBeNull();
    expect(report.latency.meanUs).toBeGreaterThan(0);
  }, 60_000);

  it('device ≠ simulator: names the first divergent layer (every layer of every network: layer-search.test.ts)', async () => {
    const report = await withDevice({ bugLayer: 2 }, (session) => runLiveCheck({
      session, runtime: rt, windows: 5, source: { kind: 'windows', windows: mnist.windows, name: 'mnist' },
    }));
    expect(report.bitExactRate).toBe(0);
    expect(report.divergences.length).toBe(3);
    for (const d of report.divergences) {
      expect(d.layer).toBe(2);
      expect(d.name).toBe('conv3');
      expect(d.mismatches).toBe(128);
      expect(d.firstIndex).toBe(0);
    }
  }, 60_000);
});

describe('a device that lies about a layer\'s size', () => {
  it('LAYER_DUMP total = 0xFFFFFFFF is refused at the first chunk, nothing allocated', async () => {
    const err = await withDevice({ layerTotal: 0xffffffff, bugLayer: 0 }, async (session) => {
      const r = await session.infer(mnist.windows[0]!);
      const t0 = Date.now();
      const e = await session.layerDump(r.seq, 0, { total: rt.runLayers(mnist.windows[0]!).layers[0]!.data.length }).then(() => null, (x: unknown) => x);
      expect(Date.now() - t0).toBeLessThan(2000);
      // Without the expected size the absolute ceiling still holds.
      const e2 = await session.layerDump(r.seq, 0).then(() => null, (x: unknown) => x);
      expect((e2 as Error).message).toMatch(/reports 4294967295 elements, expected at most 2097152/);
      return e;
    });
    expect(err).toMatchObject({ code: 'device' });
    expect((err as Error).message).toMatch(/^LAYER_DUMP of layer 0: the device reports 4294967295 elements, expected \d+;/);
  }, 30_000);
});

describe('live check with a float model (ONNX Runtime)', () => {
  it('puts device, simulator and float on one scale (Q17.14) and fills the three rows', async () => {
    // The fixture has no model.onnx: give it a float model equivalent to its integer weights.
    const dir = join(tmp, 'artifacts');
    mkdirSync(dir, { recursive: true });
    for (const f of ['checkpoint.pth.tar', 'network.yaml', 'sample.input.npy']) copyFileSync(`${CONFORMANCE}/mnist-extrasmall/${f}`, join(dir, f));
    writeFileSync(join(dir, 'model.onnx'), writeOnnx(rt.model, floatParamsFromInteger(rt.model)));
    const vd = new VirtualDevice({ runtime: rt, baud: 4000000 });
    const port = await vd.start();
    try {
      const r = await runCheckJob({ port, baud: 4000000, artifacts: dir, source: 'mnist', windows: 300 });
      expect(r.float.present).toBe(true);
      expect(r.bitExactRate).toBe(1);
      expect(r.scaleExp).toBe(-14);
      expect(r.top1AgreementFloat!).toBeGreaterThan(0.95);
      expect(r.cosineMean!).toBeGreaterThan(0.99);
      // Cosine ignores scale; L2R and SQNR do not: a wrong output scale would fail these.
      expect(r.l2r!).toBeLessThan(0.1);
      expect(r.sqnrDb!).toBeGreaterThan(20);
      expect(r.sqnrDb!).not.toBe(Infinity); // the float model really differs (rounding, clamping)
      expect(r.nse!).toBeGreaterThan(0.99);
      expect(r.vsFloat!.confusion.flat().reduce((a, b) => a + b, 0)).toBe(300);
      const [dev, flt, agree] = r.rows!;
      expect(dev!.accuracy!).toBeGreaterThan(0.85);
      expect(Math.abs(flt!.accuracy! - dev!.accuracy!)).toBeLessThan(0.05);
      expect(agree!.accuracy).toBe(r.top1AgreementFloat);
    } finally {
      await vd.stop();
    }
  }, 60_000);
});

describe('metrics', () => {
  it('match hand-computed values', () => {
    const c = new Comparison(3);
    c.add([1, 2, 3], [1, 2, 2]); // e = (0,0,1)
    c.add([3, 0, 0], [2, 0, 1]); // e = (1,0,-1)
    const s = c.summary();
    expect(s.windows).toBe(2);
    expect(s.top1Agreement).toBe(0.5); // window 1: argmax 2 vs 1
    const sumR2 = 14 + 9;
    const sumE2 = 1 + 2;
    expect(s.l2r).toBeCloseTo(Math.sqrt(sumE2 / sumR2), 12);
    expect(s.sqnrDb).toBeCloseTo(10 * Math.log10(sumR2 / sumE2), 12);
    expect(s.rmse).toBeCloseTo(Math.sqrt(3 / 6), 12);
    expect(s.mae).toBeCloseTo(3 / 6, 12);
    expect(s.maxAbsError).toBe(1);
    const mean = 9 / 6;
    const ss = [1, 2, 3, 3, 0, 0].reduce((a, r) => a + (r - mean) ** 2, 0);
    expect(s.nse).toBeCloseTo(1 - sumE2 / ss, 12);
    const cos1 = (1 + 4 + 6) / Math.sqrt(14 * 9);
    const cos2 = 6 / Math.sqrt(9 * 5);
    expect(s.cosineMean).toBeCloseTo((cos1 + cos2) / 2, 12);
    expect(s.confusion[2]![1]).toBe(1);
    expect(s.confusion[0]![0]).toBe(1);
  });
});
