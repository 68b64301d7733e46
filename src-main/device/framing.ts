// Link framing of the device protocol (docs/protocol.md): encode one frame, and an incremental
// decoder that finds frames in a byte stream, resynchronises after garbage and counts bad frames.
// Pure: bytes in, frames out; shared with the C firmware core through test vectors.
//
// Frame (all integers little-endian):
//   0xA5 0x5A | type u8 | seq u16 | len u16 | hcrc u8 | payload[len] | crc32 u32
// hcrc = CRC-8 (poly 0x07, init 0) over type..len, so a corrupted length is caught before the
// decoder waits for a payload that will never come. crc32 = CRC-32/ISO-HDLC (zlib) over
// type..payload (the header check byte excluded).

import { crc32 as crc32Continue } from '../formats/crc32.ts';

export const SYNC0 = 0xa5;
export const SYNC1 = 0x5a;
export const HEADER_BYTES = 8;
export const TRAILER_BYTES = 4;
export const FRAME_OVERHEAD = HEADER_BYTES + TRAILER_BYTES;
/** Largest payload a frame may carry; longer layer dumps are split into chunks. */
export const MAX_PAYLOAD = 16384;

export interface Frame {
  type: number;
  /** 16-bit sequence number; the reply to a request carries the request's seq. */
  seq: number;
  payload: Uint8Array;
}

/** CRC-32/ISO-HDLC (zlib, Ethernet) of bytes[start, end), continuing from `seed`; the zip reader's table. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length, seed = 0): number {
  return crc32Continue(bytes.subarray(start, end), seed);
}

/** CRC-8 poly 0x07, init 0, no reflection (CRC-8/SMBUS). */
export function crc8(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0;
  for (let i = start; i < end; i++) {
    c ^= bytes[i]!;
    for (let k = 0; k < 8; k++) c = c & 0x80 ? ((c << 1) ^ 0x07) & 0xff : (c << 1) & 0xff;
  }
  return c;
}

export function encodeFrame(frame: Frame): Uint8Array {
  const len = frame.payload.length;
  if (len > MAX_PAYLOAD) throw new RangeError(`Frame payload of ${len} bytes exceeds the ${MAX_PAYLOAD}-byte limit.`);
  const out = new Uint8Array(FRAME_OVERHEAD + len);
  out[0] = SYNC0;
  out[1] = SYNC1;
  out[2] = frame.type & 0xff;
  out[3] = frame.seq & 0xff;
  out[4] = (frame.seq >>> 8) & 0xff;
  out[5] = len & 0xff;
  out[6] = len >>> 8;
  out[7] = crc8(out, 2, 7);
  out.set(frame.payload, HEADER_BYTES);
  const crc = crc32(out, 2, 7, 0);
  const full = crc32(out, HEADER_BYTES, HEADER_BYTES + len, crc);
  const p = HEADER_BYTES + len;
  out[p] = full & 0xff;
  out[p + 1] = (full >>> 8) & 0xff;
  out[p + 2] = (full >>> 16) & 0xff;
  out[p + 3] = full >>> 24;
  return out;
}

export interface DecoderStats {
  /** Frames delivered with a good CRC. */
  frames: number;
  /** Frames whose header check or CRC failed (each one is dropped). */
  corruptFrames: number;
  /** Of those, frames whose header was intact (seq known: the receiver can NAK it). */
  corruptPayloads: number;
  /** Bytes skipped while hunting for a sync pattern. */
  garbageBytes: number;
  /** Runs of skipped bytes (each one a place where the stream lost sync). */
  resyncs: number;
}

/** Called for a frame whose header was good but whose payload CRC failed. */
export type CorruptHandler = (info: { type: number; seq: number }) => void;

/**
 * Incremental decoder: push() any chunking of the stream, get whole frames back. After a bad
 * frame it rescans from the byte after the bad sync, so a good frame hidden inside a bad one
 * (a dropped byte merged two frames) is still found.
 */
export class FrameDecoder {
  readonly stats: DecoderStats = { frames: 0, corruptFrames: 0, corruptPayloads: 0, garbageBytes: 0, resyncs: 0 };
  private buf = new Uint8Array(4096);
  private start = 0;
  private end = 0;
  private inGarbage = false;

  constructor(private readonly onCorrupt?: CorruptHandler) {}

  /** Bytes buffered but not yet a whole frame. */
  get pending(): number {
    return this.end - this.start;
  }

  /** Drops a partial frame (after a reconnect, say). */
  reset(): void {
    this.start = this.end = 0;
    this.inGarbage = false;
  }

  push(chunk: Uint8Array): Frame[] {
    this.append(chunk);
    const frames: Frame[] = [];
    const b = this.buf;
    for (;;) {
      // Hunt for the sync pattern.
      let i = this.start;
      while (i < this.end && !(b[i] === SYNC0 && (i + 1 >= this.end || b[i + 1] === SYNC1))) i++;
      if (i > this.start) this.skip(i - this.start);
      if (this.end - this.start < HEADER_BYTES) break;
      const s = this.start;
      if (crc8(b, s + 2, s + 7) !== b[s + 7]) {
        this.bad(false);
        continue;
      }
      const len = b[s + 5]! | (b[s + 6]! << 8);
      if (len > MAX_PAYLOAD) {
        this.bad(false);
        continue;
      }
      const total = FRAME_OVERHEAD + len;
      if (this.end - s < total) break;
      const type = b[s + 2]!;
      const seq = b[s + 3]! | (b[s + 4]! << 8);
      const crc = crc32(b, s + HEADER_BYTES, s + HEADER_BYTES + len, crc32(b, s + 2, s + 7));
      const p = s + HEADER_BYTES + len;
      const got = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
      if (crc !== got) {
        this.bad(true);
        this.onCorrupt?.({ type, seq });
        continue;
      }
      frames.push({ type, seq, payload: b.slice(s + HEADER_BYTES, p) });
      this.stats.frames++;
      this.inGarbage = false;
      this.start = s + total;
    }
    if (this.start === this.end) this.start = this.end = 0;
    return frames;
  }

  private bad(headerGood: boolean): void {
    this.stats.corruptFrames++;
    if (headerGood) this.stats.corruptPayloads++;
    // Skip only the first sync byte: the real next frame may start inside this one.
    this.start++;
    this.inGarbage = false;
  }

  private skip(n: number): void {
    this.stats.garbageBytes += n;
    if (!this.inGarbage) this.stats.resyncs++;
    this.inGarbage = true;
    this.start += n;
  }

  private append(chunk: Uint8Array): void {
    const need = this.end + chunk.length;
    if (need > this.buf.length) {
      const live = this.end - this.start;
      if (live + chunk.length <= this.buf.length) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        const next = new Uint8Array(Math.max(this.buf.length * 2, live + chunk.length));
        next.set(this.buf.subarray(this.start, this.end));
        this.buf = next;
      }
      this.start = 0;
      this.end = live;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }
}
