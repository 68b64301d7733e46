// Framing and message codecs: round trips, resynchronisation after garbage, corrupt-frame counting.
import { describe, expect, it } from 'vitest';
import { FrameDecoder, crc32, crc8, encodeFrame, type Frame } from '../../src-main/device/framing.ts';
import * as P from '../../src-main/device/protocol.ts';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

function randomFrames(n: number, r: () => number): Frame[] {
  return Array.from({ length: n }, (_, i) => {
    const payload = new Uint8Array(Math.floor(r() * 900));
    for (let k = 0; k < payload.length; k++) payload[k] = Math.floor(r() * 256);
    return { type: Math.floor(r() * 256), seq: i & 0xffff, payload };
  });
}

describe('CRCs', () => {
  it('match the published check values', () => {
    const check = new TextEncoder().encode('123456789');
    expect(crc32(check)).toBe(0xcbf43926);
    expect(crc8(check)).toBe(0xf4);
  });
});

describe('FrameDecoder', () => {
  it('returns every frame, whatever the chunking', () => {
    const r = rng(1);
    const frames = randomFrames(300, r);
    const stream = Buffer.concat(frames.map((f) => encodeFrame(f)));
    const dec = new FrameDecoder();
    const got: Frame[] = [];
    for (let p = 0; p < stream.length; ) {
      const n = 1 + Math.floor(r() * 200);
      got.push(...dec.push(stream.subarray(p, p + n)));
      p += n;
    }
    expect(got.length).toBe(frames.length);
    got.forEach((f, i) => {
      expect(f.type).toBe(frames[i]!.type);
      expect(f.seq).toBe(frames[i]!.seq);
      expect(Buffer.from(f.payload).equals(Buffer.from(frames[i]!.payload))).toBe(true);
    });
    expect(dec.stats.corruptFrames).toBe(0);
    expect(dec.stats.garbageBytes).toBe(0);
  });

  it('detects every corrupted frame and keeps the intact ones (bit flips, drops, garbage)', () => {
    const r = rng(7);
    const frames = randomFrames(2000, r);
    const damaged = new Set<number>();
    const parts: Uint8Array[] = [];
    frames.forEach((f, i) => {
      let bytes = encodeFrame(f);
      const roll = r();
      if (roll < 0.05) {
        bytes = bytes.slice();
        const at = Math.floor(r() * bytes.length);
        bytes[at]! ^= 1 << Math.floor(r() * 8);
        damaged.add(i);
      } else if (roll < 0.1) {
        const at = Math.floor(r() * bytes.length);
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
        damaged.add(i);
      } else if (roll < 0.15) {
        const junk = new Uint8Array(1 + Math.floor(r() * 40)).map(() => Math.floor(r() * 256));
        parts.push(junk);
      }
      parts.push(bytes);
    });
    const dec = new FrameDecoder();
    const got = dec.push(Buffer.concat(parts));
    const bySeq = new Map(got.map((f) => [f.seq, f]));
    for (let i = 0; i < frames.length; i++) {
      const f = bySeq.get(i);
      if (damaged.has(i)) {
        // A damaged frame is never delivered as if it were good.
        if (f) expect(Buffer.from(f.payload).equals(Buffer.from(frames[i]!.payload))).toBe(false);
        expect(f).toBeUndefined();
      } else {
        expect(f, `intact frame ${i} lost`).toBeDefined();
        expect(Buffer.from(f!.payload).equals(Buffer.from(frames[i]!.payload))).toBe(true);
      }
    }
    expect(got.length).toBe(frames.length - damaged.size);
    // Each damaged frame shows up as a corrupt frame or a resync.
    expect(dec.stats.corruptFrames + dec.stats.resyncs).toBeGreaterThanOrEqual(damaged.size);
  });

  it('reports the seq of a frame whose payload is corrupt, for a NAK', () => {
    const seen: number[] = [];
    const dec = new FrameDecoder(({ seq }) => seen.push(seq));
    const bytes = encodeFrame({ type: P.MsgType.INPUT, seq: 4242, payload: new Uint8Array(100).fill(3) });
    bytes[50]! ^= 0x10;
    expect(dec.push(bytes)).toEqual([]);
    expect(seen).toEqual([4242]);
    expect(dec.stats.corruptPayloads).toBe(1);
  });
});

describe('message codecs', () => {
  it('round-trip every message', () => {
    const hello: P.Hello = {
      protocolVersion: 1, deviceId: 'MAX78002-virtual', firmwareId: 'qatwb-fw 0.1', modelHash: 0xdeadbeef,
      inputShape: [1, 28, 28], inputBits: 8, outputCount: 10, outputBits: 32, outputWeightBits: 8, layerCount: 4,
    };
    expect(P.decodeHello(P.encodeHello(hello))).toEqual(hello);
    const res: P.Result = { inputCrc: 0x12345678, timeUs: 1234, outputs: Int32Array.of(-5, 2 ** 31 - 1, -(2 ** 31), 0) };
    expect(P.decodeResult(P.encodeResult(res))).toEqual(res);
    const s: P.Sensor = { timeUs: 9, window: Int8Array.of(-128, 127, 0), outputs: Int32Array.of(1, -1) };
    expect(P.decodeSensor(P.encodeSensor(s))).toEqual(s);
    const q: P.LayerReq = { window: 65535, layer: 3, offset: 100, maxCount: 4000 };
    expect(P.decodeLayerReq(P.encodeLayerReq(q))).toEqual(q);
    const d8: P.LayerDump = { window: 1, layer: 2, layerCount: 4, elemBytes: 1, total: 9, offset: 3, data: Int32Array.of(-128, 5, 127) };
    expect(P.decodeLayerDump(P.encodeLayerDump(d8))).toEqual(d8);
    const d32: P.LayerDump = { ...d8, elemBytes: 4, data: Int32Array.of(-70000, 5, 1 << 30) };
    expect(P.decodeLayerDump(P.encodeLayerDump(d32))).toEqual(d32);
    expect(P.decodeError(P.encodeError({ code: 6, message: 'stale window' }))).toEqual({ code: 6, message: 'stale window' });
    expect(P.decodeSensorCtrl(P.encodeSensorCtrl({ enable: true, rateHz: 12.5 }))).toEqual({ enable: true, rateHz: 12.5 });
  });

  it('rejects a short payload with a message naming the message and byte', () => {
    expect(() => P.decodeResult(new Uint8Array(5))).toThrow(/RESULT payload is 5 bytes, too short at byte 4/);
    expect(() => P.decodeResult(new Uint8Array(11))).toThrow(/not a multiple of 4/);
  });
});
