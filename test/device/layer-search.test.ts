// The first-divergent-layer search against the virtual MAX78002 on real ptys: for every layer of
// every network we have (the three conformance fixtures: 2-D and 1-D, 8/4/2-bit, wide outputs; and
// an exported network with 1/2/4-bit layers, pooling-only layers and a 100-wide last layer), a
// deployment bug injected at that layer must be reported at that layer, in host mode and in live
// mode, within a bounded number of layer requests. And a search that fails keeps the report.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLiveCheck } from '../../src-main/device/live-check.ts';
import { loadRuntime, type ModelRuntime } from '../../src-main/device/model-runtime.ts';
import { mnistWindows } from '../../src-main/device/sensor-source.ts';
import { DeviceSession, LAYER_CHUNK_BYTES } from '../../src-main/device/session.ts';
import { VirtualDevice } from '../../src-main/device/virtual-device.ts';
import { conformance } from '../support/fixtures.ts';
import { writePoolWideExport } from './pool-wide-network.ts';
import { expectBugFound } from './expect-bug-found.ts';

const BAUD = 4000000; // the pacing and the protocol are the same as at 921,600; the test is shorter
const tmp = mkdtempSync(join(tmpdir(), 'qatwb-layers-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Net { name: string; rt: ModelRuntime; windows: Int8Array[] }
const nets: Net[] = [];

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

beforeAll(async () => {
  const mnist = (await mnistWindows()).windows.slice(0, 8);
  const poolWide = join(tmp, 'pool-wide');
  await writePoolWideExport(poolWide, mnist[0]!);
  for (const [name, dir] of [['mnist-qat8', conformance('mnist-qat8')], ['mnist-extrasmall', conformance('mnist-extrasmall')], ['ecg1d-mixed', conformance('ecg1d-mixed')], ['pool-wide', poolWide]] as const) {
    const rt = await loadRuntime(dir);
    const r = rng(7);
    // 1-D ECG windows: the fixture's sample, then seeded noise of the same length.
    const windows = rt.inputLength === 784 ? mnist : [rt.sample!, ...Array.from({ length: 7 }, () => new Int8Array(rt.inputLength).map(() => Math.floor(r() * 256) - 128))];
    nets.push({ name, rt, windows });
  }
}, 60_000);

async function check(net: Net, mode: 'host' | 'live', device: Partial<ConstructorParameters<typeof VirtualDevice>[0]>, session: { replyTimeoutMs?: number; retries?: number } = {}) {
  const vd = new VirtualDevice({ runtime: net.rt, baud: BAUD, sensorWindows: net.windows, sensorRateHz: 100, ...device });
  const s = await DeviceSession.open({ path: await vd.start(), baud: BAUD, ...session });
  try {
    return await runLiveCheck({
      session: s, runtime: net.rt, windows: 4, divergenceChecks: 2,
      source: mode === 'host' ? { kind: 'windows', windows: net.windows, name: 'test windows' } : { kind: 'device', rateHz: 100 },
    });
  } finally {
    await s.close();
    await vd.stop();
  }
}

const cases: [string, number][] = [
  ['mnist-qat8', 5], ['mnist-extrasmall', 4], ['ecg1d-mixed', 5], ['pool-wide', 6],
];

describe('the networks under test', () => {
  it('cover 1-D and 2-D, 8/4/2/1-bit layers, pooling-only layers and wide last layers', () => {
    const layers = nets.flatMap((n) => n.rt.model.layers);
    expect(nets.map((n) => [n.name, n.rt.layerNames.length])).toEqual(cases);
    expect(new Set(layers.filter((l) => l.params).map((l) => l.weightBits))).toEqual(new Set([1, 2, 4, 8]));
    expect(layers.filter((l) => l.op === 'passthrough' && l.pool).length).toBe(2);
    expect(nets.map((n) => n.rt.outputBits)).toEqual([32, 32, 32, 32]);
    expect(nets.find((n) => n.name === 'pool-wide')!.rt.outputCount).toBe(100);
    expect(nets.find((n) => n.name === 'ecg1d-mixed')!.rt.inputShape).toEqual([1, 512]);
  });
});

for (const [name, layerCount] of cases) {
  for (const mode of ['host', 'live'] as const) {
    describe(`${name}, ${mode === 'host' ? 'windows the host sends' : 'windows the device captures (live)'}`, () => {
      it.each(Array.from({ length: layerCount }, (_, i) => i))('a bug injected at layer %i is reported there', async (bug) => {
        const net = nets.find((n) => n.name === name)!;
        const report = await check(net, mode, { bugLayer: bug });
        const ref = net.rt.runLayers(net.windows[0]!).layers[bug]!;
        const layerBytes = ref.data.length * ref.elemBytes;
        expect(report.windows).toBe(4);
        const divergences = expectBugFound(report, { layer: bug, name: net.rt.layerNames[bug]!, values: ref.data.length, divergences: 2 });
        for (const d of divergences) {
          // One CRC table, then only the divergent layer, in as few chunks as frames allow.
          expect(d.search.layersCompared).toBe(bug + 1);
          expect(d.search.requests).toBe(1 + Math.ceil(layerBytes / LAYER_CHUNK_BYTES));
          expect(d.search.bytesDumped).toBe(layerBytes);
          expect(d.search.resent).toBe(mode === 'live');
          expect(d.note).toMatch(new RegExp(`Found from window #${d.window} \\(${mode === 'live' ? 'sent again as ' : ''}INPUT #${d.search.seq}\\)`));
        }
        expect(report.link.timeouts).toBe(0);
      }, 30_000);
    });
  }
}

describe('on a noisy line', () => {
  it.each(['host', 'live'] as const)('%s mode, 10 percent of frames damaged: every search still names the layer, nothing lost', async (mode) => {
    const net = nets[0]!;
    const vd = new VirtualDevice({ runtime: net.rt, baud: BAUD, sensorWindows: net.windows, sensorRateHz: 50, bugLayer: 0, faultRate: 0.1, seed: 99 });
    const s = await DeviceSession.open({ path: await vd.start(), baud: BAUD });
    try {
      // Layer 0 is the largest (47 kB, 3 LAYER_DUMP chunks per search): the most frames to damage.
      const report = await runLiveCheck({
        session: s, runtime: net.rt, windows: 8, divergenceChecks: 8,
        source: mode === 'host' ? { kind: 'windows', windows: net.windows, name: 'test windows' } : { kind: 'device', rateHz: 50 },
      });
      expect(report.windows).toBe(8);
      expect(report.divergences.length).toBe(8);
      for (const d of report.divergences) expect([d.status, d.layer], d.note).toEqual(['found', 0]);
      expect(report.link.windowsLost).toBe(0);
      const out = vd.stats.injectedOut;
      expect(out.corrupt + out.drop + out.garbage).toBeGreaterThan(0);
    } finally {
      await s.close();
      await vd.stop();
    }
  }, 60_000);
});

describe('without a bug', () => {
  it.each(['host', 'live'] as const)('%s mode: bit-exact, no search', async (mode) => {
    const report = await check(nets[3]!, mode, {});
    expect(report.bitExactRate).toBe(1);
    expect(report.divergences).toEqual([]);
  }, 30_000);
});

describe('a search that fails', () => {
  it.each(['host', 'live'] as const)('%s mode: keeps every window compared and says why the search failed', async (mode) => {
    const net = nets[0]!;
    const report = await check(net, mode, { bugLayer: 1, ignoreLayerRequests: true }, { replyTimeoutMs: 100, retries: 1 });
    expect(report.windows).toBe(4);
    expect(report.perWindow.length).toBe(4);
    expect(report.bitExactRate).toBe(0);
    expect(report.vsSimulator.windows).toBe(4);
    expect(report.divergences.length).toBe(2);
    for (const d of report.divergences) {
      expect(d.status).toBe('failed');
      expect(d.layer).toBeNull();
      expect(d.note).toMatch(/^The layer search for window #\d+ failed after 1 layer request\(s\): the device stopped answering layer requests \(No LAYER_CRCS for LAYER_CRC_REQ #\d+ after 2 attempt\(s\)\)\. The windows already compared are kept in this report\.$/);
    }
    // The link itself lost nothing: only the layer requests went unanswered.
    expect(report.link.windowsLost).toBe(0);
  }, 30_000);

  it('a device whose LAYER_DUMP claims another layer size: refused at the first chunk, the report stays', async () => {
    const report = await check(nets[0]!, 'host', { bugLayer: 1, layerTotal: 0xffffffff });
    expect(report.windows).toBe(4);
    for (const d of report.divergences) {
      expect(d.status).toBe('failed');
      expect(d.note).toMatch(/failed after 2 layer request\(s\): the device's layer data does not fit the model \(LAYER_DUMP of layer 1: the device reports 4294967295 elements, expected 15360;/);
    }
  }, 30_000);
});
