// The C firmware core (resources/firmware) against the TypeScript codec: shared test vectors both
// ways through gcc-built tools, the host build of the firmware answering DeviceSession over a real
// pty (every layer of its stand-in network, with and without an injected deployment bug, in host
// and live mode), and a compile check of the MSDK-facing file with arm-none-eabi-gcc against MSDK stubs.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIRMWARE_DIR, FIRMWARE_FILES, firmwareModelHeader } from '../../src-main/device/firmware-config.ts';
import { FrameDecoder, encodeFrame, type Frame } from '../../src-main/device/framing.ts';
import { loadRuntime } from '../../src-main/device/model-runtime.ts';
import { createPtyPair } from '../../src-main/device/pty-pair.ts';
import { runLiveCheck } from '../../src-main/device/live-check.ts';
import type { ModelRuntime } from '../../src-main/device/model-runtime.ts';
import * as P from '../../src-main/device/protocol.ts';
import { DeviceSession } from '../../src-main/device/session.ts';
import { standInRuntime } from './stand-in-runtime.ts';
import { rawToCode, scaleRawWindow } from '../../src-main/data/normalize.ts';
import type { InputScaling } from '../../src-main/ir/graph.ts';
import { expectBugFound } from './expect-bug-found.ts';
import { CONFORMANCE } from '../support/fixtures.ts';

const FW = fileURLToPath(new URL('../../resources/firmware/', import.meta.url));
const STUB = fileURLToPath(new URL('./msdk-stub/', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'qatwb-fw-'));
const vec = join(out, 'qw_vectors');
const shim = join(out, 'qw_host');
/** The same firmware built without LAYER_CRC_REQ (the host falls back to dumping layers in order). */
const shimNoCrc = join(out, 'qw_host_nocrc');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const CFLAGS = ['-std=c99', '-O2', '-Wall', '-Wextra', '-Werror'];
/** Values per LAYER_DUMP from the C core: its int32 layer buffer fills one frame. */
const C_CHUNK_VALUES = Math.floor((16384 - 16) / 4);

beforeAll(() => {
  execFileSync('gcc', [...CFLAGS, join(FW, 'qatwb_frame.c'), join(FW, 'qatwb_scaling.c'), join(FW, 'qw_vectors.c'), '-o', vec]);
  const core = [join(FW, 'qatwb_frame.c'), join(FW, 'qatwb_device.c'), join(FW, 'qatwb_scaling.c'), join(FW, 'hal_host.c')];
  execFileSync('gcc', [...CFLAGS, ...core, '-o', shim]);
  execFileSync('gcc', [...CFLAGS, '-DQW_NO_LAYER_CRC', ...core, '-o', shimNoCrc]);
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function randomFrame(r: () => number, seq: number): Frame {
  const payload = new Uint8Array(Math.floor(r() * 600)).map(() => Math.floor(r() * 256));
  return { type: Math.floor(r() * 256), seq, payload };
}

describe('C framing vs TypeScript framing', () => {
  it('encodes every frame to the same bytes', () => {
    const r = rng(3);
    const frames = Array.from({ length: 200 }, (_, i) => randomFrame(r, (i * 331) & 0xffff));
    frames.push({ type: 0x02, seq: 0xffff, payload: new Uint8Array(0) });
    const input = frames.map((f) => `E ${f.type} ${f.seq} ${hex(f.payload)}`).join('\n') + '\n';
    const lines = execFileSync(vec, { input, encoding: 'utf8' }).trim().split('\n');
    expect(lines.length).toBe(frames.length);
    frames.forEach((f, i) => expect(lines[i]).toBe(hex(encodeFrame(f))));
  });

  it('decodes damaged streams exactly as the TypeScript decoder (frames, NAK seqs, counters)', () => {
    const r = rng(11);
    const cases: { chunk: number; stream: Uint8Array }[] = [];
    for (let c = 0; c < 20; c++) {
      const parts: Uint8Array[] = [];
      for (let i = 0; i < 60; i++) {
        let b = encodeFrame(randomFrame(r, c * 100 + i));
        const roll = r();
        if (roll < 0.1) { b = b.slice(); b[Math.floor(r() * b.length)]! ^= 1 << Math.floor(r() * 8); }
        else if (roll < 0.2) { const at = Math.floor(r() * b.length); b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]); }
        else if (roll < 0.3) parts.push(new Uint8Array(1 + Math.floor(r() * 30)).map(() => Math.floor(r() * 256)));
        parts.push(b);
      }
      cases.push({ chunk: 1 + Math.floor(r() * 700), stream: Buffer.concat(parts) });
    }
    const input = cases.map((k) => `D ${k.chunk} ${hex(k.stream)}`).join('\n') + '\n';
    const got = execFileSync(vec, { input, encoding: 'utf8', maxBuffer: 64 << 20 }).trim().split('\n');
    const want: string[] = [];
    for (const k of cases) {
      const events: string[] = [];
      const d = new FrameDecoder(({ type, seq }) => events.push(`C ${type} ${seq}`));
      for (let p = 0; p < k.stream.length; p += k.chunk) {
        for (const f of d.push(k.stream.subarray(p, p + k.chunk))) events.push(`F ${f.type} ${f.seq} ${hex(f.payload)}`);
      }
      const s = d.stats;
      want.push(...events, `S ${s.frames} ${s.corruptFrames} ${s.corruptPayloads} ${s.garbageBytes} ${s.resyncs}`);
    }
    // Within one push the TS decoder returns frames after reporting corrupt ones, while the C
    // decoder calls back inline; compare each kind of event in its own order.
    const kind = (lines: string[], k: string) => lines.filter((l) => l.startsWith(k));
    for (const k of ['F ', 'C ', 'S ']) expect(kind(got, k)).toEqual(kind(want, k));
    expect(got.length).toBe(want.length);
    expect(want.some((l) => l.startsWith('C '))).toBe(true);
  });
});

/** qatwb_scaling.h's kind numbers. */
const C_KIND: Record<InputScaling['kind'], number> = { unit: 1, minmax: 2, range: 3, int8: 4 };
const f32hex = (v: number) => { const b = Buffer.alloc(4); b.writeFloatBE(v); return b.toString('hex'); };
const f64hex = (v: number) => { const b = Buffer.alloc(8); b.writeDoubleBE(v); return b.toString('hex'); };

describe('C input scaling vs TypeScript input scaling', () => {
  it('gives the same int8 code for every shared vector: ties, clamps, boundaries, NaN, infinities, random values', () => {
    const r = rng(21);
    const scalings: InputScaling[] = [
      { kind: 'unit', min: 0, max: 1 },
      { kind: 'int8', min: -128, max: 127 },
      { kind: 'minmax', min: Math.fround(-1.25), max: Math.fround(2.45) },
      { kind: 'minmax', min: -32768, max: 32767 },
      { kind: 'range', min: 0.1, max: 0.30000000000000004 },
      { kind: 'range', min: -9.80665 * 4, max: 9.80665 * 4 },
    ];
    const special = [0, -0, 1, -1, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 127.5, -128.5, 127.49999, -128.49998, 1e-40, -1e-40, 3.4e38, -3.4e38, Infinity, -Infinity, NaN];
    const lines: string[] = [];
    const want: number[][] = [];
    for (const s of scalings) {
      const values: number[] = [...special, s.min, s.max, Math.fround(s.min) - 1e-3, Math.fround(s.max) + 1e-3];
      // Exact ties of (u − 0.5)·256 at half a code: round-half-even decides them.
      for (let k = -128; k < 128; k++) values.push(s.min + ((k + 0.5) / 256 + 0.5) * (s.max - s.min), s.min + ((k + 128) / 256) * (s.max - s.min));
      for (let i = 0; i < 2000; i++) values.push(s.min - 0.2 * (s.max - s.min) + r() * 1.4 * (s.max - s.min));
      const f32 = values.map((v) => Math.fround(v));
      lines.push(`Q ${C_KIND[s.kind]} ${f64hex(s.min)} ${f64hex(s.max)} ${f32.map(f32hex).join(' ')}`);
      want.push(f32.map((v) => rawToCode(v, s) | 0)); // -0 and 0 are the same code
    }
    const got = execFileSync(vec, { input: lines.join('\n') + '\n', encoding: 'utf8', maxBuffer: 16 << 20 }).trim().split('\n').map((l) => l.split(' ').map(Number));
    expect(got.length).toBe(scalings.length);
    scalings.forEach((s, i) => expect(got[i], `${s.kind} [${s.min}, ${s.max}]`).toEqual(want[i]));
    // The vectors reach every code and both clamps, and exercise real ties (not only easy values).
    expect(new Set(want[2]).size).toBe(256);
    // Unit scaling, ties k + 0.5 for k = −128..126 (127.5 clamps to 127): each rounds to the even code.
    const ties = want[0]!.slice(special.length + 4, special.length + 4 + 510).filter((_, j) => j % 2 === 0);
    expect(ties).toEqual(Array.from({ length: 255 }, (_, i) => { const k = i - 128; return k % 2 === 0 ? k : k + 1; }));
  });

  it('the generated model header states the scaling and the MSDK build carries its constants', async () => {
    const rt = await loadRuntime(`${CONFORMANCE}/mnist-extrasmall`);
    const scaling: InputScaling = { kind: 'minmax', min: Math.fround(-1.25), max: Math.fround(2.45) };
    const header = firmwareModelHeader({ ...rt, scaling });
    expect(header).toContain(`#define QW_INPUT_SCALING_KIND QW_SCALING_MINMAX\n#define QW_INPUT_SCALING_MIN -1.25\n#define QW_INPUT_SCALING_MAX ${Math.fround(2.45)}\n`);
    expect(header).toMatch(/round-half-even\(\(u - 0\.5\) \* 256\)/);
    expect(firmwareModelHeader(rt)).toContain('#define QW_INPUT_SCALING_KIND QW_SCALING_NONE'); // model.json records none
    const inc = mkdtempSync(join(out, 'scaled-'));
    writeFileSync(join(inc, 'qatwb_model.h'), header);
    const o = join(inc, 'hal_msdk.o');
    execFileSync('arm-none-eabi-gcc', ['-mcpu=cortex-m4', '-mthumb', ...CFLAGS, '-DQW_HAVE_MODEL_H', '-I', inc, '-I', STUB, '-c', join(FW, 'hal_msdk.c'), '-o', o]);
    const obj = readFileSync(o);
    for (const v of [scaling.min, scaling.max]) {
      const b = Buffer.alloc(8);
      b.writeDoubleLE(v);
      expect(obj.includes(b), `${v} in qw_input_scaling`).toBe(true);
    }
  });
});

/** The host build of the firmware on a fresh pty pair; `args` go to qw_host (e.g. --bug-layer 2). */
async function withFirmware<T>(args: string[], body: (s: DeviceSession) => Promise<T>, bin = shim): Promise<T> {
  const pair = await createPtyPair();
  const fw = spawn(bin, [...args, pair.devicePath], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve) => fw.stderr!.once('data', () => resolve()));
  const s = await DeviceSession.open({ path: pair.hostPath });
  try {
    return await body(s);
  } finally {
    await s.close();
    fw.kill('SIGTERM');
    await pair.close();
  }
}

const randomWindows = (n: number, seed: number) => {
  const r = rng(seed);
  return Array.from({ length: n }, () => new Int8Array(784).map(() => Math.floor(r() * 256) - 128));
};

describe('firmware core (host build) over a real pty', () => {
  it('answers HELLO, INPUT, LAYER_CRC_REQ, LAYER_REQ and streams SENSOR windows; the host checks every value', async () => {
    const rt = standInRuntime();
    await withFirmware([], async (s) => {
      expect(s.hello).toMatchObject({ deviceId: 'host-shim', modelHash: 0x5eed, inputShape: [1, 28, 28], outputCount: 10, outputBits: 32, layerCount: 4 });
      const windows = randomWindows(300, 5);
      let last = 0;
      for (const w of windows) {
        const res = await s.infer(w);
        expect(Array.from(res.outputs)).toEqual(Array.from(rt.run(w)));
        last = res.seq;
      }
      // Every layer of the last window: CRC table, and the dump (the wide one in several chunks).
      const ref = rt.runLayers(windows[299]!).layers;
      const crcs = await s.layerCrcs(last);
      expect(crcs.layers).toEqual(ref.map((l) => ({ total: l.data.length, elemBytes: l.elemBytes, crc: P.layerCrc(l.data, l.elemBytes) })));
      for (const [l, layer] of ref.entries()) {
        let chunks = 0;
        const dump = await s.layerDump(last, l, { total: layer.data.length, elemBytes: layer.elemBytes }, { onChunk: () => chunks++ });
        expect(Array.from(dump.data)).toEqual(Array.from(layer.data));
        expect(chunks).toBe(Math.ceil(layer.data.length / C_CHUNK_VALUES));
      }
      // Only the last window's layers are kept: an older one is refused as stale, not answered wrongly.
      await expect(s.layerCrcs(last - 1)).rejects.toThrow(/only the last window's layers are kept \(device error 6\)/);
      const seen: { window: Int8Array; outputs: Int32Array }[] = [];
      s.onSensor((x) => seen.push(x));
      await s.sensor(true, 500);
      await new Promise((res) => setTimeout(res, 200));
      await s.sensor(false);
      expect(seen.length).toBeGreaterThan(3);
      for (const x of seen) expect(Array.from(x.outputs)).toEqual(Array.from(rt.run(x.window)));
      // A capture replaces the CNN's layers: the last INPUT's are no longer offered.
      await expect(s.layerCrcs(last)).rejects.toThrow(/device error 6/);
      // A wrong-sized window gets a clear device error, not silence.
      await expect(s.infer(new Int8Array(10))).rejects.toThrow(/INPUT length does not match/);
      expect(s.stats.windowsLost).toBe(0);
    });
  }, 30_000);

  // The firmware keeps only its last window, and the host keeps two in flight: the search finds
  // the window gone, sends it again alone and reads that resend's layers.
  const bound = (rt: ModelRuntime, l: number) => {
    const layer = rt.runLayers(new Int8Array(784)).layers[l]!;
    return 2 + Math.ceil(layer.data.length / C_CHUNK_VALUES);
  };
  for (const mode of ['host windows', 'live windows'] as const) {
    it.each([0, 1, 2, 3])(`${mode}: a bug injected at layer %i is reported at that layer`, async (bug) => {
      const rt = standInRuntime();
      const windows = randomWindows(6, 40 + bug);
      const report = await withFirmware(['--bug-layer', String(bug)], (session) => runLiveCheck({
        session, runtime: rt, windows: 6, divergenceChecks: 2,
        source: mode === 'host windows' ? { kind: 'windows', windows, name: 'random' } : { kind: 'device', rateHz: 200 },
      }));
      expect(report.windows).toBe(6);
      // The firmware flips every value's low bit.
      const divergences = expectBugFound(report, { layer: bug, name: rt.layerNames[bug]!, values: rt.runLayers(windows[0]!).layers[bug]!.data.length, divergences: 2 });
      for (const d of divergences) {
        expect(d.search.requests).toBeLessThanOrEqual(bound(rt, bug));
        if (mode === 'live windows') expect(d.search.resent).toBe(true);
      }
    }, 30_000);
  }

  it('a sensor that reads raw values: the firmware scales them to exactly the codes the workbench computes', async () => {
    const rt = standInRuntime();
    const scaling: InputScaling = { kind: 'range', min: -100, max: 269.63 };
    // hal_host.c's raw sensor: value k of capture f is ((k·31 + f·17) mod 1000)·0.37 − 100, in float.
    const raw = (f: number) => Array.from({ length: 784 }, (_, k) => Math.fround(Math.fround(((k * 31 + f * 17) % 1000) * Math.fround(0.37)) - 100));
    await withFirmware(['--raw-sensor', `${C_KIND[scaling.kind]},${scaling.min},${scaling.max}`], async (s) => {
      const seen: { seq: number; window: Int8Array; outputs: Int32Array }[] = [];
      s.onSensor((x) => seen.push(x));
      await s.sensor(true, 500);
      await new Promise((res) => setTimeout(res, 200));
      await s.sensor(false);
      expect(seen.length).toBeGreaterThan(3);
      for (const x of seen) {
        expect(Array.from(x.window), `capture ${x.seq}`).toEqual(Array.from(scaleRawWindow(raw(x.seq), scaling)));
        expect(Array.from(x.outputs)).toEqual(Array.from(rt.run(x.window)));
      }
      // The values span the range and beyond, so codes at both clamps and in between occur.
      const codes = new Set(seen.flatMap((x) => Array.from(x.window)));
      expect(codes.has(-128) && codes.has(127) && codes.size > 200).toBe(true);
    });
  }, 30_000);

  it('without LAYER_CRC_REQ the host dumps the layers in order and still names the layer', async () => {
    const rt = standInRuntime();
    const report = await withFirmware(['--bug-layer', '2'], (session) => runLiveCheck({
      session, runtime: rt, windows: 3, divergenceChecks: 1, source: { kind: 'windows', windows: randomWindows(3, 9), name: 'random' },
    }), shimNoCrc);
    const [d] = report.divergences;
    expect(d!.status).toBe('found');
    expect(d!.layer).toBe(2);
    expect(d!.search.method).toBe('layer-dumps');
    const sizes = rt.runLayers(new Int8Array(784)).layers.map((l) => l.data.length * l.elemBytes);
    expect(d!.search.bytesDumped).toBe(sizes[0]! + sizes[1]! + sizes[2]!);
    expect(d!.note).toMatch(/3 layer\(s\) dumped in order/);
  }, 30_000);
});

describe('MSDK-facing firmware', () => {
  it.each(['mnist-extrasmall', 'ecg1d-mixed'])('compiles with the model header generated from real artifacts (%s)', async (fixture) => {
    const rt = await loadRuntime(`${CONFORMANCE}/${fixture}`);
    const header = firmwareModelHeader(rt);
    expect(header).toContain(`#define QW_MODEL_HASH 0x${rt.modelHash.toString(16).padStart(8, '0')}u`);
    const [c, h, w] = rt.inputShape.length === 2 ? [...rt.inputShape, 1] : rt.inputShape;
    expect(header).toContain(`#define QW_INPUT_C ${c}\n#define QW_INPUT_H ${h}\n#define QW_INPUT_W ${w}\n#define QW_INPUT_FORMAT_${rt.model.input.format} 1`);
    const inc = mkdtempSync(join(out, 'model-'));
    writeFileSync(join(inc, 'qatwb_model.h'), header);
    const o = join(inc, 'hal_msdk.o');
    execFileSync('arm-none-eabi-gcc', ['-mcpu=cortex-m4', '-mthumb', ...CFLAGS, '-DQW_HAVE_MODEL_H', '-I', inc, '-I', STUB, '-c', join(FW, 'hal_msdk.c'), '-o', o]);
    // The hash the firmware will report in HELLO is in the object's read-only data.
    const hash = Buffer.alloc(4);
    hash.writeUInt32LE(rt.modelHash);
    expect(readFileSync(o).includes(hash)).toBe(true);
    for (const f of FIRMWARE_FILES) expect(existsSync(join(FIRMWARE_DIR, f))).toBe(true);
  });

  it('compiles for the Cortex-M4 of the MAX78002 (arm-none-eabi-gcc, MSDK header stubs)', () => {
    const flags = ['-mcpu=cortex-m4', '-mthumb', '-mfloat-abi=hard', '-mfpu=fpv4-sp-d16', ...CFLAGS, '-I', STUB, '-c'];
    for (const f of ['hal_msdk.c', 'qatwb_device.c', 'qatwb_frame.c', 'qatwb_scaling.c']) {
      const o = join(out, f.replace('.c', '.o'));
      execFileSync('arm-none-eabi-gcc', [...flags, join(FW, f), '-o', o]);
      expect(execFileSync('arm-none-eabi-readelf', ['-h', o], { encoding: 'utf8' })).toMatch(/Machine:\s+ARM/);
    }
  });
});
